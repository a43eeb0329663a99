//! The index file itself: where it is, and how it is read and rewritten whole under the lock
//! beside it. Apart, so that the rest of the store changes keys only through
//! `KeyStore::update` and never touches the file or the lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{INDEX_FILE, KeyRecord, KeyStore, KeyStoreError};

const LOCK_FILE: &str = "keys.lock";
const INDEX_FORMAT: u32 = 1;
const MAX_INDEX_BYTES: u64 = 16 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
    pub(super) format_version: u32,
    pub(super) keys: Vec<KeyRecord>,
}

impl KeyStore {
    pub(super) fn io(&self, source: std::io::Error) -> KeyStoreError {
        KeyStoreError::Io { path: self.home.clone(), source }
    }

    pub(super) fn ensure_home(&self) -> Result<(), KeyStoreError> {
        std::fs::create_dir_all(&self.home).map_err(|e| self.io(e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.home, std::fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// Holds the index lock for as long as the returned file lives.
    pub(super) fn lock(&self) -> Result<File, KeyStoreError> {
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

    pub(super) fn read_index(&self) -> Result<Index, KeyStoreError> {
        read_index_at(self.index_path())
    }

    pub(super) fn write_index(&self, index: &Index) -> Result<(), KeyStoreError> {
        let json = serde_json::to_vec_pretty(index)
            .map_err(|e| KeyStoreError::BadIndex { path: self.index_path(), detail: e.to_string() })?;
        crate::atomic::write_owner_only(&self.index_path(), &json, true)?;
        Ok(())
    }

    /// Reads, changes and writes the index under the lock.
    pub(super) fn update<T>(
        &self,
        change: impl FnOnce(&mut Index) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        let _lock = self.lock()?;
        self.update_locked(change)
    }

    /// [`update`](Self::update) for a caller that holds the lock already.
    pub(super) fn update_locked<T>(
        &self,
        change: impl FnOnce(&mut Index) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        let mut index = self.read_index()?;
        index.format_version = INDEX_FORMAT;
        let out = change(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
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
