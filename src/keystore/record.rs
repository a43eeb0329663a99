//! What the index holds of each key (its record, and where it stands in its rotation) and
//! how a key stands against the keychain. Plain data, apart from the store's operations,
//! which the window and the command line read without going through the store.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::keys::{Algorithm, KeyError, PrivateKey, PublicKey};

/// Why a key is replaced: a planned rotation, or a key that leaked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceReason {
    /// A planned rotation (a certificate near its end, a person who left): the old key is
    /// retired, and signing with it warns.
    Planned,
    /// The key leaked or may have: signing with it is refused.
    Compromised,
}

impl ReplaceReason {
    /// How the old key stands afterwards, as a past participle: `retired`, `marked compromised`.
    pub fn marked(self) -> &'static str {
        match self {
            ReplaceReason::Planned => "retired",
            ReplaceReason::Compromised => "marked compromised",
        }
    }
}

/// Where a key stands in its rotation. Indexes written before rotation existed read as
/// [`Active`](KeyStatus::Active).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyStatus {
    /// In use.
    #[default]
    Active,
    /// Replaced in a planned rotation: it still signs, with a warning.
    Retired {
        /// When it was replaced (whole seconds, UTC; RFC 3339 in the index).
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        /// The name of the key that replaced it (kept up to date when that key is renamed).
        replaced_by: String,
    },
    /// Replaced because it leaked: Countersign does not sign with it.
    Compromised {
        /// When it was marked compromised (whole seconds, UTC; RFC 3339 in the index).
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        /// The name of the key that replaced it (kept up to date when that key is renamed).
        replaced_by: String,
    },
}

impl KeyStatus {
    /// Why, when and by what the key was replaced; `None` while it is active.
    pub fn replaced(&self) -> Option<(ReplaceReason, OffsetDateTime, &str)> {
        match self {
            KeyStatus::Active => None,
            KeyStatus::Retired { since, replaced_by } => Some((ReplaceReason::Planned, *since, replaced_by)),
            KeyStatus::Compromised { since, replaced_by } => {
                Some((ReplaceReason::Compromised, *since, replaced_by))
            }
        }
    }

    pub(super) fn replaced_by_mut(&mut self) -> Option<&mut String> {
        match self {
            KeyStatus::Active => None,
            KeyStatus::Retired { replaced_by, .. } | KeyStatus::Compromised { replaced_by, .. } => {
                Some(replaced_by)
            }
        }
    }
}

impl std::fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.replaced() {
            None => f.write_str("active"),
            Some((reason, since, by)) => {
                write!(f, "{} on {}, replaced by \"{by}\"", reason.marked(), crate::certs::day(since))
            }
        }
    }
}

/// What the index knows of one key. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Names the keychain entry; never changes.
    pub id: String,
    /// The key's name as the user chose it: 1 to 64 characters, unique in the store ignoring
    /// ASCII case.
    pub name: String,
    /// The algorithm the key signs with.
    pub algorithm: Algorithm,
    /// PEM SubjectPublicKeyInfo.
    pub public_key: String,
    /// SHA-256 of the public key (DER SubjectPublicKeyInfo), lower-case hex.
    pub fingerprint: String,
    /// When the key was added to the store: RFC 3339, UTC.
    pub created: String,
    /// When the key last signed: RFC 3339, UTC; `None` when it never has.
    pub last_used: Option<String>,
    /// Certificates for this key, newest last, PEM (the signer's first in each, then its chain).
    #[serde(default)]
    pub certificates: Vec<String>,
    /// When [`KeyStore::backup`] last wrote a backup of the key (whole seconds, UTC); `None`
    /// when it never has. Stored as RFC 3339; indexes written before it existed read as `None`.
    ///
    /// [`KeyStore::backup`]: super::KeyStore::backup
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_backed_up: Option<OffsetDateTime>,
    /// Whether the key was replaced, and why; indexes written before it existed read as
    /// [`KeyStatus::Active`].
    #[serde(default)]
    pub status: KeyStatus,
}

impl KeyRecord {
    /// A record, made now, for `key` kept in keychain entry `id`.
    pub(super) fn new_for(id: String, name: String, key: &PrivateKey) -> Self {
        let public = key.public_key();
        KeyRecord {
            id,
            name,
            algorithm: key.algorithm(),
            public_key: public.to_spki_pem(),
            fingerprint: public.fingerprint(),
            created: crate::certs::rfc3339(OffsetDateTime::now_utc()),
            last_used: None,
            certificates: Vec::new(),
            last_backed_up: None,
            status: KeyStatus::Active,
        }
    }

    /// The key's name as a safe file stem (for `<stem>.crt` in bundles and trust stores).
    pub fn file_stem(&self) -> String {
        self.name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .collect()
    }

    /// The public key, parsed from [`public_key`](Self::public_key).
    pub fn public(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_file_bytes(self.public_key.as_bytes(), &format!("key \"{}\"", self.name))
    }
}

/// How a listed key stands against the keychain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHealth {
    /// The keychain entry holds the key the index records.
    Ok,
    /// The index lists it; the keychain has no entry for it.
    SecretMissing,
    /// The keychain entry holds another key (or something unreadable).
    SecretMismatch {
        /// The public key fingerprint of the key the entry holds, or `unreadable`.
        found: String,
    },
}
