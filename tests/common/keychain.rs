//! A test's own key store in the real Secret Service: a fresh data folder and keychain
//! service name, cleared when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use zeroize::Zeroizing;

use super::*;

/// One test's key store: a fresh data folder and keychain service name.
pub struct Keychain {
    pub dir: tempfile::TempDir,
    pub service: String,
}

impl Keychain {
    /// `None` (skipping, or failing under CI) when no Secret Service can be reached.
    pub fn new() -> Option<Self> {
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).unwrap();
        let k = Keychain { dir: tempdir(), service: format!("countersign-test-{}", countersign::hex::lower(&id)) };
        let (code, _, err) = k.run(&["keys", "list"]);
        if code != 0 {
            let msg = format!("no usable Secret Service ({}); run the tests inside a D-Bus session with an unlocked gnome-keyring, as .ci/run does", err.trim());
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        if !have_tool("secret-tool", "--version") {
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
        c.args(args).current_dir(self.path()).env("COUNTERSIGN_HOME", home).env("COUNTERSIGN_KEYCHAIN_SERVICE", service);
        c
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
        let index: serde_json::Value = serde_json::from_slice(&std::fs::read(self.home().join("keys.json")).unwrap()).unwrap();
        index["keys"].as_array().unwrap().iter().find(|k| k["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// The secret as the Secret Service itself returns it.
    pub fn secret_tool_lookup(&self, id: &str) -> Option<Zeroizing<String>> {
        let out = Command::new("secret-tool").args(["lookup", "service", &self.service, "username", id]).output().unwrap();
        out.status.success().then(|| Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned()))
    }
}

impl Drop for Keychain {
    fn drop(&mut self) {
        let _ = Command::new("secret-tool").args(["clear", "service", &self.service]).status();
    }
}

