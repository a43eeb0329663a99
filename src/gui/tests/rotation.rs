//! A key replaced (issue 15), as the Sign view meets it: one marked compromised is refused
//! before Sign is pressed, with the core's sentence why, and nothing is signed or recorded;
//! its replacement signs; a retired key warns and signs.

use super::harness::Window;
use crate::common::keychain::MemoryKeychain;
use crate::common::*;
use countersign::certs::{Certificate, Subject};
use countersign::keys::Algorithm;
use countersign::keystore::ReplaceReason;
use egui_kittest::kittest::Queryable as _;
use time::OffsetDateTime;

#[test]
fn a_compromised_key_is_refused_in_the_sign_view_and_a_retired_one_warns() {
    let k = MemoryKeychain::new();
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
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.store.self_sign("acme", &subject, 365, OffsetDateTime::now_utc()).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("acme");
    w.expect("Replace the key");
    w.click("Replace this key…");
    w.expect("Replace a key");
    assert!(!w.is_enabled("Replace \"acme\"…"), "the reason is asked first");
    w.expect("Say why the key is replaced first: planned, or compromised.");
    w.click("Compromised: this key may have leaked, and Countersign signs nothing more with it");
    w.click("Replace \"acme\"…");
    w.expect("Replace \"acme\" with a new key \"acme-2\", and mark \"acme\" compromised (it will sign nothing more)?");
    w.click("Cancel");
    assert_eq!(w.store.list().unwrap().len(), 1, "Cancel changes nothing");
    w.click("Replace \"acme\"…");
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

/// The guided page of issue 15, end to end: replace, who must hear (exported), the swap kit
/// (and a customer's trust store checked before and after it is applied), the apps signed
/// again with one moved and one changed; left half-way and resumed from a new window.
#[test]
fn the_replacement_page_walks_through_four_steps_and_resumes_in_a_new_window() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.desktop.without_dialogs();
    let old_certificate = three_apps_signed_with_acme(&w, &k);
    replace_acme(&mut w);
    tell_customers(&mut w, &k);
    // Left here; a new window later picks it up from the data folder.
    drop(w);
    let mut w = Window::open(&k);
    w.desktop.without_dialogs();
    w.click("Keys");
    w.click("acme");
    w.expect("replaced by \"acme-2\": 2 of 4 steps done.");
    w.click("Continue the replacement…");
    w.expect("2 customer(s), 3 signing(s)");

    swap_kit(&mut w, &k, &old_certificate);
    sign_again(&mut w, &k);

    // What the data folder keeps is counts, times and paths: nothing secret.
    let kept = std::fs::read_to_string(k.home().join(countersign::rotation::FILE_NAME)).unwrap();
    assert!(!kept.contains("PRIVATE"), "{kept}");
    w.click("Keys");
    w.click("acme");
    w.expect("4 of 4 steps done.");
}

/// The key "acme" with a certificate, and three apps it signed for two customers; since then
/// b.jar was rebuilt and c.jar moved away. Returns acme's certificate.
fn three_apps_signed_with_acme(w: &Window, k: &MemoryKeychain) -> Certificate {
    let subject = Subject { common_name: "Acme Support".into(), ..Subject::default() };
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.store.self_sign("acme", &subject, 365, OffsetDateTime::now_utc()).unwrap();
    let (a, b, c) = (k.path().join("a.jar"), k.path().join("b.jar"), k.path().join("c.jar"));
    for jar in [&a, &b, &c] {
        make_app_jar(jar, "com.acme.x", "1.0", 100);
    }
    sign_with(w, "acme", &a, "for Globex");
    sign_with(w, "acme", &b, "for Initech");
    sign_with(w, "acme", &c, "for Initech");
    // Since then: b.jar was rebuilt, c.jar moved away.
    make_app_jar(&b, "com.acme.x", "1.1", 200);
    std::fs::rename(&c, k.path().join("c-moved.jar")).unwrap();
    w.store.certificates(&w.store.get("acme").unwrap()).pop().unwrap().remove(0)
}

/// Step 1, from the Keys view: "acme" retired and replaced by "acme-2".
fn replace_acme(w: &mut Window) {
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.click("acme");
    w.click("Replace this key…");
    w.click("Planned: this key is retired, and signing with it warns");
    w.click("Replace \"acme\"…");
    w.click("Replace now");
    w.expect("Made key \"acme-2\"");
    w.expect("\"acme\" was retired on");
}

/// Step 2: who must hear, exported, and marked told.
fn tell_customers(w: &mut Window, k: &MemoryKeychain) {
    w.expect("3 signing(s) with \"acme\", for 2 customer(s)");
    w.expect("for Globex");
    w.expect("for Initech");
    let csv = k.path().join("told.csv");
    w.type_into("Customer list (CSV)", &csv.display().to_string());
    w.click("Export CSV…");
    w.expect("Exported the list to");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4, "the header and three signings");
    assert!(!w.is_enabled("Make the swap kit…"), "step 3 waits for step 2");
    w.click("I have told them");
    w.expect("Done on");
    w.expect("2 customer(s), 3 signing(s), exported to");
}

/// Step 3: a customer's store checked before and after the swap kit is applied.
fn swap_kit(w: &mut Window, k: &MemoryKeychain, old_certificate: &Certificate) {
    let store = k.path().join("customer-truststore");
    std::fs::create_dir(&store).unwrap();
    std::fs::write(store.join("renamed-by-customer.pem"), old_certificate.to_pem()).unwrap();
    w.type_into("Customer's trust-store folder", &store.display().to_string());
    w.click("Check the swap");
    w.expect("The swap is not done in this folder yet");
    w.expect("Old certificate of \"acme\": in the folder, as ");
    w.expect("renamed-by-customer.pem");
    w.expect("New certificate of \"acme-2\": not in the folder");
    let kits = k.path().join("kits");
    std::fs::create_dir(&kits).unwrap();
    w.type_into("Kit folder", &kits.display().to_string());
    w.click("Make the swap kit…");
    w.expect("Wrote the swap kit");
    let kit = kits.join("acme-2-swap-kit");
    let removals = std::fs::read_to_string(kit.join("remove.sha256")).unwrap();
    assert!(removals.contains(&old_certificate.fingerprint()), "{removals}");
    let new_cert = std::fs::read(kit.join("upmconfig/truststore/acme-2.crt")).unwrap();
    std::fs::remove_file(store.join("renamed-by-customer.pem")).unwrap();
    std::fs::write(store.join("acme-2.crt"), new_cert).unwrap();
    w.click("Check the swap");
    w.expect("The swap is done in this folder");
}

/// Step 4: a.jar is signed again; b.jar (changed) and c.jar (moved) are listed, not signed;
/// looking again finds a.jar signed already.
fn sign_again(w: &mut Window, k: &MemoryKeychain) {
    w.click("Look for the apps");
    w.expect("there, unchanged: will be signed again");
    w.expect("changed: another file is there now");
    w.expect("missing: nothing is at this path any more");
    w.click("Sign 1 app(s) again with \"acme-2\"");
    w.expect("signed again into");
    w.expect("All four steps are done for \"acme\"");
    w.expect("1 signed again, 1 missing, 1 changed, 0 failed.");
    assert!(k.path().join("a-bundle-2").is_dir(), "the new bundle is beside the old one");
    let entries = w.history.load().unwrap().entries;
    let again: Vec<_> = entries.iter().filter(|e| e.key_name.as_deref() == Some("acme-2")).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].note.as_deref(), Some("for Globex"), "signed again for the same customer");

    // Looking again finds a.jar signed already: nothing is signed twice.
    w.click("Look for the apps");
    w.expect("already signed again with \"acme-2\"");
    assert!(!w.is_enabled("Sign 0 app(s) again with \"acme-2\""));
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
    let k = MemoryKeychain::new();
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
