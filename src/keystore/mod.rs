//! Vendor keys kept for the user: private keys in the OS keychain, and everything that is
//! not secret (name, algorithm, public key, fingerprint, dates, certificates) in a small
//! index file in the app's data folder.
//!
//! The index is read and rewritten whole under an exclusive lock on a lock file beside it,
//! so two processes (the window and a command line) cannot interleave their changes, and
//! written atomically, so a crash leaves the old index or the new one. The keychain entry
//! is named by a random id that never changes, so renaming a key touches only the index.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::certs::Certificate;
use crate::keys::{Algorithm, KeyError, PrivateKey};

mod backup;
mod certificates;
mod error;
mod index;
#[cfg(target_os = "linux")]
mod kernel;
mod record;
mod replace;
mod secrets;
#[cfg(test)]
mod tests;

pub use backup::BackupWritten;
pub use error::KeyStoreError;
pub use index::records_in;
pub use record::{KeyHealth, KeyRecord, KeyStatus, ReplaceReason};
pub use replace::Replaced;
pub use secrets::{KEYCHAIN_ENV, KeychainProblem, Secrets};

use index::Index;

/// Environment variable overriding the data folder (tests, portable use).
pub const HOME_ENV: &str = "COUNTERSIGN_HOME";
/// Environment variable overriding the keychain service name (tests keep apart with it).
pub const SERVICE_ENV: &str = "COUNTERSIGN_KEYCHAIN_SERVICE";
/// The keychain service name Countersign's entries are filed under, unless [`SERVICE_ENV`] names another.
pub const DEFAULT_SERVICE: &str = "countersign";
/// The key index's file name in the data folder.
pub const INDEX_FILE: &str = "keys.json";

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

fn valid_name(name: &str) -> Result<String, KeyStoreError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok { Ok(name.to_owned()) } else { Err(KeyStoreError::BadName(name.to_owned())) }
}
