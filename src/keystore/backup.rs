//! Backups and restores: an encrypted key file that carries the key's current certificate
//! chain, and the import that reads such a file (or a key made elsewhere) back into the
//! store. Apart, because the backup file's layout is its own concern.

use std::path::Path;

use time::OffsetDateTime;

use crate::certs::{CertError, Certificate};
use crate::keys::{KeyError, PrivateKey};

use super::{KeyRecord, KeyStore, KeyStoreError};

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

impl KeyStore {
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
