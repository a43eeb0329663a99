//! The signing use case, as both faces offer it: a key (from the keychain or from a file) with
//! its certificate signs one or many artifacts, and each signing is recorded (the stored key's
//! last use, the history entry). The window and the command line gather the inputs and show
//! the results; what happens in between is here, once.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::batch::{self, BatchError, BatchRequest, Existing, Layout};
use crate::bundle::{CertificateInput, SignedBundle};
use crate::certs::CertError;
use crate::history::{History, HistoryError};
use crate::keys::PrivateKey;
use crate::keystore::{KeyRecord, KeyStatus, KeyStore, KeyStoreError};
use crate::progress::Progress;

/// Why a signer could not be made from a stored key.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The key store or keychain refused (no such key, locked keychain, …).
    #[error(transparent)]
    Store(#[from] KeyStoreError),
    /// The certificate kept with the key does not parse.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The key was marked compromised when it was replaced: whoever holds a copy can sign
    /// too, so Countersign does not sign with it.
    #[error("Key \"{name}\" was marked compromised on {} and replaced by \"{replaced_by}\": Countersign does not sign with it. Sign with \"{replaced_by}\", or delete \"{name}\".", crate::certs::day(*since))]
    Compromised {
        /// The compromised key's name.
        name: String,
        /// When it was marked compromised.
        since: OffsetDateTime,
        /// The key that replaced it.
        replaced_by: String,
    },
    /// A key file holds a key that this machine's key list marked compromised (a backup of
    /// it, say): refused like the stored key.
    #[error("This key file holds key \"{name}\", which was marked compromised on {} and replaced by \"{replaced_by}\": Countersign does not sign with it, from the keychain or from a file. Sign with \"{replaced_by}\".", crate::certs::day(*since))]
    CompromisedKeyFile {
        /// The compromised key's name in the key list.
        name: String,
        /// When it was marked compromised.
        since: OffsetDateTime,
        /// The key that replaced it.
        replaced_by: String,
    },
}

/// Whether `record` may sign: `Err` when it was marked compromised
/// ([`SignerError::Compromised`]); `Ok(Some(warning))` when it was retired, with the
/// sentence to show beside each result; `Ok(None)` when it is active. [`Signer::stored`]
/// asks it of every signing; the window asks it too, to say it before Sign is pressed.
pub fn standing(record: &KeyRecord) -> Result<Option<String>, SignerError> {
    match &record.status {
        KeyStatus::Active => Ok(None),
        KeyStatus::Retired { since, replaced_by } => Ok(Some(format!(
            "Key \"{}\" was retired on {} and replaced by \"{replaced_by}\": sign with \"{replaced_by}\" unless this customer's trust store still holds only the old certificate.",
            record.name,
            crate::certs::day(*since)
        ))),
        KeyStatus::Compromised { since, replaced_by } => Err(SignerError::Compromised {
            name: record.name.clone(),
            since: *since,
            replaced_by: replaced_by.clone(),
        }),
    }
}

/// A private key and the certificate its bundles carry.
pub struct Signer {
    key: PrivateKey,
    certificate: Option<CertificateInput>,
    /// The key store and the key's name, when the key is a stored one: its last use is saved.
    stored: Option<(KeyStore, String)>,
    /// Said beside every result: the key was retired, or is compromised and signs anyway.
    warning: Option<String>,
    /// The key is compromised and signs only because the person said they know: every
    /// history entry records it.
    override_compromised: bool,
}

impl Signer {
    /// A key from the keychain, with the newest certificate kept with it (none if it has none).
    /// A key marked compromised is refused ([`SignerError::Compromised`]) before its secret
    /// is read; a retired one signs, with a warning beside each result.
    pub fn stored(store: KeyStore, name: &str) -> Result<Self, SignerError> {
        Self::stored_with(store, name, false)
    }

    /// [`stored`](Self::stored), signing with a key marked compromised too, because the
    /// person said explicitly that they know: each result warns, and each history entry
    /// records it ([`Entry::override_compromised`](crate::history::Entry::override_compromised)).
    pub fn stored_despite_compromise(store: KeyStore, name: &str) -> Result<Self, SignerError> {
        Self::stored_with(store, name, true)
    }

    fn stored_with(store: KeyStore, name: &str, despite_compromise: bool) -> Result<Self, SignerError> {
        // Asked of the index first, so a refused key's secret is never read; then again of
        // the record loaded with the secret, in case it was marked meanwhile.
        let permitted = |record: &KeyRecord| match standing(record) {
            Ok(warning) => Ok((warning, false)),
            Err(SignerError::Compromised { name, since, replaced_by }) if despite_compromise => Ok((
                Some(format!(
                    "Key \"{name}\" was marked compromised on {} and replaced by \"{replaced_by}\"; it signed anyway, as asked, and the history records that.",
                    crate::certs::day(since)
                )),
                true,
            )),
            Err(e) => Err(e),
        };
        permitted(&store.get(name)?)?;
        let (record, key) = store.load(name)?;
        let (warning, override_compromised) = permitted(&record)?;
        let certificate = CertificateInput::from_record(&record)?;
        Ok(Signer { key, certificate, stored: Some((store, record.name)), warning, override_compromised })
    }

    /// A key read from a file (or made in memory): no certificate until one is given.
    pub fn from_key(key: PrivateKey) -> Self {
        Signer { key, certificate: None, stored: None, warning: None, override_compromised: false }
    }

    /// [`from_key`](Self::from_key) for a key read from a file, checked against the key list
    /// in data folder `home`: a key that list marked compromised is refused
    /// ([`SignerError::CompromisedKeyFile`]) and a retired one warns, as when stored. A key
    /// the list does not hold, or a list that cannot be read (a build machine without
    /// Countersign's data folder), signs as before.
    pub fn from_key_file(key: PrivateKey, home: &std::path::Path) -> Result<Self, SignerError> {
        let fingerprint = key.public_key().fingerprint();
        let records = match crate::keystore::records_in(home) {
            Ok(records) => records,
            // Said beside each result rather than refused: the key list is this machine's, and
            // a build machine's may be anything; but not passed over in silence.
            Err(e) => {
                let warning = format!(
                    "Countersign could not read this machine's key list, so it could not check whether this key was marked compromised: {e}"
                );
                return Ok(Signer { warning: Some(warning), ..Self::from_key(key) });
            }
        };
        let known = records.into_iter().find(|r| r.fingerprint.eq_ignore_ascii_case(&fingerprint));
        let warning = match known.as_ref().map(standing) {
            None => None,
            Some(Ok(warning)) => warning,
            Some(Err(SignerError::Compromised { name, since, replaced_by })) => {
                return Err(SignerError::CompromisedKeyFile { name, since, replaced_by });
            }
            Some(Err(e)) => return Err(e),
        };
        Ok(Signer { warning, ..Self::from_key(key) })
    }

    /// Signs with this certificate instead of the stored key's own.
    pub fn with_certificate(mut self, certificate: CertificateInput) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// The private key that signs.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The stored key's name, when the key came from the keychain.
    pub fn key_name(&self) -> Option<&str> {
        self.stored.as_ref().map(|(_, name)| name.as_str())
    }
}

/// How the bundles are written: the same for every artifact of one call.
pub struct SignOptions {
    /// Where the bundles go.
    pub layout: Layout,
    /// The person's note (customer, ticket), kept in the manifest and the history.
    pub note: Option<String>,
    /// Also write `<stem>-signed.zip` into each bundle.
    pub zip: bool,
    /// What to do when a bundle of that name exists already.
    pub existing: Existing,
    /// The signing time written into every manifest.
    pub now: OffsetDateTime,
}

/// One artifact signed: its bundle, and every warning about it (the signing's own, then the
/// bookkeeping's: a history or last-use record that could not be saved).
pub struct Signed {
    /// The bundle as written.
    pub bundle: SignedBundle,
    /// Sentences to show beside the result; none of them undoes the signing.
    pub warnings: Vec<String>,
}

/// Signs every artifact with `signer`, as many at once as the machine has cores, and records
/// each signing in `history` (or warns, beside the result, that the history could not be
/// opened). `progress` holds one handle per artifact; `on_done` hears each result, with its
/// warnings, as soon as it is recorded, from the thread that made it. The results come back
/// in the order of `artifacts`: a bad artifact fails alone, the others still get bundles.
pub fn sign(
    signer: &Signer,
    artifacts: &[PathBuf],
    options: SignOptions,
    history: &Result<History, HistoryError>,
    progress: &[Progress],
    on_done: impl Fn(usize, Result<(&SignedBundle, &[String]), &BatchError>) + Sync,
) -> Vec<Result<Signed, BatchError>> {
    let request = BatchRequest {
        artifacts,
        key: &signer.key,
        certificate: signer.certificate.as_ref(),
        layout: options.layout,
        note: options.note,
        zip: options.zip,
        existing: options.existing,
        now: options.now,
    };
    let stored_key = signer.stored.as_ref().map(|(store, name)| (store, name.as_str()));
    // Each job records its own signing and leaves the warnings in its slot.
    let warnings: Vec<Mutex<Vec<String>>> = artifacts.iter().map(|_| Mutex::new(Vec::new())).collect();
    let results = batch::sign_many(&request, progress, |i, result| match result {
        Ok(bundle) => {
            let mut all: Vec<String> = signer.warning.iter().cloned().collect();
            all.extend(bundle.warnings.iter().cloned());
            match history {
                Ok(history) => {
                    all.extend(batch::record(bundle, stored_key, history, signer.override_compromised));
                }
                Err(e) => all.push(e.to_string()),
            }
            on_done(i, Ok((bundle, &all)));
            *lock(&warnings[i]) = all;
        }
        Err(e) => on_done(i, Err(e)),
    });
    results
        .into_iter()
        .zip(warnings)
        .map(|(result, warnings)| {
            result.map(|bundle| Signed {
                bundle,
                warnings: warnings.into_inner().unwrap_or_else(PoisonError::into_inner),
            })
        })
        .collect()
}

/// A job's slot; a panic in another job does not make it unusable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
