//! Key rotation: replacing a key by a new one that takes over its certificate's subject, the
//! old one marked retired or compromised in the same index write. Apart, because it is the
//! one change that touches two keys at once.

use time::OffsetDateTime;

use crate::certs::Certificate;
use crate::keys::{Algorithm, PrivateKey};

use super::certificates::self_signed_from;
use super::{KeyRecord, KeyStatus, KeyStore, KeyStoreError, ReplaceReason, valid_name};

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

impl KeyStore {
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
