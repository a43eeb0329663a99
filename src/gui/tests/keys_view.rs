//! The Keys view's layout: a toolbar opens each form in place of the detail panel, and the
//! key list and the chosen key's details stand side by side.

use super::harness::Window;
use crate::common::keychain::MemoryKeychain;
use countersign::keys::Algorithm;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

#[test]
fn the_toolbar_makes_a_key_that_is_then_chosen_and_shown_beside_the_list() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.click("I already have a key: import it");
    w.expect("No keys yet");
    // The form is not in the way until it is asked for.
    assert!(w.harness.query_by_label("Key name").is_none(), "{}", w.texts());
    w.click("New key…");
    assert!(!w.is_enabled("Generate key"), "no name yet");
    w.expect("Type a name for the key first.");
    w.type_into("Key name", "toolbar-key");
    w.click("Generate key");
    w.expect("Made Ed25519 key \"toolbar-key\"");
    let record = w.store.get("toolbar-key").unwrap();

    // The form gave way to the new key's details, and the key is the one chosen.
    assert!(w.harness.query_by_label("Key name").is_none(), "the form closed: {}", w.texts());
    let entry = w.harness.get_by_label("toolbar-key");
    assert_eq!(entry.accesskit_node().is_selected(), Some(true), "the new key is chosen in the list");
    let description = entry.accesskit_node().description().unwrap_or_default();
    assert!(description.contains("Ed25519") && description.contains("no certificate"), "{description}");
    let heading = w.harness.get_by_label("Key \"toolbar-key\"");
    let (entry, heading) = (entry.rect(), heading.rect());
    assert!(heading.left() >= entry.right(), "the details stand right of the list: {entry:?} {heading:?}");
    assert!(heading.top() < entry.bottom(), "side by side, not one under the other: {entry:?} {heading:?}");
    w.expect(&record.fingerprint);
    assert_eq!(w.click_and_copy("Copy public key"), vec![record.public_key.clone()]);
    w.expect("Copied the public key of \"toolbar-key\".");

    // A name already taken is said before anything is tried; Cancel brings the details back.
    w.click("New key…");
    w.type_into("Key name", "toolbar-key");
    assert!(!w.is_enabled("Generate key"));
    w.expect("A key named \"toolbar-key\" exists already.");
    w.click("Cancel");
    w.expect("Key \"toolbar-key\"");
    assert!(w.harness.query_by_label("Key name").is_none());

    // Import and Restore open the same form, each in its own words; Cancel forgets it.
    w.click("Import key…");
    w.expect("Import a key");
    assert!(!w.is_enabled("Import key"));
    w.expect("Type or choose the key file first.");
    w.click("Restore backup…");
    w.expect("Restore a backup");
    w.type_into("Name for the key", "half-typed");
    w.click("Cancel");
    w.click("Restore backup…");
    assert_eq!(w.value_of("Name for the key"), "", "a cancelled form starts again empty");
    w.click("Cancel");

    // Choosing another key in the list shows its details in the same place.
    w.store.generate("second", Algorithm::EcdsaP384).unwrap();
    w.harness.state_mut().refresh();
    w.settle();
    w.click("second");
    w.expect("Key \"second\"");
    w.expect_not("Key \"toolbar-key\"");
    assert_eq!(w.harness.get_by_label("second").accesskit_node().is_selected(), Some(true));
    assert_eq!(w.harness.get_by_label("toolbar-key").accesskit_node().is_selected(), Some(false));
    w.expect("UPM accepts Ed25519 signatures only");
}

/// At the smallest size the window opens with, the columns still fit side by side and the
/// detail panel's controls are inside the window.
#[test]
fn the_keys_view_holds_at_800_by_600() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    w.harness.set_size(eframe::egui::vec2(800.0, 600.0));
    w.settle();
    let entry = w.harness.get_by_label("acme").rect();
    let heading = w.harness.get_by_label("Key \"acme\"").rect();
    assert!(heading.left() >= entry.right() && heading.top() < entry.bottom(), "{entry:?} {heading:?}");
    for label in ["Copy public key", "New name", "Backup passphrase", "Backup file", "Choose where to save…"]
    {
        let r = w.harness.get_by_label(label).rect();
        assert!(r.right() <= 800.0, "{label} runs out of the window: {r:?}");
    }
    for label in ["New key…", "Import key…", "Restore backup…", "Look for unlisted keys"] {
        let r = w.harness.get_by_label(label).rect();
        assert!(r.right() <= 800.0 && r.bottom() <= 600.0, "{label}: {r:?}");
    }
}

/// A screen reader hears why a control is disabled, in every view: the accessible
/// description carries the reason the tooltip shows (Keys' "Rename" and "Save backup…" among
/// them).
#[test]
fn every_disabled_control_tells_a_screen_reader_why() {
    let k = MemoryKeychain::new();
    let mut w = Window::open(&k);
    // The first run: the navigation is disabled until a key exists or it is skipped.
    assert_eq!(w.disabled_without_reason(), Vec::<String>::new(), "first run");
    w.store.generate("acme", Algorithm::Ed25519).unwrap();
    w.click("I already have a key: import it");
    w.harness.state_mut().refresh();
    w.settle();
    for view in ["Sign", "Keys", "Certificates", "Verify", "History", "Trust store"] {
        w.click(view);
        assert_eq!(w.disabled_without_reason(), Vec::<String>::new(), "the {view} view");
    }
    w.click("Keys");
    assert!(!w.is_enabled("Rename"));
    assert_eq!(w.description_of("Rename").as_deref(), Some("Type the new name first."));
    assert!(!w.is_enabled("Save backup…"));
    assert!(
        w.description_of("Save backup…").is_some_and(|d| d.contains("passphrase")),
        "{:?}",
        w.description_of("Save backup…")
    );
}
