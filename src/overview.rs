//! One overview of every stored key: what the window's Keys view and `countersign keys list`
//! both show, put together once, here, so that the two faces say the same about a key.
//!
//! For each key: its record (name, algorithm, fingerprint, creation, last use, last backup,
//! rotation status), where it lives, how its keychain entry stands, its certificates and the
//! state of the current one, and, for a replaced key, how far its replacement got.

use std::fmt;

use time::OffsetDateTime;

use crate::certs::{Certificate, ValidityState};
use crate::keystore::{KeyHealth, KeyRecord, KeyStore, KeyStoreError};
use crate::rotation::{Replacements, Steps};

/// Where a key's private half lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    /// The operating system's keychain (Secret Service, macOS Keychain, Windows Credential
    /// Manager), under the key's id.
    Keychain,
}

impl fmt::Display for KeyLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyLocation::Keychain => f.write_str("the system keychain"),
        }
    }
}

/// How a key's keychain entry stands, in words every face uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainState {
    /// The entry holds the key the list records.
    Ok,
    /// The list names the key; the keychain has no entry for it.
    Missing,
    /// The entry holds another key (its fingerprint), or something unreadable.
    Mismatch {
        /// The fingerprint of what the entry holds, or `unreadable`.
        found: String,
    },
    /// The keychain could not be asked (the reason, in words).
    Unknown(String),
}

impl KeychainState {
    fn of(health: Result<KeyHealth, KeyStoreError>) -> Self {
        match health {
            Ok(KeyHealth::Ok) => KeychainState::Ok,
            Ok(KeyHealth::SecretMissing) => KeychainState::Missing,
            Ok(KeyHealth::SecretMismatch { found }) => KeychainState::Mismatch { found },
            Err(e) => KeychainState::Unknown(e.to_string()),
        }
    }

    /// True when the key can sign as far as the keychain goes.
    pub fn is_ok(&self) -> bool {
        *self == KeychainState::Ok
    }

    /// What is wrong, as a sentence's middle ("missing from the keychain"); `None` when the
    /// entry is fine.
    pub fn problem(&self) -> Option<String> {
        (!self.is_ok()).then(|| self.to_string())
    }
}

impl fmt::Display for KeychainState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeychainState::Ok => f.write_str("ok"),
            KeychainState::Missing => f.write_str("missing from the keychain"),
            KeychainState::Mismatch { found } => write!(f, "the keychain holds another key ({found})"),
            KeychainState::Unknown(why) => write!(f, "could not be checked ({why})"),
        }
    }
}

/// Everything both faces show of one key.
#[derive(Debug, Clone)]
pub struct KeyOverview {
    /// The key's record as the list holds it: name, algorithm, fingerprint, created, last
    /// used, last backed up, rotation status.
    pub record: KeyRecord,
    /// Where the private key lives.
    pub location: KeyLocation,
    /// How its keychain entry stands.
    pub keychain: KeychainState,
    /// Its certificates that could be read, oldest first, each signer first.
    pub chains: Vec<Vec<Certificate>>,
    /// For a replaced key: how far its replacement got (steps 2 to 4).
    pub steps: Option<Steps>,
    /// Why those steps could not be read.
    pub steps_problem: Option<String>,
}

impl KeyOverview {
    /// The key's current certificate: the signer of the newest one that could be read.
    pub fn current_certificate(&self) -> Option<&Certificate> {
        self.chains.last().and_then(|c| c.first())
    }

    /// Where the current certificate stands at `now`; `None` without one.
    pub fn certificate_state(&self, now: OffsetDateTime) -> Option<ValidityState> {
        self.current_certificate().map(|c| c.validity_at(now))
    }

    /// The current certificate's state in words (see [`certificate_summary`]).
    pub fn certificate_summary(&self, now: OffsetDateTime) -> String {
        certificate_summary(&self.record, now)
    }
}

/// The state of a key's newest stored certificate in words: "none", "unreadable (...)", or its
/// validity at `now`. From the record alone: it asks no keychain.
pub fn certificate_summary(record: &KeyRecord, now: OffsetDateTime) -> String {
    let Some(pem) = record.certificates.last() else { return "none".to_owned() };
    match Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate") {
        Ok(chain) => chain.first().map_or_else(|| "none".to_owned(), |c| c.validity_at(now).to_string()),
        Err(e) => format!("unreadable ({e})"),
    }
}

impl KeyStore {
    /// Every listed key with its keychain health, certificates and rotation state: what the
    /// Keys view and `keys list` show. Asks the keychain once per key.
    pub fn overview(&self) -> Result<Vec<KeyOverview>, KeyStoreError> {
        let replacements = Replacements::in_home(self.home());
        Ok(self.list()?.into_iter().map(|record| self.overview_with(record, &replacements)).collect())
    }

    /// The overview of one key, from its record (as an operation on it returned the record).
    pub fn overview_of(&self, record: KeyRecord) -> KeyOverview {
        self.overview_with(record, &Replacements::in_home(self.home()))
    }

    fn overview_with(&self, record: KeyRecord, replacements: &Replacements) -> KeyOverview {
        let keychain = KeychainState::of(self.health(&record));
        let chains = self.certificates(&record);
        let (steps, steps_problem) = match record.status.replaced() {
            Some(_) => match replacements.get(&record.id) {
                Ok(steps) => (Some(steps), None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, None),
        };
        KeyOverview { record, location: KeyLocation::Keychain, keychain, chains, steps, steps_problem }
    }
}
