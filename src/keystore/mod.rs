//! Vendor keys kept for the user: private keys in the OS keychain, and everything that is
//! not secret (name, algorithm, public key, fingerprint, dates, certificates) in a small
//! index file in the app's data folder.
//!
//! The index is read and rewritten whole under an exclusive lock on a lock file beside it,
//! so two processes (the window and a command line) cannot interleave their changes, and
//! written atomically, so a crash leaves the old index or the new one. The keychain entry
//! is named by a random id that never changes, so renaming a key touches only the index.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::certs::{CertError, Certificate};
use crate::keys::{Algorithm, KeyError, PrivateKey, PublicKey};

#[cfg(target_os = "linux")]
mod kernel;
mod secrets;

pub use secrets::{KEYCHAIN_ENV, KeychainProblem, Secrets};

/// Environment variable overriding the data folder (tests, portable use).
pub const HOME_ENV: &str = "COUNTERSIGN_HOME";
/// Environment variable overriding the keychain service name (tests keep apart with it).
pub const SERVICE_ENV: &str = "COUNTERSIGN_KEYCHAIN_SERVICE";
/// The keychain service name Countersign's entries are filed under, unless [`SERVICE_ENV`] names another.
pub const DEFAULT_SERVICE: &str = "countersign";
/// The key index's file name in the data folder.
pub const INDEX_FILE: &str = "keys.json";
const LOCK_FILE: &str = "keys.lock";
const INDEX_FORMAT: u32 = 1;
const MAX_INDEX_BYTES: u64 = 16 << 20;

/// Why the key store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The keychain could not be reached, or refused the request.
    #[error("The system keychain is not available: {}. A pipeline without a keychain can sign with a key file instead (an encrypted backup, its passphrase in COUNTERSIGN_PASSPHRASE). (Keychain said: {detail})", .problem.explain())]
    Keychain {
        /// Which way the keychain failed; the message explains it and how to fix it.
        problem: KeychainProblem,
        /// The keychain's own words.
        detail: String,
    },
    /// No key of that name is listed.
    #[error("There is no key named \"{0}\".")]
    NoSuchKey(String),

    /// `COUNTERSIGN_KEYCHAIN` names no keychain Countersign knows.
    #[error(
        "COUNTERSIGN_KEYCHAIN is \"{0}\", which names no keychain Countersign knows. Leave it unset for the system keychain, or set it to \"kernel\" (Linux only) for the kernel's session keyring."
    )]
    UnknownKeychain(String),
    /// Another key has that name already (names are compared ignoring ASCII case).
    #[error("A key named \"{0}\" exists already. Choose another name, or rename the existing key first.")]
    NameTaken(String),
    /// The name is empty, longer than 64 characters, has leading or trailing spaces, or
    /// control characters.
    #[error(
        "\"{0}\" cannot be a key name: use 1 to 64 characters, without control characters or leading and trailing spaces."
    )]
    BadName(String),
    /// The index lists the key, but the keychain has no entry for it.
    #[error(
        "The key \"{name}\" is listed, but its private key is missing from the keychain (deleted outside Countersign, or this index came from another machine). Delete it, then restore it from a backup under the same name."
    )]
    SecretMissing {
        /// The key's name.
        name: String,
    },
    /// The key's keychain entry holds another key than the one the index records.
    #[error(
        "The keychain entry of key \"{name}\" holds a different key than the index records (public key {found} instead of {expected}). Countersign will not sign with it; restore the key from a backup."
    )]
    SecretMismatch {
        /// The key's name.
        name: String,
        /// The public key fingerprint the index records.
        expected: String,
        /// The public key fingerprint of the key in the keychain entry.
        found: String,
    },
    /// The key to import or restore is stored already (the same public key), under `name`.
    #[error(
        "This key is already stored as \"{name}\"; nothing was imported. Use that key, or delete it first to import it again."
    )]
    AlreadyStored {
        /// The name of the stored key with the same public key.
        name: String,
    },
    /// A key file (a backup, say) carries a certificate after the key that is not for that
    /// key: the first certificate, the signer's, carries another public key.
    #[error("{} holds a certificate for another key (public key {cert_key}) than its private key (public key {key}); nothing was imported. Import the key from a copy of the file without its CERTIFICATE blocks, then import the certificate made for it.", .path.display())]
    CertificateNotForKey {
        /// The key file.
        path: PathBuf,
        /// The fingerprint of the file's private key's public key.
        key: String,
        /// The fingerprint of the certificate's public key.
        cert_key: String,
    },
    /// The keychain has no Countersign entry with that id (to adopt).
    #[error(
        "The keychain holds no Countersign entry {0}; the list of keys names the entries that no key lists."
    )]
    NoSuchEntry(String),
    /// The keychain entry to adopt is listed already, as another key.
    #[error("Keychain entry {id} is already the key \"{name}\"; rename that key instead.")]
    EntryListed {
        /// The keychain entry's id.
        id: String,
        /// The name of the key that lists it.
        name: String,
    },
    /// The key index cannot be read, does not parse, is of a newer format, or cannot be encoded.
    #[error("The key index {} is damaged ({detail}). Your private keys are untouched in the keychain; move the file away and restore keys from backups, or restore the file from a backup.", .path.display())]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// What is wrong, as a phrase.
        detail: String,
    },
    /// The data folder, or the index's lock file in it, could not be made, opened or locked.
    #[error("Could not use the data folder {}: {source}. Check that it is writable, or set COUNTERSIGN_HOME to another folder.", .path.display())]
    Io {
        /// The data folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither `COUNTERSIGN_HOME` nor the platform names a data folder for this user.
    #[error(
        "No data folder could be found for this user. Set COUNTERSIGN_HOME to a folder for Countersign's key index."
    )]
    NoHome,
    /// A certificate to keep with a key does not carry that key's public key (or is no certificate).
    #[error("That certificate is for another key (public key {cert_key}{}), not for key \"{name}\". Import it for the key it was made for, or request a certificate for \"{name}\".", .owner.as_ref().map(|o| format!(", which is stored key \"{o}\"")).unwrap_or_default())]
    CertificateForOtherKey {
        /// The name of the key it was to be kept with.
        name: String,
        /// The fingerprint of the certificate's public key; `nothing` for an empty chain.
        cert_key: String,
        /// The stored key whose public key the certificate carries; `None` when no stored key's.
        owner: Option<String>,
    },
    /// A certificate file to import could not be read.
    #[error("Could not read the certificate {}: {source}.", .path.display())]
    ReadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key to replace has been replaced already (retired or marked compromised).
    #[error("Key \"{name}\" was already {} on {} and replaced by \"{replaced_by}\"; nothing was changed. Replace \"{replaced_by}\" instead, if it is the one to replace now.", .reason.marked(), crate::certs::day(*since))]
    AlreadyReplaced {
        /// The key's name.
        name: String,
        /// Why it was replaced then.
        reason: ReplaceReason,
        /// When.
        since: OffsetDateTime,
        /// The name its replacement had then.
        replaced_by: String,
    },
    /// The key to replace has no certificate, so there is no subject for its successor's.
    #[error(
        "Key \"{0}\" has no certificate, so there is no subject to give its replacement; nothing was changed. Make a certificate for \"{0}\" first, or make a new key and its certificate from scratch."
    )]
    NoCertificateToReplace(String),
    /// A certificate was to be renewed for a key that has none yet.
    #[error("Key \"{0}\" has no certificate to renew yet. Make a self-signed one first.")]
    NoCertificate(String),
    /// A self-signed certificate was asked for with a validity outside 1 to
    /// [`MAX_VALIDITY_DAYS`](crate::certs::MAX_VALIDITY_DAYS) days.
    #[error("A certificate cannot be valid for {0} days: choose between 1 and {max} (ten years).", max = crate::certs::MAX_VALIDITY_DAYS)]
    BadValidity(u32),
    /// A certificate could not be read or made.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// A key could not be made, read or encoded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The index could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
}

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

    fn replaced_by_mut(&mut self) -> Option<&mut String> {
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
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_backed_up: Option<OffsetDateTime>,
    /// Whether the key was replaced, and why; indexes written before it existed read as
    /// [`KeyStatus::Active`].
    #[serde(default)]
    pub status: KeyStatus,
}

impl KeyRecord {
    /// A record, made now, for `key` kept in keychain entry `id`.
    fn new_for(id: String, name: String, key: &PrivateKey) -> Self {
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

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    format_version: u32,
    keys: Vec<KeyRecord>,
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

/// What [`KeyStore::backup`] wrote.
#[derive(Debug)]
pub struct BackupWritten {
    /// The key's record: as the index now holds it, [`last_backed_up`](KeyRecord::last_backed_up)
    /// set, unless the date could not be recorded (then as it was before the backup).
    pub record: KeyRecord,
    /// How many certificates follow the key in the backup: its current chain, signer first;
    /// 0 when it has no certificate.
    pub certificates: usize,
    /// Why the index could not record the backup's date (the key was deleted meanwhile, the
    /// index could not be written). The backup file itself is complete either way.
    pub not_recorded: Option<KeyStoreError>,
}

/// What [`KeyStore::replace`] did.
#[derive(Debug)]
pub struct Replaced {
    /// The old key's record, as the index now holds it: retired or compromised.
    pub old: KeyRecord,
    /// The new key's record, its certificate kept with it.
    pub new: KeyRecord,
    /// The new key's self-signed certificate, with the old certificate's subject.
    pub certificate: Certificate,
}

/// A key store: the index in `home` and the secrets in `secrets`.
#[derive(Debug, Clone)]
pub struct KeyStore {
    home: PathBuf,
    secrets: Secrets,
}

/// The data folder: `COUNTERSIGN_HOME`, else the platform's (e.g. `~/.local/share/countersign`).
pub fn default_home() -> Result<PathBuf, KeyStoreError> {
    if let Some(h) = std::env::var_os(HOME_ENV).filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    directories::ProjectDirs::from("", "", "countersign")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(KeyStoreError::NoHome)
}

impl KeyStore {
    /// The user's key store: default home, the OS keychain.
    pub fn open_default() -> Result<Self, KeyStoreError> {
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        Ok(KeyStore { home: default_home()?, secrets: Secrets::configured(&service)? })
    }

    /// A key store with its index in the data folder `home` and its private keys in `secrets`.
    pub fn new(home: PathBuf, secrets: Secrets) -> Self {
        KeyStore { home, secrets }
    }

    /// The data folder that holds the index (and, beside it, the history and the progress of
    /// key replacements).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The index file, [`INDEX_FILE`] in the data folder (which need not exist yet).
    pub fn index_path(&self) -> PathBuf {
        self.home.join(INDEX_FILE)
    }

    fn io(&self, source: std::io::Error) -> KeyStoreError {
        KeyStoreError::Io { path: self.home.clone(), source }
    }

    fn ensure_home(&self) -> Result<(), KeyStoreError> {
        std::fs::create_dir_all(&self.home).map_err(|e| self.io(e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.home, std::fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// Holds the index lock for as long as the returned file lives.
    fn lock(&self) -> Result<File, KeyStoreError> {
        self.ensure_home()?;
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.home.join(LOCK_FILE))
            .map_err(|e| self.io(e))?;
        f.lock().map_err(|e| self.io(e))?;
        Ok(f)
    }

    fn read_index(&self) -> Result<Index, KeyStoreError> {
        read_index_at(self.index_path())
    }

    fn write_index(&self, index: &Index) -> Result<(), KeyStoreError> {
        let json = serde_json::to_vec_pretty(index)
            .map_err(|e| KeyStoreError::BadIndex { path: self.index_path(), detail: e.to_string() })?;
        crate::atomic::write_owner_only(&self.index_path(), &json, true)?;
        Ok(())
    }

    /// Reads, changes and writes the index under the lock.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Index) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        let _lock = self.lock()?;
        self.update_locked(change)
    }

    /// [`update`](Self::update) for a caller that holds the lock already.
    fn update_locked<T>(
        &self,
        change: impl FnOnce(&mut Index) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        let mut index = self.read_index()?;
        index.format_version = INDEX_FORMAT;
        let out = change(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
    }

    /// All keys, in the order they were added.
    pub fn list(&self) -> Result<Vec<KeyRecord>, KeyStoreError> {
        if !self.index_path().exists() {
            return Ok(Vec::new());
        }
        let _lock = self.lock()?;
        Ok(self.read_index()?.keys)
    }

    /// The record of the key named exactly `name`.
    pub fn get(&self, name: &str) -> Result<KeyRecord, KeyStoreError> {
        self.list()?
            .into_iter()
            .find(|k| k.name == name)
            .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_owned()))
    }

    /// Makes a new key in the keychain and lists it.
    pub fn generate(&self, name: &str, algorithm: Algorithm) -> Result<KeyRecord, KeyStoreError> {
        self.add(name, &PrivateKey::generate(algorithm)?)
    }

    /// Imports a private key file (a key made elsewhere, or a backup to restore) under
    /// `name`; `passphrase` is asked only if the file is encrypted. Certificates in the file
    /// after the key (a backup's certificate chain, signer first) are kept with it as its
    /// current certificate, provided the first carries the key's public key.
    ///
    /// Refused, with nothing stored, when the key is stored already
    /// ([`KeyStoreError::AlreadyStored`]), or its certificate is for another key
    /// ([`KeyStoreError::CertificateNotForKey`]).
    pub fn import_file(
        &self,
        name: &str,
        file: &Path,
        passphrase: impl FnOnce() -> Result<zeroize::Zeroizing<String>, KeyError>,
    ) -> Result<KeyRecord, KeyStoreError> {
        let bytes = crate::keys::read_key_file(file)?;
        let source_name = file.display().to_string();
        let key = PrivateKey::from_file_bytes(&bytes, &source_name, passphrase)?;
        let chain = chain_in_key_file(&bytes, &source_name)?;
        if let Some(signer) = chain.first() {
            let cert_key = signer.public_key(&format!("the certificate in {source_name}"))?.fingerprint();
            let key_fingerprint = key.public_key().fingerprint();
            if cert_key != key_fingerprint {
                return Err(KeyStoreError::CertificateNotForKey {
                    path: file.to_path_buf(),
                    key: key_fingerprint,
                    cert_key,
                });
            }
        }
        self.add_with_chain(name, &key, &chain)
    }

    /// Stores an existing private key (an import or a restored backup) under `name`.
    /// Refused, with nothing stored, when the key is stored already
    /// ([`KeyStoreError::AlreadyStored`]) or another key has the name.
    pub fn add(&self, name: &str, key: &PrivateKey) -> Result<KeyRecord, KeyStoreError> {
        self.add_with_chain(name, key, &[])
    }

    /// [`add`](Self::add), keeping `chain` (signer first, checked by the caller to carry the
    /// key's public key) with the key as its current certificate, unless it is empty.
    fn add_with_chain(
        &self,
        name: &str,
        key: &PrivateKey,
        chain: &[Certificate],
    ) -> Result<KeyRecord, KeyStoreError> {
        self.add_with_chain_and(name, key, chain, |_| Ok(()))
    }

    /// [`add_with_chain`](Self::add_with_chain), making `also` change of the index in the
    /// same write (under the same lock): either both land, or neither does.
    fn add_with_chain_and(
        &self,
        name: &str,
        key: &PrivateKey,
        chain: &[Certificate],
        also: impl FnOnce(&mut Index) -> Result<(), KeyStoreError>,
    ) -> Result<KeyRecord, KeyStoreError> {
        let name = valid_name(name)?;
        let mut id_bytes = [0u8; 16];
        getrandom::fill(&mut id_bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        let mut record = KeyRecord::new_for(crate::hex::lower(&id_bytes), name.clone(), key);
        if !chain.is_empty() {
            record.certificates.push(chain.iter().map(Certificate::to_pem).collect());
        }
        let secret = key.to_pkcs8_pem()?;
        let secret_stored = std::cell::Cell::new(false);
        self.update(|index| {
            if let Some(k) = index.keys.iter().find(|k| k.fingerprint == record.fingerprint) {
                return Err(KeyStoreError::AlreadyStored { name: k.name.clone() });
            }
            if index.keys.iter().any(|k| k.name.eq_ignore_ascii_case(&name)) {
                return Err(KeyStoreError::NameTaken(name.clone()));
            }
            also(index)?;
            // The secret goes in first: an index entry without its secret would be a key
            // that cannot sign. Should writing the index then fail, the secret is removed.
            self.secrets.put(&record.id, &secret)?;
            secret_stored.set(true);
            index.keys.push(record.clone());
            Ok(())
        })
        .inspect_err(|_| {
            // Undo the secret if it was stored; a refusal before it touched no keychain entry.
            if secret_stored.get() {
                let _ = self.secrets.delete(&record.id);
            }
        })?;
        Ok(record)
    }

    /// Lists, under `name`, a keychain entry of ours that no key lists (see [`orphans`]): an
    /// index restored from an older copy, or a Countersign killed while it added or deleted
    /// a key, leaves such entries, and this brings the key back without a backup.
    ///
    /// [`orphans`]: KeyStore::orphans
    pub fn adopt(&self, id: &str, name: &str) -> Result<KeyRecord, KeyStoreError> {
        let name = valid_name(name)?;
        let secret = self.secrets.get(id)?.ok_or_else(|| KeyStoreError::NoSuchEntry(id.to_owned()))?;
        let key = PrivateKey::from_file_bytes(secret.as_bytes(), &format!("keychain entry {id}"), || {
            Err(KeyError::NoPassphrase { source_name: format!("keychain entry {id}") })
        })?;
        let record = KeyRecord::new_for(id.to_owned(), name.clone(), &key);
        self.update(|index| {
            if index.keys.iter().any(|k| k.name.eq_ignore_ascii_case(&name)) {
                return Err(KeyStoreError::NameTaken(name.clone()));
            }
            if let Some(k) = index.keys.iter().find(|k| k.id == id) {
                return Err(KeyStoreError::EntryListed { id: id.to_owned(), name: k.name.clone() });
            }
            index.keys.push(record.clone());
            Ok(())
        })?;
        Ok(record)
    }

    /// The private key of `name`, checked against the public key the index records.
    pub fn load(&self, name: &str) -> Result<(KeyRecord, PrivateKey), KeyStoreError> {
        let record = self.get(name)?;
        let secret = self
            .secrets
            .get(&record.id)?
            .ok_or_else(|| KeyStoreError::SecretMissing { name: name.to_owned() })?;
        let key = PrivateKey::from_file_bytes(
            secret.as_bytes(),
            &format!("the keychain entry of key \"{name}\""),
            || Err(KeyError::NoPassphrase { source_name: name.to_owned() }),
        )?;
        let found = key.public_key().fingerprint();
        if found != record.fingerprint {
            return Err(KeyStoreError::SecretMismatch {
                name: name.to_owned(),
                expected: record.fingerprint,
                found,
            });
        }
        Ok((record, key))
    }

    /// Records that `name` was just used to sign.
    pub fn touch(&self, name: &str) -> Result<(), KeyStoreError> {
        self.update(|index| {
            let k = index
                .keys
                .iter_mut()
                .find(|k| k.name == name)
                .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_owned()))?;
            k.last_used = Some(crate::certs::rfc3339(OffsetDateTime::now_utc()));
            Ok(())
        })
    }

    /// Renames key `old` to `new`, a valid name that no other key has; the keychain entry
    /// stays as it is.
    pub fn rename(&self, old: &str, new: &str) -> Result<KeyRecord, KeyStoreError> {
        let new = valid_name(new)?;
        self.update(|index| {
            if index.keys.iter().any(|k| k.name.eq_ignore_ascii_case(&new) && k.name != old) {
                return Err(KeyStoreError::NameTaken(new.clone()));
            }
            let k = index
                .keys
                .iter_mut()
                .find(|k| k.name == old)
                .ok_or_else(|| KeyStoreError::NoSuchKey(old.to_owned()))?;
            k.name = new.clone();
            let renamed = k.clone();
            // Keys it replaced name it by its new name now.
            for other in &mut index.keys {
                if let Some(by) = other.status.replaced_by_mut().filter(|by| by.as_str() == old) {
                    by.clone_from(&new);
                }
            }
            Ok(renamed)
        })
    }

    /// Removes the key from the index and then from the keychain, both under the index
    /// lock. In that order, a process killed between the two leaves a keychain entry that
    /// no key lists (which `keys list` reports), never a listed key whose secret is gone.
    /// Under the lock, so that it cannot interleave with another change of the same index.
    pub fn delete(&self, name: &str) -> Result<KeyRecord, KeyStoreError> {
        let _lock = self.lock()?;
        let (pos, removed) = self.update_locked(|index| {
            let pos = index
                .keys
                .iter()
                .position(|k| k.name == name)
                .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_owned()))?;
            Ok((pos, index.keys.remove(pos)))
        })?;
        if let Err(e) = self.secrets.delete(&removed.id) {
            // The keychain refused (locked, say), so nothing was deleted: list the key
            // again, where it was, so that the user can try again. Not so when the service
            // died during the delete: it may have deleted the secret first, and a listed key
            // must never lack its secret. If the secret survived, it is an unlisted entry,
            // which `orphans` reports and `adopt` lists again.
            let outcome_unknown =
                matches!(&e, KeyStoreError::Keychain { problem: KeychainProblem::Restarted, .. });
            if !outcome_unknown {
                let _ = self.update_locked(|index| {
                    index.keys.insert(pos.min(index.keys.len()), removed);
                    Ok(())
                });
            }
            return Err(e);
        }
        Ok(removed)
    }

    /// Keeps a certificate (and its chain, signer first) with key `name`, as its current one.
    /// Refused unless the certificate carries that key's public key; then the error names
    /// whose key it is, where it is another stored key. Earlier certificates stay listed
    /// until they expire.
    pub fn add_certificate(&self, name: &str, chain: &[Certificate]) -> Result<KeyRecord, KeyStoreError> {
        let signer = chain.first().ok_or_else(|| KeyStoreError::CertificateForOtherKey {
            name: name.to_owned(),
            cert_key: "nothing".into(),
            owner: None,
        })?;
        let cert_key = signer.public_key(&format!("the certificate for \"{name}\""))?.fingerprint();
        let pem: String = chain.iter().map(Certificate::to_pem).collect();
        let now = OffsetDateTime::now_utc();
        self.update(|index| {
            let owner = index.keys.iter().find(|k| k.fingerprint == cert_key).map(|k| k.name.clone());
            let k = index
                .keys
                .iter_mut()
                .find(|k| k.name == name)
                .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_owned()))?;
            if k.fingerprint != cert_key {
                return Err(KeyStoreError::CertificateForOtherKey {
                    name: name.to_owned(),
                    cert_key: cert_key.clone(),
                    owner,
                });
            }
            k.certificates.retain(|old| !expired(old, now) && *old != pem);
            k.certificates.push(pem.clone());
            Ok(k.clone())
        })
    }

    /// Makes a self-signed certificate for key `name`, valid `days` from `now`, and keeps it
    /// with the key as its current one.
    pub fn self_sign(
        &self,
        name: &str,
        subject: &crate::certs::Subject,
        days: u32,
        now: OffsetDateTime,
    ) -> Result<Certificate, KeyStoreError> {
        if days == 0 || days > crate::certs::MAX_VALIDITY_DAYS {
            return Err(KeyStoreError::BadValidity(days));
        }
        let (_, key) = self.load(name)?;
        let cert = self_signed_from(&key, subject, days, now)?;
        self.add_certificate(name, std::slice::from_ref(&cert))?;
        Ok(cert)
    }

    /// Replaces key `old` by a new Ed25519 key `new`: the new key goes into the keychain
    /// with a self-signed certificate that has the subject of `old`'s current certificate,
    /// valid [`DEFAULT_VALIDITY_DAYS`](crate::certs::DEFAULT_VALIDITY_DAYS) from `now`, and
    /// `old` is marked retired (planned) or compromised, naming `new`, in the same index
    /// write. The old key and its certificates stay listed (signatures made with it stay
    /// valid for customers who trust it); deleting it is a separate step.
    ///
    /// Refused, with nothing changed, when `old` does not exist
    /// ([`KeyStoreError::NoSuchKey`]), was replaced already
    /// ([`KeyStoreError::AlreadyReplaced`]) or has no certificate
    /// ([`KeyStoreError::NoCertificateToReplace`]), or `new` is taken or not a valid name.
    pub fn replace(
        &self,
        old: &str,
        new: &str,
        reason: ReplaceReason,
        now: OffsetDateTime,
    ) -> Result<Replaced, KeyStoreError> {
        let new = valid_name(new)?;
        let record = self.get(old)?;
        check_replaceable(&record)?;
        let subject = self
            .certificates(&record)
            .pop()
            .and_then(|chain| chain.into_iter().next())
            .map(|current| current.subject_fields())
            .ok_or_else(|| KeyStoreError::NoCertificateToReplace(old.to_owned()))?;
        if self.list()?.iter().any(|k| k.name.eq_ignore_ascii_case(&new)) {
            return Err(KeyStoreError::NameTaken(new));
        }
        let key = PrivateKey::generate(Algorithm::Ed25519)?;
        let certificate = self_signed_from(&key, &subject, crate::certs::DEFAULT_VALIDITY_DAYS, now)?;
        let since = now.replace_nanosecond(0).unwrap_or(now);
        let marked = std::cell::RefCell::new(None);
        let new_record =
            self.add_with_chain_and(&new, &key, std::slice::from_ref(&certificate), |index| {
                // By id: the old key may have been renamed, replaced or deleted meanwhile.
                let k = index
                    .keys
                    .iter_mut()
                    .find(|k| k.id == record.id)
                    .ok_or_else(|| KeyStoreError::NoSuchKey(old.to_owned()))?;
                check_replaceable(k)?;
                let replaced_by = new.clone();
                k.status = match reason {
                    ReplaceReason::Planned => KeyStatus::Retired { since, replaced_by },
                    ReplaceReason::Compromised => KeyStatus::Compromised { since, replaced_by },
                };
                *marked.borrow_mut() = Some(k.clone());
                Ok(())
            })?;
        let old = marked.into_inner().ok_or_else(|| KeyStoreError::NoSuchKey(old.to_owned()))?;
        Ok(Replaced { old, new: new_record, certificate })
    }

    /// Reads a certificate file (PEM or DER; an issuer chain may follow the certificate) that
    /// a CA issued for key `name`, and keeps it with the key as its current certificate.
    pub fn import_certificate(&self, name: &str, file: &Path) -> Result<Vec<Certificate>, KeyStoreError> {
        let bytes = crate::atomic::read_small(file, 1 << 20)
            .map_err(|source| KeyStoreError::ReadCertificate { path: file.to_path_buf(), source })?;
        let chain = Certificate::all_from_file_bytes(&bytes, &file.display().to_string())?;
        self.add_certificate(name, &chain)?;
        Ok(chain)
    }

    /// Renews the current certificate of key `name`: a new self-signed one with the same key
    /// and subject, valid `days` from `now`, becomes the current one. Returns the new
    /// certificate and the one it replaces (signatures under that stay valid until it ends).
    pub fn renew(
        &self,
        name: &str,
        days: u32,
        now: OffsetDateTime,
    ) -> Result<(Certificate, Certificate), KeyStoreError> {
        let record = self.get(name)?;
        let current = self
            .certificates(&record)
            .pop()
            .and_then(|chain| chain.into_iter().next())
            .ok_or_else(|| KeyStoreError::NoCertificate(name.to_owned()))?;
        let renewed = self.self_sign(name, &current.subject_fields(), days, now)?;
        Ok((renewed, current))
    }

    /// A certificate signing request (PEM) for key `name`, for a CA to issue its certificate.
    pub fn signing_request(
        &self,
        name: &str,
        subject: &crate::certs::Subject,
    ) -> Result<String, KeyStoreError> {
        let (_, key) = self.load(name)?;
        Ok(crate::certs::signing_request(&key, subject)?)
    }

    /// Writes an encrypted backup of key `name` to `out`: the key as passphrase-encrypted
    /// PKCS#8 PEM that `openssl pkey` reads, followed by its current certificate chain as
    /// CERTIFICATE blocks (signer first) if it has one, which
    /// [`import_file`](Self::import_file) keeps with the key again. A file already there is
    /// replaced only if `replace` (the person said so); the backup appears whole or not at
    /// all. Then the index records when ([`KeyRecord::last_backed_up`]); should that fail,
    /// the backup is still complete and the reason comes back in
    /// [`BackupWritten::not_recorded`].
    pub fn backup(
        &self,
        name: &str,
        passphrase: &str,
        out: &Path,
        replace: bool,
    ) -> Result<BackupWritten, KeyStoreError> {
        let (record, key) = self.load(name)?;
        let encrypted = key.to_encrypted_pem(passphrase)?;
        drop(key);
        // The current chain, as stored; one that no longer parses is left out rather than
        // stopping the backup of the key itself (`keys list` shows it as unreadable).
        let chain: Vec<Certificate> = record
            .certificates
            .last()
            .and_then(|pem| Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate").ok())
            .unwrap_or_default();
        let certs_pem: String = chain.iter().map(Certificate::to_pem).collect();
        let mut file = zeroize::Zeroizing::new(String::with_capacity(encrypted.len() + certs_pem.len()));
        file.push_str(&encrypted);
        file.push_str(&certs_pem);
        crate::atomic::write_owner_only(out, file.as_bytes(), replace)?;

        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        // By id: a rename meanwhile does not lose the date.
        let recorded = self.update(|index| {
            let k = index
                .keys
                .iter_mut()
                .find(|k| k.id == record.id)
                .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_owned()))?;
            k.last_backed_up = Some(now);
            Ok(k.clone())
        });
        Ok(match recorded {
            Ok(record) => BackupWritten { record, certificates: chain.len(), not_recorded: None },
            Err(e) => BackupWritten { record, certificates: chain.len(), not_recorded: Some(e) },
        })
    }

    /// The certificates kept with a key, oldest first; each a chain, signer first.
    pub fn certificates(&self, record: &KeyRecord) -> Vec<Vec<Certificate>> {
        record
            .certificates
            .iter()
            .filter_map(|pem| Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate").ok())
            .collect()
    }

    /// How each listed key stands against the keychain.
    pub fn health(&self, record: &KeyRecord) -> Result<KeyHealth, KeyStoreError> {
        let Some(secret) = self.secrets.get(&record.id)? else { return Ok(KeyHealth::SecretMissing) };
        let found = PrivateKey::from_file_bytes(secret.as_bytes(), "keychain entry", || {
            Err(KeyError::NoPassphrase { source_name: String::new() })
        })
        .map(|k| k.public_key().fingerprint())
        .unwrap_or_else(|_| "unreadable".to_owned());
        Ok(if found == record.fingerprint { KeyHealth::Ok } else { KeyHealth::SecretMismatch { found } })
    }

    /// Keychain entries of ours that the index does not list (an index restored from an
    /// old copy), where the keychain can be searched.
    pub fn orphans(&self) -> Result<Option<Vec<String>>, KeyStoreError> {
        let listed: Vec<String> = self.list()?.into_iter().map(|k| k.id).collect();
        Ok(self.secrets.ids()?.map(|ids| ids.into_iter().filter(|id| !listed.contains(id)).collect()))
    }
}

/// The key records of the index in data folder `home`, read without the keychain: for a
/// signing with a key file, to tell whether that key is one this machine marked compromised.
/// The index is written whole (temporary file, then rename), so no lock is needed to read it.
pub fn records_in(home: &Path) -> Result<Vec<KeyRecord>, KeyStoreError> {
    Ok(read_index_at(home.join(INDEX_FILE))?.keys)
}

fn read_index_at(path: PathBuf) -> Result<Index, KeyStoreError> {
    let bytes = match crate::atomic::read_small(&path, MAX_INDEX_BYTES) {
        Ok(b) => b,
        Err(_) if !path.exists() => return Ok(Index { format_version: INDEX_FORMAT, keys: Vec::new() }),
        Err(e) => return Err(KeyStoreError::BadIndex { path, detail: e.to_string() }),
    };
    let index: Index = serde_json::from_slice(&bytes)
        .map_err(|e| KeyStoreError::BadIndex { path: path.clone(), detail: e.to_string() })?;
    if index.format_version > INDEX_FORMAT {
        return Err(KeyStoreError::BadIndex {
            path,
            detail: format!(
                "it is format {}, newer than this Countersign reads; update Countersign",
                index.format_version
            ),
        });
    }
    Ok(index)
}

/// A self-signed certificate for `key`, valid `days` from `now`, with a minute's grace before
/// `now` for a customer's server clock that runs slightly behind.
fn self_signed_from(
    key: &PrivateKey,
    subject: &crate::certs::Subject,
    days: u32,
    now: OffsetDateTime,
) -> Result<Certificate, KeyStoreError> {
    let not_before = now - time::Duration::minutes(1);
    Ok(crate::certs::self_signed(key, subject, not_before, now + time::Duration::days(i64::from(days)))?)
}

/// Refuses a key that was replaced already.
fn check_replaceable(record: &KeyRecord) -> Result<(), KeyStoreError> {
    match record.status.replaced() {
        None => Ok(()),
        Some((reason, since, by)) => Err(KeyStoreError::AlreadyReplaced {
            name: record.name.clone(),
            reason,
            since,
            replaced_by: by.to_owned(),
        }),
    }
}

fn expired(pem: &str, now: OffsetDateTime) -> bool {
    Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate")
        .ok()
        .and_then(|chain| {
            chain.first().map(|c| matches!(c.validity_at(now), crate::certs::ValidityState::Expired { .. }))
        })
        .unwrap_or(false)
}

/// The certificates a key file carries beside its key (a backup's chain, signer first), in
/// file order; none in a DER file or a PEM file without CERTIFICATE blocks.
fn chain_in_key_file(bytes: &[u8], source_name: &str) -> Result<Vec<Certificate>, KeyStoreError> {
    if !crate::pem::looks_like_pem(bytes) {
        return Ok(Vec::new());
    }
    match Certificate::all_from_file_bytes(bytes, source_name) {
        Ok(chain) => Ok(chain),
        Err(CertError::NotACertificate { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

fn valid_name(name: &str) -> Result<String, KeyStoreError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok { Ok(name.to_owned()) } else { Err(KeyStoreError::BadName(name.to_owned())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, KeyStore) {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-unit").unwrap());
        (dir, ks)
    }

    #[test]
    fn generate_list_load_rename_delete() {
        let (_d, ks) = store();
        let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
        assert_eq!(ks.list().unwrap(), vec![rec.clone()]);
        let (_, key) = ks.load("acme").unwrap();
        assert_eq!(key.public_key().fingerprint(), rec.fingerprint);
        ks.rename("acme", "acme-2026").unwrap();
        assert!(matches!(ks.load("acme"), Err(KeyStoreError::NoSuchKey(_))));
        let (renamed, _) = ks.load("acme-2026").unwrap();
        assert_eq!(renamed.id, rec.id, "renaming keeps the keychain entry");
        ks.delete("acme-2026").unwrap();
        assert!(ks.list().unwrap().is_empty());
        assert_eq!(ks.secrets.get(&rec.id).unwrap(), None, "the secret is gone too");
    }

    #[test]
    fn names_are_unique_and_sane() {
        let (_d, ks) = store();
        ks.generate("acme", Algorithm::Ed25519).unwrap();
        assert!(matches!(ks.generate("ACME", Algorithm::Ed25519), Err(KeyStoreError::NameTaken(_))));
        assert!(matches!(ks.generate("", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
        assert!(matches!(ks.generate(" padded", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
        assert!(matches!(ks.generate("a\nb", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
        ks.generate("other", Algorithm::EcdsaP384).unwrap();
        assert!(matches!(ks.rename("other", "acme"), Err(KeyStoreError::NameTaken(_))));
        assert_eq!(ks.list().unwrap().len(), 2);
    }

    #[test]
    fn a_secret_deleted_behind_our_back_is_reported_per_key() {
        let (_d, ks) = store();
        let a = ks.generate("a", Algorithm::Ed25519).unwrap();
        let b = ks.generate("b", Algorithm::Ed25519).unwrap();
        ks.secrets.delete(&a.id).unwrap();
        assert_eq!(ks.health(&a).unwrap(), KeyHealth::SecretMissing);
        assert_eq!(ks.health(&b).unwrap(), KeyHealth::Ok);
        assert!(matches!(ks.load("a"), Err(KeyStoreError::SecretMissing { .. })));
        ks.load("b").unwrap();
        // Deleting the broken entry works, and leaves the other alone.
        ks.delete("a").unwrap();
        assert_eq!(ks.list().unwrap(), vec![b]);
    }

    #[test]
    fn a_swapped_secret_is_refused() {
        let (_d, ks) = store();
        let a = ks.generate("a", Algorithm::Ed25519).unwrap();
        let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        ks.secrets.put(&a.id, &other.to_pkcs8_pem().unwrap()).unwrap();
        assert!(matches!(ks.health(&a).unwrap(), KeyHealth::SecretMismatch { .. }));
        assert!(matches!(ks.load("a"), Err(KeyStoreError::SecretMismatch { .. })));
    }

    #[test]
    fn a_damaged_index_is_reported_and_not_overwritten() {
        let (_d, ks) = store();
        ks.generate("a", Algorithm::Ed25519).unwrap();
        std::fs::write(ks.index_path(), b"{ not json").unwrap();
        assert!(matches!(ks.list(), Err(KeyStoreError::BadIndex { .. })));
        assert!(matches!(ks.generate("b", Algorithm::Ed25519), Err(KeyStoreError::BadIndex { .. })));
        assert_eq!(std::fs::read(ks.index_path()).unwrap(), b"{ not json");
    }

    /// Separate `KeyStore` values on one home, as two processes would have: every change
    /// lands, because each read-modify-write holds the lock.
    #[test]
    fn concurrent_changes_from_several_stores_all_land() {
        let (_d, ks) = store();
        std::thread::scope(|s| {
            for t in 0..6 {
                let mine = KeyStore::new(ks.home.clone(), ks.secrets.clone());
                s.spawn(move || {
                    for i in 0..5 {
                        mine.generate(&format!("k{t}-{i}"), Algorithm::Ed25519).unwrap();
                    }
                    mine.rename(&format!("k{t}-0"), &format!("renamed-{t}")).unwrap();
                    mine.delete(&format!("k{t}-1")).unwrap();
                });
            }
        });
        let keys = ks.list().unwrap();
        assert_eq!(keys.len(), 6 * 4);
        for t in 0..6 {
            assert!(keys.iter().any(|k| k.name == format!("renamed-{t}")));
            assert!(!keys.iter().any(|k| k.name == format!("k{t}-1")));
        }
        for k in &keys {
            assert_eq!(ks.health(k).unwrap(), KeyHealth::Ok, "{}", k.name);
        }
    }

    #[test]
    fn the_index_holds_no_private_key() {
        let (_d, ks) = store();
        ks.generate("a", Algorithm::Ed25519).unwrap();
        let (_, key) = ks.load("a").unwrap();
        let PrivateKey::Ed25519(inner) = &key else { unreachable!() };
        let index = std::fs::read_to_string(ks.index_path()).unwrap();
        assert!(!index.contains(&crate::hex::lower(inner.as_bytes())));
        assert!(!index.contains("PRIVATE KEY"));
    }

    fn subject() -> crate::certs::Subject {
        crate::certs::Subject { common_name: "Acme App Signing".into(), ..Default::default() }
    }

    const PASS: &str = "correct horse battery";

    fn pass() -> Result<zeroize::Zeroizing<String>, KeyError> {
        Ok(zeroize::Zeroizing::new(PASS.into()))
    }

    #[test]
    fn a_backup_carries_the_current_chain_and_a_restore_keeps_it() {
        let (d, ks) = store();
        let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
        assert_eq!(rec.last_backed_up, None);
        let now = OffsetDateTime::now_utc();
        ks.self_sign("acme", &subject(), 30, now).unwrap();
        let current = ks.self_sign("acme", &subject(), 365, now).unwrap();
        let out = d.path().join("acme.bak");
        let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let written = ks.backup("acme", PASS, &out, false).unwrap();
        assert!(written.not_recorded.is_none());
        assert_eq!(written.certificates, 1);
        let when = written.record.last_backed_up.expect("the backup's date is recorded");
        assert!(when >= before && when <= OffsetDateTime::now_utc());
        assert_eq!(ks.get("acme").unwrap().last_backed_up, Some(when), "and kept in the index");

        // The key first, then the current certificate only (not the older one).
        let bytes = std::fs::read(&out).unwrap();
        let blocks = crate::pem::blocks(&bytes).unwrap();
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["ENCRYPTED PRIVATE KEY", "CERTIFICATE"]);
        assert_eq!(&blocks[1].der[..], current.der());

        // Restored into another store: the key and its certificate, and no backup date.
        let (_d2, other) = store();
        let restored = other.import_file("acme", &out, pass).unwrap();
        assert_eq!(restored.fingerprint, rec.fingerprint);
        assert_eq!(restored.last_backed_up, None);
        assert_eq!(other.certificates(&restored), vec![vec![current]]);
        other.load("acme").unwrap();
    }

    #[test]
    fn a_backup_of_a_key_without_a_certificate_holds_the_key_alone() {
        let (d, ks) = store();
        ks.generate("acme", Algorithm::EcdsaP384).unwrap();
        let out = d.path().join("acme.bak");
        assert_eq!(ks.backup("acme", PASS, &out, false).unwrap().certificates, 0);
        let bytes = std::fs::read(&out).unwrap();
        let labels: Vec<String> =
            crate::pem::blocks(&bytes).unwrap().into_iter().map(|b| b.label.clone()).collect();
        assert_eq!(labels, ["ENCRYPTED PRIVATE KEY"]);
        let (_d2, other) = store();
        assert!(other.import_file("acme", &out, pass).unwrap().certificates.is_empty());
    }

    #[test]
    fn a_backup_records_its_date_even_after_a_rename() {
        let (d, ks) = store();
        ks.generate("acme", Algorithm::Ed25519).unwrap();
        let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let written = ks.backup("acme", PASS, &d.path().join("acme.bak"), false).unwrap();
        assert!(written.not_recorded.is_none());
        let when = written.record.last_backed_up.expect("the backup's date is recorded");
        assert!(when >= before && when <= OffsetDateTime::now_utc());
        ks.rename("acme", "acme-2026").unwrap();
        assert_eq!(ks.get("acme-2026").unwrap().last_backed_up, Some(when), "kept in the index");
    }

    #[test]
    fn a_failed_backup_records_no_date() {
        let (d, ks) = store();
        ks.generate("acme", Algorithm::Ed25519).unwrap();
        let out = d.path().join("taken.bak");
        std::fs::write(&out, b"someone else's").unwrap();
        assert!(matches!(ks.backup("acme", PASS, &out, false), Err(KeyStoreError::Write(_))));
        assert!(matches!(ks.backup("acme", "short", &out, true), Err(KeyStoreError::Key(_))));
        assert_eq!(std::fs::read(&out).unwrap(), b"someone else's");
        assert_eq!(ks.get("acme").unwrap().last_backed_up, None);
    }

    #[test]
    fn a_key_already_stored_is_refused_and_nothing_is_written() {
        let (d, ks) = store();
        let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
        ks.self_sign("acme", &subject(), 30, OffsetDateTime::now_utc()).unwrap();
        let out = d.path().join("acme.bak");
        ks.backup("acme", PASS, &out, false).unwrap();
        let plain = d.path().join("acme.pem");
        let (_, key) = ks.load("acme").unwrap();
        std::fs::write(&plain, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let index = std::fs::read(ks.index_path()).unwrap();
        let ids = || {
            ks.secrets.ids().unwrap().map(|mut v| {
                v.sort();
                v
            })
        };
        let ids_before = ids();

        for (file, new_name) in [(&out, "acme"), (&out, "acme-again"), (&plain, "other")] {
            let err = ks.import_file(new_name, file, pass).unwrap_err();
            assert!(matches!(&err, KeyStoreError::AlreadyStored { name } if name == "acme"), "{err:?}");
            assert_eq!(
                err.to_string(),
                "This key is already stored as \"acme\"; nothing was imported. Use that key, or delete it first to import it again."
            );
        }
        // Under another name too, and with `add` directly.
        assert!(matches!(ks.add("x", &key), Err(KeyStoreError::AlreadyStored { .. })));
        assert_eq!(std::fs::read(ks.index_path()).unwrap(), index, "the index is untouched");
        assert_eq!(ids(), ids_before, "no keychain entry was added");
        assert_eq!(ks.list().unwrap().len(), 1);
        // Once deleted, it imports again.
        ks.delete("acme").unwrap();
        let again = ks.import_file("acme", &out, pass).unwrap();
        assert_eq!(again.fingerprint, rec.fingerprint);
        assert_eq!(again.certificates.len(), 1);
    }

    #[test]
    fn a_key_file_with_a_certificate_for_another_key_imports_nothing() {
        let (d, ks) = store();
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let now = OffsetDateTime::now_utc();
        let foreign =
            crate::certs::self_signed(&other, &subject(), now, now + time::Duration::days(30)).unwrap();
        let file = d.path().join("mixed.pem");
        let text = format!("{}{}", *key.to_encrypted_pem(PASS).unwrap(), foreign.to_pem());
        std::fs::write(&file, text).unwrap();
        let err = ks.import_file("acme", &file, pass).unwrap_err();
        let KeyStoreError::CertificateNotForKey { key: k, cert_key, .. } = &err else { panic!("{err:?}") };
        assert_eq!(*k, key.public_key().fingerprint());
        assert_eq!(*cert_key, other.public_key().fingerprint());
        assert!(err.to_string().contains("nothing was imported"), "{err}");
        assert!(ks.list().unwrap().is_empty());
        assert_eq!(ks.secrets.ids().unwrap(), Some(Vec::new()));

        // Its own certificate first, then an issuer's: kept as one chain, signer first.
        let own = crate::certs::self_signed(&key, &subject(), now, now + time::Duration::days(30)).unwrap();
        let text = format!("{}{}{}", *key.to_encrypted_pem(PASS).unwrap(), own.to_pem(), foreign.to_pem());
        std::fs::write(&file, text).unwrap();
        let rec = ks.import_file("acme", &file, pass).unwrap();
        assert_eq!(ks.certificates(&rec), vec![vec![own, foreign]]);
    }

    #[test]
    fn an_index_from_before_backup_dates_loads_and_keeps_its_keys() {
        let (_d, ks) = store();
        let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
        assert!(index["keys"][0]["last_backed_up"].is_null());
        index["keys"][0].as_object_mut().unwrap().remove("last_backed_up");
        std::fs::write(ks.index_path(), serde_json::to_vec(&index).unwrap()).unwrap();
        assert_eq!(ks.list().unwrap(), vec![rec]);

        // Written as RFC 3339 once set.
        let when = time::macros::datetime!(2026-03-01 12:00:00 UTC);
        ks.update(|index| {
            index.keys[0].last_backed_up = Some(when);
            Ok(())
        })
        .unwrap();
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
        assert_eq!(index["keys"][0]["last_backed_up"], "2026-03-01T12:00:00Z");
        assert_eq!(ks.get("acme").unwrap().last_backed_up, Some(when));
    }

    #[test]
    fn replace_makes_a_new_key_with_the_old_subject_and_marks_the_old_one() {
        let (_d, ks) = store();
        let subject = crate::certs::Subject {
            common_name: "Acme App Signing".into(),
            organization: Some("Acme Ltd".into()),
            ..Default::default()
        };
        let now = time::macros::datetime!(2026-03-01 12:00:00.5 UTC);
        let old = ks.generate("acme", Algorithm::Ed25519).unwrap();
        let old_cert = ks.self_sign("acme", &subject, 30, now).unwrap();
        let r = ks.replace("acme", "acme-2", ReplaceReason::Planned, now).unwrap();
        let since = time::macros::datetime!(2026-03-01 12:00:00 UTC);
        assert_eq!(r.old.status, KeyStatus::Retired { since, replaced_by: "acme-2".into() });
        assert_eq!(r.old.id, old.id);
        assert_ne!(r.new.fingerprint, old.fingerprint);
        assert_eq!(r.new.algorithm, Algorithm::Ed25519);
        assert_eq!(r.certificate.subject(), old_cert.subject());
        assert!(r.certificate.subject().contains("Acme Ltd"), "{}", r.certificate.subject());
        assert_eq!(
            r.certificate.not_after(),
            since + time::Duration::days(i64::from(crate::certs::DEFAULT_VALIDITY_DAYS))
        );
        assert_eq!(ks.certificates(&r.new), vec![vec![r.certificate.clone()]]);
        assert_eq!(ks.list().unwrap(), vec![r.old.clone(), r.new.clone()]);
        let (_, key) = ks.load("acme-2").unwrap();
        assert_eq!(key.public_key().fingerprint(), r.new.fingerprint);
        assert_eq!(ks.health(&r.new).unwrap(), KeyHealth::Ok);

        // Renaming the new key keeps the old one pointing at it.
        ks.rename("acme-2", "acme-2027").unwrap();
        assert_eq!(
            ks.get("acme").unwrap().status,
            KeyStatus::Retired { since, replaced_by: "acme-2027".into() }
        );
    }

    #[test]
    fn replace_refuses_bad_input_and_changes_nothing() {
        let (_d, ks) = store();
        let now = OffsetDateTime::now_utc();
        ks.generate("bare", Algorithm::Ed25519).unwrap();
        ks.generate("acme", Algorithm::Ed25519).unwrap();
        ks.self_sign("acme", &subject(), 30, now).unwrap();
        ks.generate("taken", Algorithm::Ed25519).unwrap();
        let index = std::fs::read(ks.index_path()).unwrap();
        let ids = || {
            ks.secrets.ids().unwrap().map(|mut v| {
                v.sort();
                v
            })
        };
        let ids_before = ids();
        let compromised = ReplaceReason::Compromised;
        let err = ks.replace("nobody", "new", compromised, now).unwrap_err();
        assert!(matches!(err, KeyStoreError::NoSuchKey(_)), "{err}");
        let err = ks.replace("acme", "TAKEN", compromised, now).unwrap_err();
        assert!(matches!(err, KeyStoreError::NameTaken(_)), "{err}");
        let err = ks.replace("acme", " padded", compromised, now).unwrap_err();
        assert!(matches!(err, KeyStoreError::BadName(_)), "{err}");
        let err = ks.replace("bare", "bare-2", compromised, now).unwrap_err();
        assert!(matches!(err, KeyStoreError::NoCertificateToReplace(_)), "{err}");
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(std::fs::read(ks.index_path()).unwrap(), index, "the index is untouched");
        assert_eq!(ids(), ids_before, "no keychain entry was added");

        ks.replace("acme", "acme-2", compromised, now).unwrap();
        let index = std::fs::read(ks.index_path()).unwrap();
        let ids_before = ids();
        let err = ks.replace("acme", "acme-3", ReplaceReason::Planned, now).unwrap_err();
        assert!(matches!(err, KeyStoreError::AlreadyReplaced { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "Key \"acme\" was already marked compromised on {} and replaced by \"acme-2\"; nothing was changed. Replace \"acme-2\" instead, if it is the one to replace now.",
                crate::certs::day(now)
            )
        );
        assert_eq!(std::fs::read(ks.index_path()).unwrap(), index);
        assert_eq!(ids(), ids_before);
    }

    #[test]
    fn an_index_from_before_rotation_loads_its_keys_as_active() {
        let (_d, ks) = store();
        let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
        assert_eq!(index["keys"][0]["status"], serde_json::json!({ "state": "active" }));
        index["keys"][0].as_object_mut().unwrap().remove("status");
        std::fs::write(ks.index_path(), serde_json::to_vec(&index).unwrap()).unwrap();
        assert_eq!(ks.get("acme").unwrap().status, KeyStatus::Active);
        assert_eq!(ks.list().unwrap(), vec![rec]);
    }
}
