//! A test's own key store in a real keychain: a fresh data folder and keychain service name,
//! cleared when dropped.
//! - On Linux most tests use the kernel's session keyring (`COUNTERSIGN_KEYCHAIN=kernel`),
//!   which needs no daemon; the tests about the Secret Service itself (the window-and-command-
//!   lines race, the secret scan, the keychain restart) ask for [`Keychain::system`], GNOME
//!   Keyring, looked into with `secret-tool`, an independent client.
//! - Elsewhere every test uses the platform's keychain (the macOS Keychain, the Windows
//!   Credential Manager), looked into through the store Countersign itself uses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use zeroize::Zeroizing;

use super::*;

/// The tests of one process share the session's keychain service; the one test that kills
/// and replaces it (`keychain_restart`) takes it alone.
static KEYCHAIN_SERVICE: RwLock<()> = RwLock::new(());

std::thread_local! {
    /// Set while this thread's test holds the keychain alone (see [`alone`]).
    static HOLDS_ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A test's turn at the keychain service: shared with other tests, alone, or inside a turn
/// its thread holds alone already.
#[allow(dead_code)] // held, never read
enum Turn {
    Shared(RwLockReadGuard<'static, ()>),
    Alone(RwLockWriteGuard<'static, ()>),
    Nested,
}

/// The keychain service to this test alone while the guard lives: for a test that puts it
/// under heavy load from many processes (the window-and-command-lines race, the secret
/// scan), as when each ran in a process of its own. Its own `Keychain::new` calls, on this
/// thread, take no further turn.
pub struct AloneGuard(#[allow(dead_code)] RwLockWriteGuard<'static, ()>);

impl Drop for AloneGuard {
    fn drop(&mut self) {
        HOLDS_ALONE.with(|h| h.set(false));
    }
}

/// The keyring daemon the first test of this process met (`None`: none, or not yet asked).
#[cfg(target_os = "linux")]
static FIRST_DAEMON: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();

/// The password of the session's throwaway keyring, where the tests are told it (`.ci/run`).
const PASSWORD_ENV: &str = "COUNTERSIGN_TEST_KEYRING_PASSWORD";

/// The pid of the process that owns the Secret Service name on this session bus.
#[cfg(target_os = "linux")]
pub fn keyring_daemon() -> Option<u32> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)?
        .parse()
        .ok()
}

/// Replaces whatever keyring daemon runs with an unlocked one, as logging in again does.
#[cfg(target_os = "linux")]
pub fn unlock_keyring(password: &str, old: Option<u32>) {
    use std::io::Write as _;
    use std::time::{Duration, Instant};
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--replace", "--unlock", "--components=secrets"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon runs");
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while keyring_daemon().is_none() || keyring_daemon() == old {
        assert!(start.elapsed() < Duration::from_secs(60), "no new keyring daemon took the name");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// GNOME Keyring 42 (Debian 12's) now and then aborts under a burst of short-lived clients
/// (upstream gnome-keyring issues 190, 196 and 199: a NULL client record in
/// `gkd_secret_service_get_pkcs11_session`), and D-Bus starts a replacement that is locked.
/// On a desktop, logging in again unlocks it; here, where the throwaway keyring's password
/// is known, this does the same, says so loudly, and returns true. `err` is what a
/// Countersign command said.
fn recover_a_dead_daemon(err: &str) -> bool {
    // Only Countersign's sentences for a locked or restarted keychain, and only once the
    // daemon is another process than the one the tests started with: any other refusal is
    // the test's to report.
    #[cfg(target_os = "linux")]
    if let Ok(password) = std::env::var(PASSWORD_ENV)
        && (err.contains("the keychain is locked, and its unlock prompt was dismissed")
            || err.contains("stopped while Countersign was using it"))
        && keyring_daemon() != *FIRST_DAEMON.get_or_init(keyring_daemon)
    {
        use std::io::Write as _;
        // Past the test harness's capture, so the note shows in a passing run's log too.
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: the keyring daemon was replaced by a locked one (GNOME Keyring aborts under bursts of clients, upstream gnome-keyring issue 196). Unlocking the replacement, as logging in again does. Countersign said: {}",
            err.trim()
        );
        unlock_keyring(&password, keyring_daemon());
        return true;
    }
    let _ = err;
    false
}

/// Runs `test` (a test that loads the keychain heavily, holding it [`alone`]); if it fails
/// because the keyring daemon died under it (the daemon's pid changed meanwhile: see
/// [`recover_a_dead_daemon`]), unlocks the replacement and runs it once more, saying so.
/// A failure with the same daemon throughout, or a second failure, fails the test.
pub fn again_if_the_daemon_dies(test: impl Fn()) {
    #[cfg(target_os = "linux")]
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        let before = keyring_daemon();
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&test));
        let Err(panic) = first else { return };
        let after = keyring_daemon();
        if before.is_none() || after == before {
            std::panic::resume_unwind(panic);
        }
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: the keyring daemon died during this test (pid {before:?}, now {after:?}; GNOME Keyring aborts under bursts of clients, upstream gnome-keyring issue 196). Unlocking its replacement and running the test once more."
        );
        unlock_keyring(&password, after);
        test();
        return;
    }
    test();
}

/// See [`AloneGuard`].
pub fn alone() -> AloneGuard {
    let guard = KEYCHAIN_SERVICE.write().unwrap_or_else(PoisonError::into_inner);
    HOLDS_ALONE.with(|h| h.set(true));
    AloneGuard(guard)
}

/// Which keychain a test's key store is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Store {
    /// The platform's keychain: the Secret Service (GNOME Keyring) on Linux.
    System,
    /// Linux: the kernel's session keyring, no daemon needed.
    Kernel,
}

/// The store most tests use: the kernel's keyring on Linux, the platform's elsewhere, and on
/// a Linux machine whose kernel refuses keyctl (a container's seccomp profile), the
/// platform's too, saying so once.
fn default_store() -> Store {
    #[cfg(target_os = "linux")]
    {
        static KERNEL_WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let works = *KERNEL_WORKS.get_or_init(|| match countersign::keystore::Secrets::kernel("countersign-test-probe") {
            Ok(_) => true,
            Err(e) => {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTE: the kernel's keyring cannot be used here ({e}); the tests use the Secret Service instead"
                );
                false
            }
        });
        if works {
            return Store::Kernel;
        }
    }
    Store::System
}

/// One test's key store: a fresh data folder and keychain service name.
pub struct Keychain {
    pub dir: tempfile::TempDir,
    pub service: String,
    pub store: Store,
    /// Released after `Drop` has cleared this test's entries.
    _turn: Turn,
}

impl Keychain {
    /// A key store in the default store (see the module's comment); `None` (skipping, or
    /// failing under CI) when it cannot be used.
    pub fn new() -> Option<Self> {
        Self::in_store(default_store())
    }

    /// A key store in the platform's keychain, for the tests about the keychain service
    /// itself; `None` (skipping, or failing under CI) when no Secret Service can be reached.
    pub fn system() -> Option<Self> {
        Self::in_store(Store::System)
    }

    fn in_store(store: Store) -> Option<Self> {
        if store == Store::Kernel {
            // The kernel serves concurrent callers on its own: no turns to take.
            return Self::with_turn(store, Turn::Nested);
        }
        if HOLDS_ALONE.with(|h| h.get()) {
            return Self::with_turn(store, Turn::Nested);
        }
        Self::with_turn(store, Turn::Shared(KEYCHAIN_SERVICE.read().unwrap_or_else(PoisonError::into_inner)))
    }

    /// [`system`](Self::system) for a test that stops or replaces the keychain service: no
    /// other test of this process uses it meanwhile.
    pub fn alone() -> Option<Self> {
        Self::with_turn(
            Store::System,
            Turn::Alone(KEYCHAIN_SERVICE.write().unwrap_or_else(PoisonError::into_inner)),
        )
    }

    fn with_turn(store: Store, turn: Turn) -> Option<Self> {
        let k = Keychain { dir: tempdir(), service: fresh_service_name(), store, _turn: turn };
        let (mut code, _, mut err) = k.run(&["keys", "list"]);
        #[cfg(target_os = "linux")]
        if code == 0 {
            FIRST_DAEMON.get_or_init(keyring_daemon);
        }
        if code != 0 && recover_a_dead_daemon(&err) {
            (code, _, err) = k.run(&["keys", "list"]);
        }
        if code != 0 {
            let msg = match store {
                Store::System => format!(
                    "no usable Secret Service ({}); run the tests inside a D-Bus session with an unlocked gnome-keyring, as .ci/run does",
                    err.trim()
                ),
                Store::Kernel => format!("the kernel's keyring cannot be used here ({})", err.trim()),
            };
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            skipped(&msg);
            return None;
        }
        if cfg!(target_os = "linux") && store == Store::System && !have_tool("secret-tool", "--version") {
            return None;
        }
        Some(k)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn cmd(&self, home: &Path, service: &str, args: &[&str]) -> Command {
        let mut c = bin();
        c.args(args)
            .current_dir(self.path())
            .env("COUNTERSIGN_HOME", home)
            .env("COUNTERSIGN_KEYCHAIN_SERVICE", service);
        self.choose_store(&mut c);
        c
    }

    /// Points `cmd` at this test's keychain (the kernel's, or the platform's).
    pub fn choose_store(&self, cmd: &mut Command) {
        match self.store {
            Store::Kernel => cmd.env("COUNTERSIGN_KEYCHAIN", "kernel"),
            Store::System => cmd.env_remove("COUNTERSIGN_KEYCHAIN"),
        };
    }

    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        decode(self.cmd(&self.home(), &self.service, args).output().unwrap())
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    }

    /// The keychain id of a key, from the index.
    pub fn id_of(&self, name: &str) -> String {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.home().join("keys.json")).unwrap()).unwrap();
        index["keys"].as_array().unwrap().iter().find(|k| k["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The secret as the keychain itself returns it (the Secret Service: as `secret-tool`
    /// reads it).
    pub fn lookup(&self, id: &str) -> Option<Zeroizing<String>> {
        match self.store {
            Store::System => lookup(&self.service, id),
            Store::Kernel => self.connect().get(id).unwrap(),
        }
    }

    /// Removes one entry behind Countersign's back, as another program or a person might.
    pub fn remove_entry(&self, id: &str) {
        match self.store {
            Store::System => remove_entry(&self.service, id),
            Store::Kernel => self.connect().delete(id).unwrap(),
        }
    }

    /// The test's keychain, connected from this process.
    pub fn connect(&self) -> countersign::keystore::Secrets {
        match self.store {
            Store::System => countersign::keystore::Secrets::platform(&self.service).unwrap(),
            #[cfg(target_os = "linux")]
            Store::Kernel => countersign::keystore::Secrets::kernel(&self.service).unwrap(),
            #[cfg(not(target_os = "linux"))]
            Store::Kernel => unreachable!("the kernel's keyring is Linux's"),
        }
    }
}

#[cfg(target_os = "linux")]
fn lookup(service: &str, id: &str) -> Option<Zeroizing<String>> {
    let out =
        Command::new("secret-tool").args(["lookup", "service", service, "username", id]).output().unwrap();
    out.status.success().then(|| Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[cfg(not(target_os = "linux"))]
fn lookup(service: &str, id: &str) -> Option<Zeroizing<String>> {
    countersign::keystore::Secrets::platform(service).unwrap().get(id).unwrap()
}

#[cfg(target_os = "linux")]
fn remove_entry(service: &str, id: &str) {
    assert!(
        Command::new("secret-tool")
            .args(["clear", "service", service, "username", id])
            .status()
            .unwrap()
            .success()
    );
}

#[cfg(not(target_os = "linux"))]
fn remove_entry(service: &str, id: &str) {
    countersign::keystore::Secrets::platform(service).unwrap().delete(id).unwrap();
}

/// Removes every entry of `service` (a test's own): Linux finds them all with `secret-tool`;
/// the other stores cannot be searched, so the ids are given.
pub fn clear_service(service: &str, ids: &[String]) {
    #[cfg(target_os = "linux")]
    {
        let _ = ids;
        let _ = Command::new("secret-tool").args(["clear", "service", service]).status();
    }
    #[cfg(not(target_os = "linux"))]
    if let Ok(secrets) = countersign::keystore::Secrets::platform(service) {
        for id in ids {
            let _ = secrets.delete(id);
        }
    }
}

/// The keychain ids an index file lists.
pub fn listed_ids(index: &Path) -> Vec<String> {
    std::fs::read(index)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["keys"]
                .as_array()
                .map(|keys| keys.iter().filter_map(|k| k["id"].as_str().map(str::to_owned)).collect())
        })
        .unwrap_or_default()
}

impl Drop for Keychain {
    fn drop(&mut self) {
        let ids = listed_ids(&self.home().join("keys.json"));
        match self.store {
            Store::System => clear_service(&self.service, &ids),
            Store::Kernel => {
                let secrets = self.connect();
                let all = secrets.ids().ok().flatten().unwrap_or(ids);
                for id in all {
                    let _ = secrets.delete(&id);
                }
            }
        }
    }
}

/// A test's own data folder over an in-memory keychain (keyring-core's mock store, which
/// stores, searches and deletes as the real ones do, in this process only): for the window's
/// flows, which are about the window and not about the keychain. The tests about the
/// keychain itself (the window-and-command-lines race, the secret scan, the keychain
/// restart) use [`Keychain`], the real one; the rest need no daemon.
pub struct MemoryKeychain {
    dir: tempfile::TempDir,
    secrets: countersign::keystore::Secrets,
}

impl MemoryKeychain {
    pub fn new() -> Self {
        MemoryKeychain {
            dir: tempdir(),
            secrets: countersign::keystore::Secrets::in_memory("countersign-test").unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The secret as the store holds it.
    pub fn lookup(&self, id: &str) -> Option<Zeroizing<String>> {
        self.secrets.get(id).unwrap()
    }

    pub fn secrets(&self) -> countersign::keystore::Secrets {
        self.secrets.clone()
    }
}

/// Where a test's window keeps its data and secrets: the real keychain or the in-memory one.
pub trait TestKeychain {
    /// The test's own folder (documents, dialogs start here).
    fn folder(&self) -> &Path;
    /// The data folder (`COUNTERSIGN_HOME`).
    fn data_home(&self) -> PathBuf;
    fn connect(&self) -> countersign::keystore::Secrets;
}

impl TestKeychain for MemoryKeychain {
    fn folder(&self) -> &Path {
        self.path()
    }
    fn data_home(&self) -> PathBuf {
        self.home()
    }
    fn connect(&self) -> countersign::keystore::Secrets {
        self.secrets()
    }
}

impl TestKeychain for Keychain {
    fn folder(&self) -> &Path {
        self.path()
    }
    fn data_home(&self) -> PathBuf {
        self.home()
    }
    fn connect(&self) -> countersign::keystore::Secrets {
        Keychain::connect(self)
    }
}
