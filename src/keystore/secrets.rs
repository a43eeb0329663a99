//! Where private keys live: the OS keychain, through keyring-core and one store per
//! platform (macOS Keychain, Windows Credential Manager, the Secret Service on Linux).
//! Tests use keyring-core's in-memory mock store behind the same calls.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use super::KeyStoreError;

/// The system keychain (or a stand-in for tests), holding one secret per key id.
#[derive(Clone)]
pub struct Secrets {
    store: Arc<CredentialStore>,
    service: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(service {})", self.service)
    }
}

impl Secrets {
    /// The platform's keychain. `service` names Countersign's entries in it.
    pub fn platform(service: &str) -> Result<Self, KeyStoreError> {
        let store = platform_store().map_err(unavailable)?;
        Ok(Secrets { store, service: service.to_owned() })
    }

    /// Any keyring-core store; the tests' in-memory one.
    pub fn with_store(store: Arc<CredentialStore>, service: &str) -> Self {
        Secrets { store, service: service.to_owned() }
    }

    /// An in-memory store that forgets everything when dropped (unit tests only).
    pub fn in_memory(service: &str) -> Result<Self, KeyStoreError> {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().map_err(unavailable)?;
        Ok(Self::with_store(store, service))
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, id: &str) -> Result<Entry, KeyStoreError> {
        Entry::new_in_store(&self.store, &self.service, id).map_err(unavailable)
    }

    pub fn put(&self, id: &str, secret: &str) -> Result<(), KeyStoreError> {
        self.entry(id)?.set_password(secret).map_err(unavailable)
    }

    /// The secret, or `None` when the keychain has no such entry.
    pub fn get(&self, id: &str) -> Result<Option<Zeroizing<String>>, KeyStoreError> {
        match self.entry(id)?.get_password() {
            Ok(s) => Ok(Some(Zeroizing::new(s))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Removes the entry; one already gone is not an error.
    pub fn delete(&self, id: &str) -> Result<(), KeyStoreError> {
        match self.entry(id)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The ids of all of this service's entries, where the store can search (the Secret
    /// Service can; the mock store cannot, and then `None`).
    pub fn ids(&self) -> Result<Option<Vec<String>>, KeyStoreError> {
        let spec = std::collections::HashMap::from([("service", self.service.as_str())]);
        match self.store.search(&spec) {
            Ok(entries) => Ok(Some(entries.iter().filter_map(|e| e.get_specifiers()).map(|(_, user)| user).collect())),
            Err(keyring_core::Error::NotSupportedByStore(_)) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore("this operating system has no supported keychain".into()))
}

/// Turns a keychain failure into the sentence that says which failure it is and how to fix
/// it. Never falls back to another store.
pub(super) fn unavailable(e: keyring_core::Error) -> KeyStoreError {
    let detail = e.to_string();
    let lower = detail.to_lowercase();
    let no_session = cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && !session_bus_socket_exists();
    // The Secret Service's messages, as zbus-secret-service words them: "no secret service
    // provider or dbus session found" (nothing answers), "result not returned from SS API"
    // (a locked collection whose unlock prompt cannot be shown), "... is locked".
    let reason = if no_session {
        KeychainProblem::NoSession
    } else if lower.contains("locked") || lower.contains("not returned") || lower.contains("prompt") {
        KeychainProblem::Locked
    } else if lower.contains("denied") || lower.contains("dismissed") || lower.contains("not allowed") {
        KeychainProblem::Denied
    } else if lower.contains("no secret service provider")
        || lower.contains("serviceunknown")
        || lower.contains("org.freedesktop.secrets")
        || lower.contains("connect")
    {
        KeychainProblem::NotRunning
    } else {
        KeychainProblem::Other
    };
    KeyStoreError::Keychain { problem: reason, detail }
}

fn session_bus_socket_exists() -> bool {
    #[cfg(unix)]
    {
        let uid = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0);
        std::path::Path::new(&format!("/run/user/{uid}/bus")).exists()
    }
    #[cfg(not(unix))]
    false
}

/// Which way the keychain failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainProblem {
    /// Linux: no D-Bus session to find a Secret Service on.
    NoSession,
    /// No Secret Service (GNOME Keyring, KWallet) answers, or no keychain on this system.
    NotRunning,
    Locked,
    Denied,
    Other,
}

impl KeychainProblem {
    pub fn explain(self) -> &'static str {
        match self {
            KeychainProblem::NoSession => {
                "there is no D-Bus session, so no Secret Service can be reached (a plain SSH or container shell has none). Log in to a desktop session, or start one with `dbus-run-session` and a keyring daemon (gnome-keyring-daemon)"
            }
            KeychainProblem::NotRunning => {
                "no Secret Service answers on this D-Bus session. Start GNOME Keyring or KWallet (on a headless machine: `gnome-keyring-daemon --unlock --components=secrets` inside a D-Bus session)"
            }
            KeychainProblem::Locked => {
                "the keychain is locked, and no unlock prompt could be shown. Unlock it (log in to the desktop again, or open your keyring manager; headless: start gnome-keyring-daemon with --unlock) and retry"
            }
            KeychainProblem::Denied => "access to the keychain was denied. Allow Countersign when the system asks, and retry",
            KeychainProblem::Other => "the keychain refused the request. Check that it is running and unlocked",
        }
    }
}
