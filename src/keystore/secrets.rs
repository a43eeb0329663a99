//! Where private keys live: the OS keychain, through keyring-core and one store per
//! platform (macOS Keychain, Windows Credential Manager, the Secret Service on Linux).
//! Tests use keyring-core's in-memory mock store behind the same calls.
//!
//! How Countersign talks to the keychain, and why:
//! - One connection per process, opened once and shared by every thread (the window's
//!   workers included), instead of one per key store: fewer connections coming and going.
//! - Every call of every Countersign process (connecting, reads and searches included) is
//!   made under one lock file per user, so the keychain service never sees two Countersign
//!   requests at once. GNOME Keyring (42 on Debian 12, 50 elsewhere) can abort under
//!   concurrent clients (a NULL client record in `gkd_secret_service_get_pkcs11_session`),
//!   and a search racing a delete fails in any Secret Service ("No such interface ... on
//!   object"). Changes stay under the key index's lock as well; that one is per data folder
//!   and taken first, so the two can never deadlock.
//! - A service that went away mid-call (the daemon died) is reconnected once and the call
//!   retried: every call here is idempotent (a put replaces, a delete of nothing succeeds).
//!   If the retry fails too, the error says the service restarted, which is why it is now
//!   locked, and how to unlock it.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use super::KeyStoreError;

/// Names the keychain to use instead of the platform's: `kernel` (Linux only).
pub const KEYCHAIN_ENV: &str = "COUNTERSIGN_KEYCHAIN";

/// The system keychain (or a stand-in for tests), holding one secret per key id.
#[derive(Clone)]
pub struct Secrets {
    connection: Arc<Connection>,
    service: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(service {})", self.service)
    }
}

/// A store and how to open it again.
struct Connection {
    /// Opens the store: the platform's keychain, or hands out a fixed one (tests).
    open: Box<dyn Fn() -> keyring_core::Result<Arc<CredentialStore>> + Send + Sync>,
    /// The open store; `None` until first opened, and again after the service went away.
    store: Mutex<Option<Arc<CredentialStore>>>,
    /// The lock file that serializes all Countersign processes' keychain calls (the
    /// platform keychain only: an in-memory store is private to its process, and the kernel
    /// serves concurrent callers on its own).
    lock: Option<PathBuf>,
    /// Turns the store's failure into the sentence for it.
    explain: fn(keyring_core::Error) -> KeyStoreError,
}

impl Connection {
    /// Holds the cross-process keychain lock for as long as the returned file lives. Where
    /// the lock file cannot be made (no writable cache folder), calls go ahead unlocked:
    /// the key index keeps its own lock, so nothing can be lost, only less protected.
    fn lock(&self) -> Option<File> {
        let path = self.lock.as_ref()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ok()?;
        }
        let file = File::options().create(true).truncate(false).write(true).open(path).ok()?;
        file.lock().ok()?;
        Some(file)
    }

    /// The open store, opening it if needed. Called with the lock held.
    fn store(&self) -> keyring_core::Result<Arc<CredentialStore>> {
        let mut slot = self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = (self.open)()?;
        *slot = Some(store.clone());
        Ok(store)
    }

    fn forget(&self) {
        *self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Runs `op` against the store under the cross-process lock; where the service went
    /// away during it, once more on a new connection.
    fn call<T>(
        &self,
        op: impl Fn(&Arc<CredentialStore>) -> keyring_core::Result<T>,
    ) -> Result<T, KeyStoreError> {
        let _lock = self.lock();
        let first = self.store().and_then(|store| op(&store));
        match first {
            Err(e) if went_away(&e) => {
                self.forget();
                self.store().and_then(|store| op(&store)).map_err(restarted)
            }
            other => other.map_err(self.explain),
        }
    }
}

/// The process's one connection to the platform keychain.
fn platform_connection() -> Arc<Connection> {
    static PLATFORM: OnceLock<Arc<Connection>> = OnceLock::new();
    PLATFORM
        .get_or_init(|| {
            Arc::new(Connection {
                open: Box::new(platform_store),
                store: Mutex::new(None),
                lock: lock_path(),
                explain: unavailable,
            })
        })
        .clone()
}

/// The process's one connection to the kernel's session keyring.
#[cfg(target_os = "linux")]
fn kernel_connection() -> Arc<Connection> {
    static KERNEL: OnceLock<Arc<Connection>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            Arc::new(Connection {
                open: Box::new(super::kernel::KernelStore::open),
                store: Mutex::new(None),
                lock: None,
                explain: |e| KeyStoreError::Keychain {
                    problem: KeychainProblem::Kernel,
                    detail: e.to_string(),
                },
            })
        })
        .clone()
}

/// The per-user lock file for keychain calls, in the user's cache folder (the same for
/// every data folder: one keychain serves them all).
fn lock_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "countersign").map(|d| d.cache_dir().join("keychain.lock"))
}

impl Secrets {
    /// The platform's keychain, connected (or why it cannot be). `service` names
    /// Countersign's entries in it.
    pub fn platform(service: &str) -> Result<Self, KeyStoreError> {
        let secrets = Secrets { connection: platform_connection(), service: service.to_owned() };
        secrets.connection.call(|_| Ok(()))?;
        Ok(secrets)
    }

    /// The keychain `COUNTERSIGN_KEYCHAIN` names: unset (or `platform`), the platform's; on
    /// Linux, `kernel` for the kernel's session keyring (see the `kernel` module).
    pub fn configured(service: &str) -> Result<Self, KeyStoreError> {
        let choice = std::env::var(KEYCHAIN_ENV).unwrap_or_default();
        match choice.as_str() {
            "" | "platform" => Self::platform(service),
            #[cfg(target_os = "linux")]
            "kernel" => Self::kernel(service),
            _ => Err(KeyStoreError::UnknownKeychain(choice)),
        }
    }

    /// The kernel's session keyring (Linux): for machines with no Secret Service.
    #[cfg(target_os = "linux")]
    pub fn kernel(service: &str) -> Result<Self, KeyStoreError> {
        let secrets = Secrets { connection: kernel_connection(), service: service.to_owned() };
        secrets.connection.call(|_| Ok(()))?;
        Ok(secrets)
    }

    /// Any keyring-core store; the tests' in-memory one.
    pub fn with_store(store: Arc<CredentialStore>, service: &str) -> Self {
        let fixed = store.clone();
        let connection = Connection {
            open: Box::new(move || Ok(fixed.clone())),
            store: Mutex::new(Some(store)),
            lock: None,
            explain: unavailable,
        };
        Secrets { connection: Arc::new(connection), service: service.to_owned() }
    }

    /// An in-memory store that forgets everything when dropped (unit tests only).
    pub fn in_memory(service: &str) -> Result<Self, KeyStoreError> {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().map_err(unavailable)?;
        Ok(Self::with_store(store, service))
    }

    fn entry(&self, store: &Arc<CredentialStore>, id: &str) -> keyring_core::Result<Entry> {
        Entry::new_in_store(store, &self.service, id)
    }

    /// Stores `secret` in entry `id`, replacing what the entry held.
    pub fn put(&self, id: &str, secret: &str) -> Result<(), KeyStoreError> {
        self.connection.call(|store| self.entry(store, id)?.set_password(secret))
    }

    /// The secret, or `None` when the keychain has no such entry.
    pub fn get(&self, id: &str) -> Result<Option<Zeroizing<String>>, KeyStoreError> {
        self.connection.call(|store| match self.entry(store, id)?.get_password() {
            Ok(s) => Ok(Some(Zeroizing::new(s))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Removes the entry; one already gone is not an error.
    pub fn delete(&self, id: &str) -> Result<(), KeyStoreError> {
        self.connection.call(|store| match self.entry(store, id)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
    }

    /// The ids of all of this service's entries, where the store can search (the Secret
    /// Service, the Credential Manager and the in-memory store can; a store that cannot
    /// gives `None`).
    pub fn ids(&self) -> Result<Option<Vec<String>>, KeyStoreError> {
        let (key, value) = search_for(&self.service);
        let spec = std::collections::HashMap::from([(key, value.as_str())]);
        self.connection.call(|store| match store.search(&spec) {
            // Reading each entry's name is part of the same locked call, so no other
            // Countersign can delete an entry between the search and the read. Only this
            // service's entries count, whatever the store's search also matched.
            Ok(entries) => Ok(Some(
                entries
                    .iter()
                    .filter_map(|e| e.get_specifiers())
                    .filter(|(service, _)| *service == self.service)
                    .map(|(_, user)| user)
                    .collect(),
            )),
            Err(keyring_core::Error::NotSupportedByStore(_)) => Ok(None),
            Err(e) => Err(e),
        })
    }
}

/// The search that finds a service's entries: the Secret Service and the macOS Keychain
/// match the service attribute.
#[cfg(not(target_os = "windows"))]
fn search_for(service: &str) -> (&'static str, String) {
    ("service", service.to_owned())
}

/// The search that finds a service's entries: the Windows Credential Manager store takes
/// only a regular expression over each credential's target name, which is `<user>.<service>`
/// (the store's default delimiters). It refuses a `service` key outright ("unknown key"),
/// so that until this was found under Wine, unlisted entries were never found on Windows.
#[cfg(target_os = "windows")]
fn search_for(service: &str) -> (&'static str, String) {
    // The characters a regular expression gives a meaning to, as regex::escape lists them.
    let escaped: String = service
        .chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$#&-~".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect();
    ("pattern", format!("^[^.]+\\.{escaped}$"))
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

/// True when the keychain service that this connection knew is gone: its process died
/// during the call (D-Bus: "NoReply: Message recipient disconnected from message bus"), the
/// one now answering does not know this connection's session (GNOME Keyring:
/// "NoSession: The session does not exist", after a restart), or the connection broke.
fn went_away(e: &keyring_core::Error) -> bool {
    let text = e.to_string().to_lowercase();
    [
        "error.noreply",
        "disconnected from message bus",
        "error.nosession",
        "connection reset",
        "broken pipe",
        "socket closed",
        "connection closed",
    ]
    .iter()
    .any(|sign| text.contains(sign))
}

/// The service restarted under us and the retry failed too: most likely because the new
/// one is locked (it does not inherit the old one's unlocking).
fn restarted(e: keyring_core::Error) -> KeyStoreError {
    KeyStoreError::Keychain { problem: KeychainProblem::Restarted, detail: e.to_string() }
}

/// Turns a keychain failure into the sentence that says which failure it is and how to fix
/// it. Never falls back to another store.
pub(super) fn unavailable(e: keyring_core::Error) -> KeyStoreError {
    let detail = e.to_string();
    let lower = detail.to_lowercase();
    let no_session = cfg!(target_os = "linux")
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && !session_bus_socket_exists();
    // The Secret Service's messages, as zbus-secret-service words them: "no secret service
    // provider or dbus session found" (nothing answers), "result not returned from SS API"
    // (a locked collection whose unlock prompt cannot be shown), "... is locked", "prompt
    // dismissed" (an unlock prompt was cancelled, or could not be shown).
    let reason = if no_session {
        KeychainProblem::NoSession
    } else if went_away(&e) {
        KeychainProblem::Restarted
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
        let uid =
            std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0);
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
    /// The keychain is locked, and its unlock prompt was dismissed or could not be shown.
    Locked,
    /// Access to the keychain was denied.
    Denied,
    /// The keychain service stopped in the middle of a call, and the one started in its
    /// place did not answer either (it starts locked).
    Restarted,
    /// Linux, `COUNTERSIGN_KEYCHAIN=kernel`: the kernel's keyring refused.
    Kernel,
    /// Any other failure.
    Other,
}

impl KeychainProblem {
    /// What went wrong and how to fix it, as the middle of a sentence (no capital, no full stop).
    pub fn explain(self) -> &'static str {
        match self {
            KeychainProblem::NoSession => {
                "there is no D-Bus session, so no Secret Service can be reached (a plain SSH or container shell has none). Log in to a desktop session, or start one with `dbus-run-session` and a keyring daemon (gnome-keyring-daemon); on a build machine, COUNTERSIGN_KEYCHAIN=kernel keeps keys in the kernel's session keyring instead, for as long as the session lasts"
            }
            KeychainProblem::NotRunning => {
                "no Secret Service answers on this D-Bus session. Start GNOME Keyring or KWallet (on a headless machine: `gnome-keyring-daemon --unlock --components=secrets` inside a D-Bus session; or COUNTERSIGN_KEYCHAIN=kernel, which keeps keys in the kernel's session keyring for as long as the session lasts)"
            }
            KeychainProblem::Locked => {
                "the keychain is locked, and its unlock prompt was dismissed or could not be shown (a keyring service that has just restarted starts locked too). Unlock it (log in to the desktop again, or unlock the \"Login\" keyring in your keyring manager, such as Passwords and Keys; headless: `gnome-keyring-daemon --replace --unlock --components=secrets`, reading the password on standard input) and retry"
            }
            KeychainProblem::Denied => {
                "access to the keychain was denied. Allow Countersign when the system asks, and retry"
            }
            KeychainProblem::Restarted => {
                "the keychain service (on Linux, GNOME Keyring or KWallet) stopped while Countersign was using it, and the one the desktop started in its place did not answer: a restarted keyring comes back locked. Countersign's list of keys is as it was before this step, and no listed key lost its private key. Unlock the keyring (log in to the desktop again, or unlock the \"Login\" keyring in your keyring manager; headless: `gnome-keyring-daemon --replace --unlock --components=secrets`, reading the password on standard input) and retry"
            }
            KeychainProblem::Kernel => {
                "the kernel's keyring (COUNTERSIGN_KEYCHAIN=kernel) refused: this user's key quota may be full, or keyctl is blocked (a container's default seccomp profile blocks keyctl and add_key: allow them). Leave COUNTERSIGN_KEYCHAIN unset to use the desktop's keychain instead"
            }
            KeychainProblem::Other => {
                "the keychain refused the request. Check that it is running and unlocked"
            }
        }
    }
}
