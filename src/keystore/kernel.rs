//! The Linux kernel's key retention service (keyrings(7)) as a keychain, for machines with
//! no Secret Service: a build server, a container, a plain SSH login. Chosen with
//! `COUNTERSIGN_KEYCHAIN=kernel`.
//!
//! Why this store, and what it promises:
//! - Secrets live in kernel memory, in the caller's **session keyring**: every process of the
//!   login session (or CI job) that started Countersign can use them, and they are gone when
//!   the session ends or the machine restarts. Nothing is written to disk. A pipeline
//!   restores its key from an encrypted backup at the start of each job.
//! - A process with no session keyring of its own (a service, `docker exec`) gets the user's
//!   session keyring, shared by that user's processes without one, and kept while the user
//!   has processes.
//! - Each secret is a "user" key. The kernel lets only its possessors (the processes that
//!   can reach the session keyring) read it; other processes of the same user may see that
//!   it exists, not what it holds.
//! - The store lists its entries (unlisted keys are found), unlike the persistent keyring
//!   the keyring ecosystem's own keyutils store also links to, whose keys outlive the
//!   session by days and, on a shared machine, count against the user's key quota for as long.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::api::{CredentialApi, CredentialPersistence, CredentialStoreApi};
use keyring_core::{Credential, CredentialStore, Entry, Error};
use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

/// Every Countersign entry's description starts with this, then `<service>:<id>`.
const PREFIX: &str = "countersign:";

/// How many links of the session keyring are read when listing entries (256 KiB of ids).
const MAX_LINKS: usize = 1 << 16;

/// The session keyring as a keyring-core credential store.
#[derive(Debug)]
pub(super) struct KernelStore {
    ring: KeyRing,
}

impl KernelStore {
    /// The caller's session keyring (or the user's session keyring, where the process has no
    /// session keyring of its own). Fails where the kernel refuses keyctl (a container whose
    /// seccomp profile blocks it).
    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        // `create: false`: without a session keyring, the kernel answers with the user's
        // session keyring instead of making one that would die with this process.
        let ring = KeyRing::from_special_id(KeyRingIdentifier::Session, false).map_err(kernel_error)?;
        Ok(Arc::new(KernelStore { ring }))
    }
}

fn description(service: &str, user: &str) -> String {
    format!("{PREFIX}{service}:{user}")
}

impl CredentialStoreApi for KernelStore {
    fn vendor(&self) -> String {
        "Linux kernel session keyring, by Countersign".to_owned()
    }

    fn id(&self) -> String {
        format!("{:?}", self.ring)
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        _: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        let credential =
            KernelCredential { ring: self.ring, service: service.to_owned(), user: user.to_owned() };
        Ok(Entry::new_with_credential(Arc::new(credential)))
    }

    /// The entries of `{"service": S}`: the session keyring's keys whose description starts
    /// with Countersign's prefix and `S`.
    fn search(&self, spec: &HashMap<&str, &str>) -> keyring_core::Result<Vec<Entry>> {
        let Some(service) = spec.get("service") else {
            return Err(Error::NotSupportedByStore("a search other than by service".to_owned()));
        };
        let wanted = description(service, "");
        // Room for far more links than a session keyring holds (a user's key quota is 200 by
        // default): linux-keyutils trusts the kernel's count of links to fit its buffer.
        let links = self.ring.get_links(MAX_LINKS).map_err(kernel_error)?;
        let mut entries = Vec::new();
        for key in links.iter().filter_map(|link| link.as_key()) {
            // A key gone meanwhile, or another owner's, is simply not ours to list.
            let Ok(meta) = key.metadata() else { continue };
            if let Some(user) = meta.get_description().strip_prefix(&wanted) {
                entries.push(self.build(service, user, None)?);
            }
        }
        Ok(entries)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::UntilLogout
    }
}

/// One entry: a "user" key in the session keyring.
#[derive(Debug)]
struct KernelCredential {
    ring: KeyRing,
    service: String,
    user: String,
}

impl KernelCredential {
    fn description(&self) -> String {
        description(&self.service, &self.user)
    }
}

impl CredentialApi for KernelCredential {
    /// Adds the key to the session keyring, replacing an entry of the same name (add_key(2)
    /// updates a key of the same type and description in place).
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        if secret.is_empty() {
            return Err(Error::Invalid("secret".to_owned(), "the kernel keeps no empty keys".to_owned()));
        }
        self.ring.add_key(&self.description(), secret).map_err(kernel_error)?;
        Ok(())
    }

    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        let key = self.ring.search(&self.description()).map_err(kernel_error)?;
        key.read_to_vec().map_err(kernel_error)
    }

    /// Invalidates the key: from that moment no search finds it, and the kernel frees it.
    fn delete_credential(&self) -> keyring_core::Result<()> {
        let key = self.ring.search(&self.description()).map_err(kernel_error)?;
        key.invalidate().map_err(kernel_error)
    }

    fn get_credential(&self) -> keyring_core::Result<Option<Arc<Credential>>> {
        self.ring.search(&self.description()).map_err(kernel_error)?;
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        Some((self.service.clone(), self.user.clone()))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The kernel's refusals as keyring-core errors: no such key is `NoEntry` (a missing entry,
/// not a failure); a full quota and a blocked keyctl say so in words.
fn kernel_error(e: KeyError) -> Error {
    match e {
        KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked => Error::NoEntry,
        KeyError::QuotaExceeded => Error::NoStorageAccess(
            "the kernel's key quota for this user is full (see /proc/sys/kernel/keys/maxkeys and maxbytes)"
                .into(),
        ),
        KeyError::OperationNotSupported | KeyError::AccessDenied | KeyError::PermissionDenied => {
            Error::NoStorageAccess(
                format!("the kernel refused keyctl ({e:?}); a container's seccomp profile may block it")
                    .into(),
            )
        }
        other => Error::PlatformFailure(format!("keyctl failed: {other:?}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Secrets;

    /// A service name no other test run uses.
    fn fresh_service() -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("countersign-unit-{}-{nanos}", std::process::id())
    }

    #[test]
    fn entries_are_stored_replaced_listed_per_service_and_deleted() {
        let (one, other) = (fresh_service(), fresh_service() + "-other");
        let secrets = match Secrets::kernel(&one) {
            Ok(s) => s,
            Err(e) if std::env::var_os("CI").is_none() => {
                println!("SKIPPED: the kernel's keyring cannot be used here: {e}");
                return;
            }
            Err(e) => panic!("the kernel's keyring cannot be used under CI: {e}"),
        };
        let neighbour = Secrets::kernel(&other).unwrap();
        secrets.put("a", "first").unwrap();
        secrets.put("b", "second").unwrap();
        secrets.put("a", "replaced").unwrap();
        neighbour.put("c", "elsewhere").unwrap();

        assert_eq!(secrets.get("a").unwrap().as_deref().map(String::as_str), Some("replaced"));
        let mut ids = secrets.ids().unwrap().unwrap();
        ids.sort();
        assert_eq!(ids, ["a", "b"], "one entry per id, and only this service's");

        secrets.delete("a").unwrap();
        assert!(secrets.get("a").unwrap().is_none(), "a deleted entry is gone at once");
        secrets.delete("a").unwrap();
        assert_eq!(secrets.ids().unwrap().unwrap(), ["b"]);
        assert_eq!(neighbour.ids().unwrap().unwrap(), ["c"]);

        secrets.delete("b").unwrap();
        neighbour.delete("c").unwrap();
        assert!(secrets.ids().unwrap().unwrap().is_empty());
    }
}
