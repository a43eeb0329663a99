//! The window's user flows, driven headlessly with egui_kittest: widgets are found by their
//! accessible labels, clicked and typed into; dropped files arrive as the window system
//! delivers them. Keys live in the real Secret Service, and what the window writes is checked
//! by the core (and by openssl where it reads it).

use std::path::Path;

use super::harness::Window;
use crate::common::keychain::MemoryKeychain;
use crate::common::*;
use countersign::bundle::{self, VerifyTarget};
use countersign::certs::{self, Subject};
use countersign::keys::Algorithm;
use countersign::progress::Progress;
use eframe::egui;
#[allow(unused_imports)]
use egui_kittest::kittest::Queryable as _;
use time::{Duration, OffsetDateTime};

/// A key with a fresh self-signed certificate, made through the core.
fn key_with_certificate(w: &Window, name: &str) {
    w.store.generate(name, Algorithm::Ed25519).unwrap();
    let subject = Subject {
        common_name: "Acme Support".into(),
        organization: Some("Acme Ltd".into()),
        ..Subject::default()
    };
    w.store.self_sign(name, &subject, 365, OffsetDateTime::now_utc()).unwrap();
}

fn verify_dir(dir: &Path) -> bundle::Report {
    let target = VerifyTarget { path: dir.to_path_buf(), ..VerifyTarget::default() };
    bundle::verify_target(&target, None, OffsetDateTime::now_utc(), &Progress::new()).unwrap()
}

/// Opens the window on a store that already has a key, past the first-run setup.
fn window_with_key(k: &MemoryKeychain) -> Window {
    let mut w = Window::open(k);
    key_with_certificate(&w, "acme");
    // The window read an empty store at start; the Keys view reloads it.
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Sign");
    w
}

#[test]
fn first_run_makes_a_key_and_certificate_and_shows_the_customers_copy() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.expect("Welcome to Countersign");
    assert!(!w.is_enabled("Create signing key and certificate"), "the button waits for both names");
    w.type_into("Organisation", "Acme Software");
    w.type_into("Your name or team", "Acme Support");
    w.click("Create signing key and certificate");
    w.expect("is in the system keychain");

    let keys = w.store.list().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].algorithm, Algorithm::Ed25519);
    let crt = w.documents.join(format!("{}.crt", keys[0].file_stem()));
    w.expect(&crt.display().to_string());
    let chain = certs::Certificate::all_from_file_bytes(&std::fs::read(&crt).unwrap(), "crt").unwrap();
    assert_eq!(
        chain[0].public_key("crt").unwrap(),
        keys[0].public().unwrap(),
        "the customer's certificate carries the new key"
    );
    assert!(chain[0].subject().contains("Acme Software"), "{}", chain[0].subject());

    let copied = w.click_and_copy("Copy path");
    assert_eq!(copied, vec![crt.display().to_string()]);
    w.click("Open folder");
    assert_eq!(*w.desktop.opened.lock().unwrap(), vec![w.documents.clone()]);
    w.click("Start signing");
    w.expect("Drop a .jar or .obr here");
}

#[test]
fn the_keyboard_moves_between_fields_and_presses_buttons() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.type_into("Organisation", "Initech");
    w.harness.key_press(egui::Key::Tab);
    w.settle();
    assert!(w.harness.get_by_label("Your name or team").is_focused(), "Tab goes to the next field");
    w.harness.get_by_label("Your name or team").type_text("Initech Support");
    w.settle();
    w.harness.key_press(egui::Key::Tab);
    w.settle();
    assert!(w.harness.get_by_label("Create signing key and certificate").is_focused(), "then to the button");
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    w.expect("is in the system keychain");
    assert_eq!(w.store.list().unwrap()[0].name, "Initech signing");
}

#[test]
fn a_dropped_jar_is_signed_into_a_bundle_the_core_accepts_and_lands_in_history() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("acme-app-1.2.jar");
    make_app_jar(&jar, "com.acme.app", "1.2.0", 50_000);
    w.drop_files(&[&jar]);
    w.expect("acme-app-1.2.jar");
    w.expect("key com.acme.app");
    w.expect("version 1.2.0");
    w.expect("SHA-256 ");
    w.type_into("Note", "ACME-42 for Globex");
    w.click("Sign 1 file");
    w.expect("Signed.");

    // Beside the jar, a folder with the app and its bundle: all the customer needs.
    let bundle_dir = k.path().join("acme-app-1.2-bundle");
    w.expect(&bundle_dir.display().to_string());
    let report = verify_dir(&bundle_dir);
    assert!(report.passed(), "{report:#?}");
    let sig = std::fs::read_to_string(bundle_dir.join("acme-app-1.2.jar.sig")).unwrap();
    assert_eq!(w.click_and_copy("Copy signature"), vec![sig.trim().to_owned()]);
    w.expect("The signature of acme-app-1.2.jar is on the clipboard");
    w.click("Open folder");
    assert_eq!(w.desktop.opened.lock().unwrap().len(), 1);

    // The result card's Verify runs the same check in the Verify view.
    w.click("Verify bundle");
    w.expect("is good: UPM will accept it once");

    // History: the entry is there, found by its note, with the bundle's folder.
    w.click("History");
    w.expect("ACME-42 for Globex");
    w.type_into("Search", "globex");
    w.expect("acme-app-1.2.jar");
    let loaded = w.history.load().unwrap();
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.entries[0].note.as_deref(), Some("ACME-42 for Globex"));
    assert_eq!(loaded.entries[0].key_name.as_deref(), Some("acme"));
    let csv = k.path().join("history.csv");
    w.desktop.answer(Some(&csv));
    w.click("Export CSV…");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().count() == 2 && text.contains("ACME-42 for Globex"), "{text}");
}

/// At 1,280 px the History table, with a long bundle folder, runs past the window's edge only
/// inside a sideways scroll: every column can be brought into view, the Bundle one included.
#[test]
fn the_history_table_scrolls_sideways_at_1280_pixels() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let folder =
        k.path().join("customers-globex-corporation-production-cluster-upgrade-2026-with-custom-builds");
    std::fs::create_dir(&folder).unwrap();
    let jar = folder.join("acme-app-with-a-long-name-for-globex-1.2.jar");
    make_app_jar(&jar, "com.acme.app.with.a.long.plugin.key", "1.2.0", 1_000);
    w.drop_files(&[&jar]);
    w.type_into("Note", "ACME-42 for Globex Corporation, production cluster");
    w.click("Sign 1 file");
    w.expect("Signed.");
    w.harness.set_size(eframe::egui::vec2(1280.0, 800.0));
    w.click("History");
    let bundle_dir = w.history.load().unwrap().entries[0].bundle_dir.clone();
    let cell = w.harness.get_by_label(&bundle_dir);
    cell.scroll_to_me();
    w.settle();
    let r = w.harness.get_by_label(&bundle_dir).rect();
    assert!(r.left() >= 0.0 && r.right() <= 1280.0, "the Bundle column cannot be brought into view: {r:?}");
    let r = w.harness.get_by_label("Bundle").rect();
    assert!(r.right() <= 1280.0, "{r:?}");
}

#[test]
fn several_files_are_signed_as_a_queue_each_with_its_result() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let out = k.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let a = k.path().join("a.jar");
    let b = k.path().join("b.obr");
    let bad = k.path().join("notes.jar");
    make_app_jar(&a, "com.acme.a", "1.0", 1000);
    make_app_jar(&b, "com.acme.b", "2.0", 1000);
    std::fs::write(&bad, "this is not a zip").unwrap();
    w.desktop.answer(Some(&out));
    w.click("Choose output folder…");
    w.desktop.answer_artifacts(&[&a, &b, &bad]);
    w.click("Choose files…");
    // Not a zip: said at once, with what to do, and not queued.
    w.expect("notes.jar is not a zip archive, so it is not a .jar or .obr");
    w.click("Sign 2 files");
    assert_eq!(w.harness.query_all_by_label("Signed.").count(), 2, "{}", w.texts());
    for (stem, name) in [("a", "a.jar"), ("b", "b.obr")] {
        let dir = out.join(format!("{stem}-bundle"));
        assert!(dir.join(format!("{name}.sig")).is_file(), "{name}: {:?}", listing(&out));
        let report = verify_dir(&dir);
        assert!(report.passed(), "{name}: {report:#?}");
    }
    assert_eq!(listing(&out).iter().filter(|p| p.contains("notes")).count(), 0, "{:?}", listing(&out));
}

#[test]
fn signing_can_be_cancelled_and_leaves_nothing_behind() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let out = k.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let jar = k.path().join("big.jar");
    make_app_jar(&jar, "com.acme.big", "1.0", 400 << 20);
    w.type_into("Output folder", &out.display().to_string());
    w.drop_files(&[&jar]);
    w.harness.get_by_label("Sign 1 file").click();
    w.harness.step();
    w.harness.step();
    w.harness.get_by_label("Cancel").click();
    w.settle();
    w.expect("Cancelled; nothing was written.");
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Sign starts it again, and this time it finishes.
    w.click("Sign 1 file");
    w.expect("Signed.");
}

#[test]
fn the_sign_view_explains_each_error() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);

    // An output folder that cannot be written to (procfs refuses new files even to root).
    if cfg!(target_os = "linux") {
        w.type_into("Output folder", "/proc");
        w.drop_files(&[&jar]);
        w.click("Sign 1 file");
        w.expect("/proc");
        w.expect_not("Signed.");
        w.click("Remove");
    }

    // An expired certificate: shown before signing, and signing is not offered.
    let (_, key) = w.store.load("acme").unwrap();
    let now = OffsetDateTime::now_utc();
    let subject = Subject { common_name: "Old".into(), ..Subject::default() };
    let old = certs::self_signed(&key, &subject, now - Duration::days(400), now - Duration::days(2)).unwrap();
    w.store.add_certificate("acme", &[old]).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.drop_files(&[&jar]);
    w.expect("UPM refuses installs under it");
    assert!(!w.is_enabled("Sign 1 file"));

    // A P-384 key: the warning that UPM will refuse it, right there.
    w.store.generate("nist", Algorithm::EcdsaP384).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Signing key");
    w.expect("nist (");
    w.harness.get_by_label_contains("nist (").click();
    w.settle();
    w.expect("UPM accepts Ed25519 signatures only");
}

#[test]
fn keys_are_generated_renamed_backed_up_copied_and_deleted_from_the_window() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.click("I already have a key: import it");
    w.click("New key…");
    w.type_into("Key name", "vendor");
    w.click("Generate key");
    w.expect("Made Ed25519 key \"vendor\"");
    let record = w.store.get("vendor").unwrap();

    let copied = w.click_and_copy("Copy public key");
    assert_eq!(copied, vec![record.public_key.clone()]);

    w.type_into("New name", "vendor-2026");
    w.click("Rename");
    assert!(w.store.get("vendor-2026").is_ok() && w.store.get("vendor").is_err());

    // A backup the window writes opens with openssl and the passphrase.
    let backup = k.path().join("vendor-backup.pem");
    w.type_into("Backup passphrase", "correct horse battery");
    assert!(!w.is_enabled("Save backup…"), "not until the passphrase is repeated");
    w.type_into("Repeat passphrase", "correct horse battery");
    w.desktop.answer(Some(&backup));
    w.click("Save backup…");
    let pem = std::fs::read_to_string(&backup).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    if openssl_available() {
        assert!(openssl_ok(
            &["pkey", "-in", "vendor-backup.pem", "-passin", "pass:correct horse battery", "-noout"],
            k.path()
        ));
    }

    // Delete asks first, naming the key; keeping it keeps it.
    w.click("Delete…");
    w.expect("Delete key \"vendor-2026\"?");
    w.expect(&record.fingerprint);
    w.click("Keep it");
    assert!(w.store.get("vendor-2026").is_ok());
    w.click("Delete…");
    w.click("Delete \"vendor-2026\"");
    assert!(w.store.list().unwrap().is_empty());
    assert!(k.lookup(&record.id).is_none(), "the keychain entry is gone too");

    // Restore the backup: a wrong passphrase is a sentence, the right one brings the key back.
    w.click("Restore backup…");
    w.type_into("Key file", &backup.display().to_string());
    w.type_into("Name for the key", "restored");
    w.type_into("Passphrase (if encrypted)", "wrong passphrase");
    w.click("Restore key");
    w.expect("passphrase for");
    w.expect("is wrong");
    w.type_into("Passphrase (if encrypted)", "correct horse battery");
    w.click("Restore key");
    w.expect("Imported Ed25519 key \"restored\"");
    assert_eq!(w.store.get("restored").unwrap().fingerprint, record.fingerprint);
}

/// A passphrase typed into the window lives in one buffer that is wiped once it has done
/// its work, and no copy of it stays anywhere in the process: not in egui's memory (a text
/// field's undo history keeps every state of the text), not in freed copies of a growing
/// string. Checked by searching the whole of this process's memory for it.
#[test]
fn passphrases_typed_into_the_window_are_wiped_and_leave_no_copy_in_memory() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    w.click("Keys");
    // Made at run time, and kept only here: the test's own copy is not counted.
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).unwrap();
    let passphrase = zeroize::Zeroizing::new(format!("pp-{}", countersign::hex::lower(&random)));
    let scan = |what: &str| match occurrences_in_own_memory(passphrase.as_bytes()) {
        Some(found) => assert!(found.is_empty(), "{what}: the passphrase is still in memory at {found:x?}"),
        None => crate::common::skipped(&format!("this system's memory cannot be searched ({what})")),
    };

    w.type_keys("Backup passphrase", &passphrase);
    w.type_keys("Repeat passphrase", &passphrase);
    assert!(!w.harness.state().passphrases_wiped(), "typed, so not wiped yet");
    if let Some(found) = occurrences_in_own_memory(passphrase.as_bytes()) {
        // The search finds what is there: the two fields' buffers.
        assert!(found.len() >= 2, "the typed passphrase should be in the two fields, found {found:x?}");
    }
    // A cancelled save dialog keeps what was typed, for the next try.
    w.desktop.answer(None);
    w.click("Save backup…");
    assert!(w.is_enabled("Save backup…"), "the passphrases are still there after a cancelled dialog");
    let backup = k.path().join("acme-backup.pem");
    w.desktop.answer(Some(&backup));
    w.click("Save backup…");
    w.expect("Backup written to");
    assert!(w.harness.state().passphrases_wiped(), "both backup fields are wiped once the backup is written");
    scan("after the backup");

    // Restoring an encrypted backup: the import passphrase is wiped too. A key stored
    // already is refused, so the backed-up key goes first.
    w.store.delete("acme").unwrap();
    w.click("Restore backup…");
    w.type_into("Key file", &backup.display().to_string());
    w.type_into("Name for the key", "restored");
    w.type_keys("Passphrase (if encrypted)", &passphrase);
    w.click("Restore key");
    w.expect("Imported Ed25519 key \"restored\"");
    assert!(w.harness.state().passphrases_wiped(), "the import passphrase is wiped once the key is in");
    scan("after the restore");

    // Typed and then abandoned: leaving the view wipes it.
    w.type_keys("Backup passphrase", &passphrase);
    w.click("Sign");
    assert!(w.harness.state().passphrases_wiped(), "leaving the Keys view wipes what was typed there");
    scan("after leaving the view");
    // Last, because handing it to openssl copies it: the backup opens with that passphrase.
    if openssl_available() {
        let pass = format!("pass:{}", &*passphrase);
        assert!(openssl_ok(&["pkey", "-in", "acme-backup.pem", "-passin", &pass, "-noout"], k.path()));
    }
}

#[test]
fn certificates_are_made_requested_imported_and_renewed_from_the_window() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.store.generate("other", Algorithm::Ed25519).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Certificates");
    w.expect("has no certificate yet");
    w.type_into("Organisation", "Acme Ltd");
    w.click("Make self-signed certificate");
    w.expect("Made a self-signed certificate");
    w.expect("valid, 729 days left");
    assert_eq!(w.store.get("acme").unwrap().certificates.len(), 1);

    let csr = k.path().join("acme.csr");
    w.desktop.answer(Some(&csr));
    w.click("Save certificate request (CSR)…");
    assert!(std::fs::read_to_string(&csr).unwrap().contains("BEGIN CERTIFICATE REQUEST"));
    if openssl_available() {
        assert!(openssl_ok(&["req", "-in", "acme.csr", "-verify", "-noout"], k.path()));
    }

    // A certificate made for another key is refused, naming whose key it is.
    let (_, other) = w.store.load("other").unwrap();
    let now = OffsetDateTime::now_utc();
    let foreign = certs::self_signed(
        &other,
        &Subject { common_name: "Other".into(), ..Subject::default() },
        now,
        now + Duration::days(30),
    )
    .unwrap();
    let foreign_file = k.path().join("other.crt");
    std::fs::write(&foreign_file, foreign.to_pem()).unwrap();
    w.desktop.answer(Some(&foreign_file));
    w.click("Import issued certificate…");
    w.expect("is for another key");
    w.expect("stored key \"other\"");

    // Renew asks first, saying what it means for customers; Cancel changes nothing.
    w.click("Renew…");
    w.expect("Renew the certificate of \"acme\"? The current one is valid, 729 days left.");
    w.expect("every customer must add it to UPM's trust store");
    w.click("Cancel");
    assert_eq!(w.store.get("acme").unwrap().certificates.len(), 1);
    w.expect_not("superseded");
    w.click("Renew…");
    w.click("Renew now");
    w.expect("Renewed: ");
    assert_eq!(w.store.get("acme").unwrap().certificates.len(), 2);
    // The old one is marked, not just left without the "current" pill.
    assert_eq!(w.harness.query_all_by_label("superseded").count(), 1, "{}", w.texts());

    let saved = k.path().join("for-customers.crt");
    w.desktop.answer(Some(&saved));
    w.click("Save certificate for customers…");
    assert!(std::fs::read_to_string(&saved).unwrap().contains("BEGIN CERTIFICATE"));
}

#[test]
fn verify_passes_a_good_bundle_and_says_why_a_tampered_one_fails() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 5000);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed.");
    let bundle_dir = k.path().join("app-bundle");

    w.click("Verify bundle");
    w.expect("is good: UPM will accept it once");
    w.expect("PASS");

    flip_bit(&bundle_dir.join("app.jar"), 100);
    // Dropping onto the Verify view checks what was dropped.
    w.drop_files(&[&bundle_dir]);
    w.click("Check signature");
    w.expect("Rejected: UPM will refuse app.jar. Failed check");
    w.expect("FAIL");
    w.expect("Fix:");

    // Not a bundle at all: a sentence, not a checklist.
    let empty = k.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    w.drop_files(&[&empty]);
    w.click("Check signature");
    w.expect("is not a signature bundle");
}

#[test]
fn verify_clears_a_stale_verdict_and_checks_on_enter() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 5000);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed.");
    w.click("Verify bundle");
    w.expect("is good: UPM will accept it once");

    // Another path typed: the verdict about the old one is gone at once.
    w.type_into("Bundle or app", "-other");
    w.expect_not("is good");
    w.expect_not("PASS");
    // Enter in the field checks what it now says.
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    w.expect("app-bundle-other does not exist");
}

#[test]
fn a_trust_store_package_is_made_and_checked_from_the_window() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    w.click("Trust store");
    let out = k.path().join("packages");
    std::fs::create_dir(&out).unwrap();
    w.desktop.answer(Some(&out));
    w.click("Make trust-store package…");
    let package = out.join("acme-truststore");
    let store_dir = package.join("upmconfig").join("truststore");
    assert!(store_dir.join("acme.crt").is_file(), "{:?}", listing(&out));
    w.expect("Wrote the trust-store package");

    w.type_into("Trust-store folder", &store_dir.display().to_string());
    w.click("Check");
    w.expect("certificate(s)");
    w.expect("Atlassian CA");
}

/// A key the list has lost (an index restored from an older copy) is found from the Keys
/// view and listed again under a name, and then signs.
#[test]
fn a_key_the_list_lost_is_found_and_listed_again_from_the_window() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.store.generate("kept", Algorithm::Ed25519).unwrap();
    let old_index = std::fs::read(w.store.index_path()).unwrap();
    let lost = w.store.generate("lost", Algorithm::Ed25519).unwrap();
    std::fs::write(w.store.index_path(), old_index).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Keys");
    w.click("Look for unlisted keys");
    w.expect(&lost.id);
    w.type_into(&format!("Name for {}", lost.id), "found");
    w.click(&format!("List {}", lost.id));
    w.expect("Listed the keychain entry as Ed25519 key \"found\"");
    let found = w.store.get("found").unwrap();
    assert_eq!((found.id, found.fingerprint), (lost.id.clone(), lost.fingerprint));
    w.store.load("found").unwrap();
    w.expect_not(&format!("List {}", lost.id));
    // Looking again finds nothing more.
    w.click("Look for unlisted keys");
    w.expect("Every Countersign key in the keychain is listed.");
}
