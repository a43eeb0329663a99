//! The window's flows (first run, signing, history, backup, import), each step's
//! accessibility tree and clipboard kept for the scan.

use std::path::PathBuf;

use super::super::harness::Window;
use super::keys::{KeySecrets, key_from_file};
use super::{PASS, Shown, openssl_encrypted_ed25519, s};
use crate::common::keychain::Keychain;
use crate::common::*;

struct WindowLog<'a> {
    w: Window,
    shown: &'a mut Shown,
    step: usize,
}

impl WindowLog<'_> {
    /// Keeps everything the window now exposes: labels, values and descriptions of every
    /// accessibility node (what a screen reader, or a screenshot, would get).
    fn snapshot(&mut self, after: &str) {
        fn walk(n: egui_kittest::Node<'_>, out: &mut String) {
            use egui_kittest::kittest::NodeT as _;
            let a = n.accesskit_node();
            for t in [a.label(), a.value(), a.description()].into_iter().flatten() {
                out.push_str(&t);
                out.push('\n');
            }
            for c in n.children() {
                walk(c, out);
            }
        }
        let mut text = String::new();
        walk(self.w.harness.root(), &mut text);
        self.step += 1;
        self.shown.texts.push((
            format!("window accessibility tree after step {} ({after})", self.step),
            text.into_bytes(),
        ));
    }

    fn click(&mut self, flow: &str, label: &str) {
        let copied = self.w.click_and_copy(label);
        for c in copied {
            self.shown.texts.push((format!("window clipboard after clicking {label:?}"), c.into_bytes()));
        }
        self.shown.flows.insert(format!("window: {flow}"));
        self.snapshot(&format!("clicked {label:?}"));
    }

    fn type_into(&mut self, label: &str, text: &str) {
        self.w.type_into(label, text);
        self.snapshot(&format!("typed into {label:?}"));
    }

    fn copied_count(&self) -> usize {
        self.shown.texts.iter().filter(|(l, _)| l.starts_with("window clipboard")).count()
    }
}

/// The window's first run, signing, history, backup and import. Returns its plaintext input
/// key files and its keys.
pub(super) fn window_flows(k: &Keychain, shown: &mut Shown) -> (Vec<PathBuf>, Vec<KeySecrets>) {
    let inputs = k.path().join("inputs");
    let jars = k.path().join("jars");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::create_dir_all(&jars).unwrap();
    let enc = inputs.join("window-enc.pem");
    openssl_encrypted_ed25519(&enc);
    let jar = jars.join("acme-app-1.2.jar");
    make_app_jar(&jar, "com.acme.app", "1.2.0", 20_000);

    let mut l = WindowLog { w: Window::open(k), shown, step: 0 };
    l.snapshot("opened");
    l.w.expect("Welcome to Countersign");
    l.type_into("Organisation", "Acme Software");
    l.type_into("Your name or team", "Acme Support");
    l.click("first run", "Create signing key and certificate");
    l.w.expect("is in the system keychain");
    l.click("first run", "Copy path");
    l.click("first run", "Start signing");

    l.w.drop_files(&[&jar]);
    l.snapshot("dropped the jar");
    l.type_into("Note", "ACME-42 for Globex");
    l.click("sign", "Sign 1 file");
    l.w.expect("Signed.");
    l.click("sign", "Copy signature");
    l.click("sign", "Verify bundle");
    l.w.expect("is good: UPM will accept it once");

    l.click("history", "History");
    let csv = k.path().join("window-history.csv");
    l.w.desktop.answer(Some(&csv));
    l.click("history", "Export CSV…");
    assert!(std::fs::read_to_string(&csv).unwrap().contains("ACME-42 for Globex"));

    l.click("backup", "Keys");
    l.click("backup", "Copy public key");
    l.type_into("Backup passphrase", PASS);
    l.type_into("Repeat passphrase", PASS);
    let backup = k.path().join("window-backup.pem");
    l.w.desktop.answer(Some(&backup));
    l.click("backup", "Save backup…");
    l.w.expect("Backup written to");

    l.click("import (encrypted)", "Import key…");
    l.type_into("Key file", s(&enc));
    l.type_into("Name for the key", "window-imported");
    l.type_into("Passphrase (if encrypted)", PASS);
    l.click("import (encrypted)", "Import key");
    l.w.expect("Imported Ed25519 key \"window-imported\"");
    assert!(l.copied_count() >= 3, "the copy buttons put something on the clipboard");
    drop(l);

    let keys = vec![
        key_from_file("window first-run key", &backup, Some(PASS)),
        key_from_file("window imported key", &enc, Some(PASS)),
    ];
    (vec![], keys)
}
