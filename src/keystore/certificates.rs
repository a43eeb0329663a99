//! The certificates kept with each key: adding one a CA issued, self-signing, renewing, and
//! asking for one. Apart from the keys' own life (add, rename, delete) in the module root.

use std::path::Path;

use time::OffsetDateTime;

use crate::certs::Certificate;
use crate::keys::PrivateKey;

use super::{KeyRecord, KeyStore, KeyStoreError};

impl KeyStore {
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

    /// The certificates kept with a key, oldest first; each a chain, signer first.
    pub fn certificates(&self, record: &KeyRecord) -> Vec<Vec<Certificate>> {
        record
            .certificates
            .iter()
            .filter_map(|pem| Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate").ok())
            .collect()
    }
}

/// A self-signed certificate for `key`, valid `days` from `now`, with a minute's grace before
/// `now` for a customer's server clock that runs slightly behind.
pub(super) fn self_signed_from(
    key: &PrivateKey,
    subject: &crate::certs::Subject,
    days: u32,
    now: OffsetDateTime,
) -> Result<Certificate, KeyStoreError> {
    let not_before = now - time::Duration::minutes(1);
    Ok(crate::certs::self_signed(key, subject, not_before, now + time::Duration::days(i64::from(days)))?)
}

fn expired(pem: &str, now: OffsetDateTime) -> bool {
    Certificate::all_from_file_bytes(pem.as_bytes(), "stored certificate")
        .ok()
        .and_then(|chain| {
            chain.first().map(|c| matches!(c.validity_at(now), crate::certs::ValidityState::Expired { .. }))
        })
        .unwrap_or(false)
}
