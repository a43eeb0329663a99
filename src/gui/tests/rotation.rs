//! A key replaced (issue 15), as the Sign view meets it: one marked compromised is refused
//! before Sign is pressed, with the core's sentence why, and nothing is signed or recorded;
//! its replacement signs; a retired key warns and signs.

use super::harness::Window;
use crate::common::keychain::Keychain;
use crate::common::*;
use countersign::certs::Subject;
use countersign::keys::Algorithm;
use countersign::keystore::ReplaceReason;
use egui_kittest::kittest::Queryable as _;
use time::OffsetDateTime;

#[test]
fn a_compromised_key_is_refused_in_the_sign_view_and_a_retired_one_warns() {
    let Some(k) = Keychain::new() else { return };
    let mut w = Window::open(&k);
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    let now = OffsetDateTime::now_utc();
    for name in ["acme", "beta"] {
        w.store.generate(name, Algorithm::Ed25519).unwrap();
        w.store.self_sign(name, &subject, 365, now).unwrap();
    }
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Sign");
    w.click("Signing key");
    w.harness.get_by_label_contains("acme (").click();
    w.settle();
    let jar = k.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 100);
    w.drop_files(&[&jar]);
    assert!(w.is_enabled("Sign 1 file"));

    // Marked compromised from elsewhere (the command line) while the window is open.
    w.store.replace("acme", "acme-2", ReplaceReason::Compromised, now).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    let refusal = format!(
        "Key \"acme\" was marked compromised on {} and replaced by \"acme-2\": Countersign does not sign with it. Sign with \"acme-2\", or delete \"acme\".",
        countersign::certs::day(now)
    );
    w.expect(&refusal);
    assert!(!w.is_enabled("Sign 1 file"), "the refusal blocks Sign before it is pressed");
    w.harness.get_by_label("Sign 1 file").click_accesskit();
    w.settle();
    assert!(w.history.load().unwrap().entries.is_empty(), "nothing was signed or recorded");
    assert!(!k.path().join("app-bundle").exists());

    // The replacement signs.
    w.click("Signing key");
    w.expect("acme (Ed25519");
    w.harness.get_by_label_contains("acme-2 (").click();
    w.settle();
    w.expect_not(&refusal);
    w.click("Sign 1 file");
    w.expect("Signed.");
    let entries = w.history.load().unwrap().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].key_name.as_deref(), Some("acme-2"));
    assert!(!entries[0].override_compromised);

    // A retired key: the warning before signing, and beside the result; it signs.
    w.store.replace("beta", "beta-2", ReplaceReason::Planned, now).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.click("Signing key");
    w.harness.get_by_label_contains("beta (").click();
    w.settle();
    let retired =
        format!("Key \"beta\" was retired on {} and replaced by \"beta-2\"", countersign::certs::day(now));
    w.expect(&retired);
    w.drop_files(&[&jar]);
    w.click("Sign 1 file");
    w.click("Keep both");
    w.settle();
    let entries = w.history.load().unwrap().entries;
    assert_eq!(entries.len(), 2, "{}", w.texts());
    assert_eq!(entries[1].key_name.as_deref(), Some("beta"));
}

#[test]
fn a_key_is_replaced_from_the_keys_view_after_a_confirmation() {
    let Some(k) = Keychain::new() else { return };
    let mut w = Window::open(&k);
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.store.self_sign("acme", &subject, 365, OffsetDateTime::now_utc()).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("acme");
    w.expect("Replace the key");
    w.click("Compromised: this key may have leaked, and Countersign signs nothing more with it");
    w.click("Replace this key…");
    w.expect("Replace \"acme\" with a new key \"acme-2\", and mark \"acme\" compromised (it will sign nothing more)?");
    w.click("Cancel");
    assert_eq!(w.store.list().unwrap().len(), 1, "Cancel changes nothing");
    w.click("Replace this key…");
    w.click("Replace now");
    w.expect("Made key \"acme-2\"");
    w.expect("marked compromised and signs nothing more");
    let old = w.store.get("acme").unwrap();
    assert!(
        matches!(old.status.replaced(), Some((ReplaceReason::Compromised, _, "acme-2"))),
        "{:?}",
        old.status
    );
    let new = w.store.get("acme-2").unwrap();
    let chain = w.store.certificates(&new).pop().unwrap();
    assert!(chain[0].subject().contains("Acme Support"), "the new certificate keeps the subject");
}

/// Signs `jar` with the stored key `key` through the core, with `note`, into the history.
fn sign_with(w: &Window, key: &str, jar: &std::path::Path, note: &str) {
    let signer = countersign::signer::Signer::stored(w.store.clone(), key).unwrap();
    let options = countersign::signer::SignOptions {
        layout: countersign::batch::Layout::FolderEach(None),
        note: Some(note.to_owned()),
        zip: false,
        existing: countersign::batch::Existing::NextFree,
        now: OffsetDateTime::now_utc(),
    };
    let progress = [countersign::progress::Progress::new()];
    let signed = countersign::signer::sign(
        &signer,
        &[jar.to_path_buf()],
        options,
        &Ok(w.history.clone()),
        &progress,
        |_, _| {},
    );
    assert!(signed[0].is_ok());
}

#[test]
fn the_history_answers_who_got_apps_signed_with_a_key() {
    let Some(k) = Keychain::new() else { return };
    let mut w = Window::open(&k);
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    for name in ["acme", "other"] {
        w.store.generate(name, Algorithm::Ed25519).unwrap();
        w.store.self_sign(name, &subject, 365, OffsetDateTime::now_utc()).unwrap();
    }
    let (a, b, c) = (k.path().join("a.jar"), k.path().join("b.jar"), k.path().join("c.jar"));
    for jar in [&a, &b, &c] {
        make_app_jar(jar, "com.acme.x", "1.0", 100);
    }
    sign_with(&w, "acme", &a, "for Globex");
    sign_with(&w, "acme", &b, "for Initech");
    sign_with(&w, "other", &c, "for Globex");
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("History");
    w.expect("3 of 3 signing(s)");
    w.click("Signed with");
    // The key's name is in the table too; the menu's entry comes first, right after its box.
    w.harness.query_all_by_label("acme").next().unwrap().click();
    w.settle();
    w.expect("Who got apps signed with key \"acme\"");
    w.expect("for Globex: 1 signing(s)");
    w.expect("for Initech: 1 signing(s)");
    w.expect("2 of 3 signing(s)");
    let csv = k.path().join("acme.csv");
    w.type_into("CSV file", &csv.display().to_string());
    w.click("Export CSV…");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 3, "the header and acme's two signings: {text}");
    assert!(!text.contains("c.jar"), "{text}");
}
