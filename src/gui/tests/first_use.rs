//! What a first-time user meets (issue 14): desktops without file dialogs, errors caught as
//! they are typed, retries, questions before replacing or renewing, toasts that leave the
//! layout alone, buttons that say why they are disabled.

use super::harness::Window;
use crate::common::keychain::MemoryKeychain;
use crate::common::*;
use countersign::certs::{self, Certificate, Subject};
use countersign::keys::Algorithm;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use time::{Duration, OffsetDateTime};

/// Opens the window on a store that already has a key with a certificate, in the Sign view.
fn window_with_key(k: &MemoryKeychain) -> Window {
    let mut w = Window::open(k);
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    w.store.self_sign("acme", &subject, 365, OffsetDateTime::now_utc()).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Sign");
    w
}

const NO_DIALOG: &str = "No file dialog is available on this desktop; type the path";

#[test]
fn without_file_dialogs_every_choice_says_so_and_takes_a_typed_path() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    w.desktop.without_dialogs();

    backup_takes_a_typed_path(&mut w, &k);
    certificates_take_typed_paths(&mut w, &k);
    package_takes_a_typed_folder(&mut w, &k);
    history_export_takes_a_typed_path(&mut w, &k);

    // Every dialog asked for had a title and started in the user's home.
    let asked = w.desktop.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 6, "{asked:?}");
    for (title, start) in &asked {
        assert!(!title.is_empty());
        assert_eq!(start, k.path(), "{title}");
    }
}

/// Without dialogs, a backup: the dialog's failure is said under the field, and the
/// passphrases stay.
fn backup_takes_a_typed_path(w: &mut Window, k: &MemoryKeychain) {
    w.click("Keys");
    w.type_keys("Backup passphrase", "correct horse battery");
    w.type_keys("Repeat passphrase", "correct horse battery");
    w.click("Save backup…");
    w.expect(NO_DIALOG);
    assert!(!w.harness.state().passphrases_wiped(), "a failed dialog must not cost the typing");
    let backup = k.path().join("acme-backup.pem");
    w.type_into("Backup file", &backup.display().to_string());
    w.expect_not(NO_DIALOG);
    w.click("Save backup…");
    assert!(std::fs::read_to_string(&backup).unwrap().contains("ENCRYPTED PRIVATE KEY"));
    if openssl_available() {
        let pass = "pass:correct horse battery";
        assert!(openssl_ok(&["pkey", "-in", "acme-backup.pem", "-passin", pass, "-noout"], k.path()));
    }
}

/// Without dialogs: the certificate request, an issued certificate, the certificate for customers.
fn certificates_take_typed_paths(w: &mut Window, k: &MemoryKeychain) {
    w.click("Certificates");
    w.click("Save certificate request (CSR)…");
    w.expect(NO_DIALOG);
    let csr = k.path().join("acme.csr");
    w.type_into("Request file", &csr.display().to_string());
    w.click("Save certificate request (CSR)…");
    assert!(std::fs::read_to_string(&csr).unwrap().contains("BEGIN CERTIFICATE REQUEST"));

    let (_, key) = w.store.load("acme").unwrap();
    let now = OffsetDateTime::now_utc();
    let issued = certs::self_signed(
        &key,
        &Subject { common_name: "Acme Issued".into(), ..Subject::default() },
        now,
        now + Duration::days(90),
    )
    .unwrap();
    let issued_file = k.path().join("issued.crt");
    std::fs::write(&issued_file, issued.to_pem()).unwrap();
    w.click("Import issued certificate…");
    w.expect(NO_DIALOG);
    w.type_into("Issued certificate", &issued_file.display().to_string());
    w.click("Import issued certificate…");
    w.expect("Kept CN=Acme Issued");
    assert_eq!(w.store.get("acme").unwrap().certificates.len(), 2);

    let for_customers = k.path().join("acme-for-customers.crt");
    w.click("Save certificate for customers…");
    w.expect(NO_DIALOG);
    w.type_into("Certificate file", &for_customers.display().to_string());
    w.click("Save certificate for customers…");
    let saved = Certificate::all_from_file_bytes(&std::fs::read(&for_customers).unwrap(), "crt").unwrap();
    assert_eq!(saved[0].fingerprint(), issued.fingerprint());
    // A typed path is never replaced without asking: said as soon as it names a file that is
    // there, and refused if pressed anyway.
    w.harness.state_mut().refresh();
    w.type_into("Certificate file", " ");
    w.expect("A file is there already, and a typed path is never replaced");
    w.click("Save certificate for customers…");
    w.expect("already exists");
}

/// Without dialogs: the trust-store package.
fn package_takes_a_typed_folder(w: &mut Window, k: &MemoryKeychain) {
    w.click("Trust store");
    w.click("Make trust-store package…");
    w.expect(NO_DIALOG);
    let packages = k.path().join("packages");
    std::fs::create_dir(&packages).unwrap();
    w.type_into("Package folder", &packages.display().to_string());
    w.click("Make trust-store package…");
    w.expect("Wrote the trust-store package");
    assert!(
        packages.join("acme-truststore/upmconfig/truststore/acme.crt").is_file(),
        "{:?}",
        listing(&packages)
    );
}

/// Without dialogs: the history's CSV, after one signing.
fn history_export_takes_a_typed_path(w: &mut Window, k: &MemoryKeychain) {
    w.click("Sign");
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed.");
    w.click("History");
    w.click("Export CSV…");
    w.expect(NO_DIALOG);
    let csv = k.path().join("history.csv");
    w.type_into("CSV file", &csv.display().to_string());
    w.click("Export CSV…");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 2);
}

#[test]
fn dialogs_start_in_the_folder_last_used() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let out = k.path().join("bundles");
    std::fs::create_dir(&out).unwrap();
    w.desktop.answer(Some(&out));
    w.click("Choose output folder…");
    assert_eq!(w.value_of("Output folder"), out.display().to_string());
    w.desktop.answer(None);
    w.click("Choose output folder…");
    let asked = w.desktop.asked.lock().unwrap().clone();
    assert_eq!(asked[0].1, k.path(), "the first dialog starts at home");
    assert_eq!(asked[1].1, out, "the next one where the last choice was");
    assert!(asked.iter().all(|(t, _)| t == "Where should bundles go?"), "{asked:?}");
}

#[test]
fn a_missing_output_folder_is_caught_as_it_is_typed_and_can_be_made() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    // Nothing queued: an empty state, and Sign says why it is off.
    w.expect("Add a .jar or .obr to start");
    assert!(!w.is_enabled("Sign files"));
    w.expect("Add a .jar or .obr to sign first.");

    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);
    w.drop_files(&[&jar]);
    w.expect_not("Add a .jar or .obr to start");
    let out = k.path().join("not").join("yet");
    w.type_into("Output folder", &out.display().to_string());
    w.expect("This folder does not exist yet.");
    assert!(!w.is_enabled("Sign 1 file"), "caught before signing, not after");
    w.expect("The output folder does not exist yet: press Create folder");
    w.click("Create folder");
    assert!(out.is_dir());
    w.expect_not("This folder does not exist yet.");
    w.click("Sign 1 file");
    w.expect("Signed.");
    assert!(out.join("app-bundle").join("app.jar.sig").is_file());
}

#[test]
fn a_failed_file_is_retried_from_its_card() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("late.jar");
    w.type_into("Or a path:", &jar.display().to_string());
    w.click("Add");
    w.expect("Retry");
    assert!(!w.is_enabled("Sign files"));
    // The file arrives; Retry reads it again and signs it.
    make_app_jar(&jar, "com.acme.late", "1.0", 100);
    w.click("Retry");
    w.expect("Signed.");
    w.expect_not("Retry");
    assert!(k.path().join("late-bundle").join("late.jar.sig").is_file());
}

#[test]
fn signing_the_same_app_again_asks_to_replace_or_keep_both() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("widget.jar");
    make_app_jar(&jar, "com.acme.widget", "1.0", 100);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed.");
    w.click("Clear finished");

    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed before:");
    w.expect_not("Signed.");
    w.click("Keep both");
    w.expect("Signed.");
    assert!(k.path().join("widget-bundle-2").join("widget.jar.sig").is_file());
    w.click("Clear finished");

    let first_sig = std::fs::read(k.path().join("widget-bundle").join("widget.jar.sig")).unwrap();
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.click("Replace earlier bundle");
    w.expect("Signed.");
    assert!(!k.path().join("widget-bundle-3").exists(), "{:?}", listing(k.path()));
    let second_sig = std::fs::read(k.path().join("widget-bundle").join("widget.jar.sig")).unwrap();
    assert_eq!(first_sig, second_sig, "Ed25519 is deterministic: the same app, the same signature");
    let manifest = k.path().join("widget-bundle").join("manifest.json");
    assert!(manifest.is_file());
}

#[test]
fn notices_float_over_the_view_and_every_copy_says_so() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);
    w.drop_files(&[&jar]);
    let before = w.harness.get_by_label("Sign 1 file").rect();
    let copied = w.click_and_copy("Copy SHA-256");
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0].len(), 64, "{copied:?}");
    w.expect("Copied the SHA-256.");
    let after = w.harness.get_by_label("Sign 1 file").rect();
    assert_eq!(before, after, "a notice must not move the view's buttons");
    // Sign, and copy the signature with Ctrl+C.
    w.click("Sign 1 file");
    w.expect("Signed.");
    w.harness.input_mut().events.push(eframe::egui::Event::Copy);
    w.harness.step();
    let clipboard: Vec<String> = w
        .harness
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            eframe::egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    w.settle();
    let sig = std::fs::read_to_string(k.path().join("app-bundle").join("app.jar.sig")).unwrap();
    assert_eq!(clipboard, vec![sig.trim().to_owned()]);
    w.expect("The signature of app.jar is on the clipboard");
    // A success does not follow into views where it means nothing once dismissed.
    w.click("Dismiss");
    w.expect_not("on the clipboard");
}

#[test]
fn renewing_marks_the_old_certificate_and_offers_to_update_the_customers_copy() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.type_into("Organisation", "Acme Software");
    w.type_into("Your name or team", "Acme Support");
    w.click("Create signing key and certificate");
    let key = w.store.list().unwrap().remove(0);
    let copy = w.documents.join(format!("{}.crt", key.file_stem()));
    let first = std::fs::read(&copy).unwrap();
    w.click("Start signing");
    w.click("Certificates");
    w.click("Renew…");
    w.click("Renew now");
    w.expect("superseded");
    w.expect(&format!("The customer's copy {} still holds the old certificate.", copy.display()));
    assert_eq!(std::fs::read(&copy).unwrap(), first, "nothing is rewritten without asking");
    w.click("Update the customer's copy");
    w.expect("now holds the renewed certificate");
    let chain = Certificate::all_from_file_bytes(&std::fs::read(&copy).unwrap(), "crt").unwrap();
    let record = w.store.get(&key.name).unwrap();
    let current = w.store.certificates(&record).pop().unwrap();
    assert_eq!(chain[0].fingerprint(), current[0].fingerprint());
}

#[test]
fn without_a_keychain_the_window_says_so_in_one_sentence_and_verify_still_works() {
    let k = MemoryKeychain::new();
    let dbus = "The system keychain is not available: no Secret Service answers on this D-Bus session. (Keychain said: org.freedesktop.DBus.Error.ServiceUnknown)";
    let mut w = Window::open_without_keychain(&k, dbus);
    w.expect("Countersign cannot reach the system keychain, so keys cannot be used or made right now.");
    // Once: not again in a red box, nor beside the Sign button (which still gives the reason
    // to a screen reader).
    assert_eq!(w.count_containing("keychain"), 1, "{}", w.texts());
    assert!(!w.is_enabled("Sign files"));
    assert!(w.description_of("Sign files").is_some_and(|d| d.contains("cannot be reached")));
    w.expect_not("org.freedesktop.DBus");
    w.expect_not("make one in the Keys view");
    w.expect_not("Welcome to Countersign");
    w.click("Show details");
    w.expect("org.freedesktop.DBus.Error.ServiceUnknown");

    // Verify and the trust-store check need no keychain: a bundle signed elsewhere checks.
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    w.store.self_sign("acme", &subject, 365, OffsetDateTime::now_utc()).unwrap();
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);
    let signer = countersign::signer::Signer::stored(w.store.clone(), "acme").unwrap();
    let options = countersign::signer::SignOptions {
        layout: countersign::batch::Layout::FolderEach(None),
        note: None,
        zip: false,
        existing: countersign::batch::Existing::Refuse,
        now: OffsetDateTime::now_utc(),
    };
    let progress = [countersign::progress::Progress::new()];
    let signed =
        countersign::signer::sign(&signer, &[jar], options, &Ok(w.history.clone()), &progress, |_, _| {});
    assert!(signed[0].is_ok());
    let bundle = k.path().join("app-bundle");
    w.click("Verify");
    w.expect_not("cannot reach the system keychain");
    w.type_into("Bundle or app", &bundle.display().to_string());
    w.click("Check signature");
    w.expect("Checked app.jar with app.jar.sig and acme.crt, from the bundle");
    w.expect("is good");
    w.click("Trust store");
    w.expect("cannot reach the system keychain");
    let truststore = k.path().join("truststore");
    std::fs::create_dir(&truststore).unwrap();
    let (_, key) = w.store.load("acme").unwrap();
    let now = OffsetDateTime::now_utc();
    let cert = certs::self_signed(&key, &subject, now, now + Duration::days(30)).unwrap();
    std::fs::write(truststore.join("acme.crt"), cert.to_pem()).unwrap();
    w.type_into("Trust-store folder", &truststore.display().to_string());
    w.click("Check");
    w.expect("1 certificate(s)");
}

#[test]
fn the_first_run_says_why_its_tabs_wait_and_enter_creates_the_key() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    assert!(!w.is_enabled("Keys"), "the views wait for the first key");
    w.expect("Fill in both names first.");
    w.type_into("Organisation", "Acme Software");
    w.type_into("Your name or team", "Acme Support");
    w.harness.get_by_label("Your name or team").focus();
    w.harness.step();
    w.harness.key_press(eframe::egui::Key::Enter);
    w.settle();
    w.expect("is in the system keychain");
    assert_eq!(w.store.list().unwrap().len(), 1);
}

#[test]
fn the_keyboard_starts_in_each_views_content_and_the_shortcuts_sign() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let focused = |w: &Window, label: &str| w.harness.get_by_label(label).accesskit_node().is_focused();
    assert!(focused(&w, "Choose files…"), "Sign starts at its first control");
    w.click("Verify");
    assert!(focused(&w, "Bundle or app"), "Verify starts in its first field");
    w.click("History");
    assert!(focused(&w, "Search"));
    w.click("Sign");

    // Ctrl+O adds files, Ctrl+Enter signs them.
    let jar = k.path().join("keyboard.jar");
    make_app_jar(&jar, "com.acme.keys", "1.0", 100);
    w.desktop.answer_artifacts(&[&jar]);
    w.harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::O);
    w.settle();
    w.expect("keyboard.jar");
    w.harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::Enter);
    w.settle();
    w.expect("Signed.");
    // The Help menu lists them.
    w.click("Help");
    w.expect("Ctrl+Enter");
}

#[test]
fn the_trust_store_check_says_whether_your_current_certificate_is_there() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let record = w.store.get("acme").unwrap();
    let current = w.store.certificates(&record).pop().unwrap().remove(0);
    let truststore = k.path().join("truststore");
    std::fs::create_dir(&truststore).unwrap();
    // The customer renamed the file: it is found by its contents.
    std::fs::write(truststore.join("vendor-renamed.crt"), current.to_pem()).unwrap();
    w.click("Trust store");
    w.type_into("Trust-store folder", &truststore.display().to_string());
    w.click("Check");
    w.expect("Your current certificate (key \"acme\"): present (");
    w.expect("vendor-renamed.crt");
    // The findings come first, the verdict after them.
    let finding = w.harness.get_by_label_contains("Your current certificate").rect();
    let verdict = w.harness.get_by_label_contains("UPM can use this trust store").rect();
    assert!(verdict.top() > finding.top(), "the verdict is read after the findings");

    // Renewed: the folder holds an older certificate of this key.
    w.store.renew("acme", 365, OffsetDateTime::now_utc()).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Check");
    w.expect("Your current certificate (key \"acme\"): an older one (");

    // Empty: missing.
    std::fs::remove_file(truststore.join("vendor-renamed.crt")).unwrap();
    w.click("Check");
    w.expect("Your current certificate (key \"acme\"): missing");
    w.expect_not("UPM can use this trust store");
}

#[test]
fn verify_finds_the_signature_and_certificate_beside_an_app() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    let jar = k.path().join("big-widget.jar");
    make_app_jar(&jar, "com.acme.widget", "1.0", 100);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.expect("Signed.");
    // The bundle folder holds the app, its .sig and the certificate: give only the app.
    let app = k.path().join("big-widget-bundle").join("big-widget.jar");
    w.click("Verify");
    w.type_into("Bundle or app", &k.path().join("typo.jar").display().to_string());
    w.expect("Nothing is at this path yet.");
    w.harness.get_by_label("Bundle or app").focus();
    w.harness.step();
    w.harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    w.type_into("Bundle or app", &app.display().to_string());
    w.expect_not("Nothing is at this path yet.");
    w.click("Check signature");
    w.expect("Checked big-widget.jar with big-widget.jar.sig and ");
    w.expect("is good");
}

#[test]
fn a_backup_carries_the_certificate_says_when_it_was_made_and_a_second_restore_is_refused() {
    let k = MemoryKeychain::new();
    let mut w = window_with_key(&k);
    w.click("Keys");
    w.expect("never (back it up below)");
    let passphrase = "correct horse battery";
    w.type_keys("Backup passphrase", passphrase);
    w.type_keys("Repeat passphrase", passphrase);
    let backup = k.path().join("acme-backup.pem");
    w.type_into("Backup file", &backup.display().to_string());
    w.click("Save backup…");
    w.expect("It holds the key and its certificate chain (1 certificate(s)).");
    w.expect_not("never (back it up below)");
    assert!(w.store.get("acme").unwrap().last_backed_up.is_some());
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(text.contains("ENCRYPTED PRIVATE KEY") && text.contains("BEGIN CERTIFICATE"), "{text}");
    if openssl_available() {
        assert!(
            openssl_ok(&["x509", "-in", "acme-backup.pem", "-noout"], k.path()),
            "openssl reads the certificate"
        );
    }

    // Restoring it while the key is stored says so and adds nothing.
    w.click("Restore backup…");
    w.type_into("Key file", &backup.display().to_string());
    w.type_into("Name for the key", "acme-again");
    w.type_keys("Passphrase (if encrypted)", passphrase);
    w.click("Restore key");
    w.expect("This key is already stored as \"acme\"; nothing was imported.");
    assert_eq!(w.store.list().unwrap().len(), 1, "no duplicate");
}
