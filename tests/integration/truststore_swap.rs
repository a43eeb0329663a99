//! The customer's swap kit (`truststore package --cert NEW --remove OLD`): its Linux script,
//! run with the system's `sh` and openssl against a trust store that holds the old
//! certificate under another name, leaves exactly the new one (and what else was there); and
//! `truststore check --expect NEW --reject OLD` fails before and passes after.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use countersign::certs::{self, Certificate};
use serde_json::Value;

/// Runs the kit's Linux script with the system's `sh` on `store`: (exit code, stdout, stderr).
fn apply_linux(kit: &Path, store: &Path) -> (i32, String, String) {
    let out = Command::new("sh").arg(kit.join("apply-linux.sh")).arg(store).output().expect("sh runs");
    decode(out)
}

#[test]
fn the_swap_kit_removes_the_old_certificate_by_fingerprint_under_another_name() {
    require!(sh, openssl);
    let dir = tempdir();
    let d = dir.path();
    let new = vendor_certificate(d, "acme-2026.crt", "Acme Signing 2026");
    let old = vendor_certificate(d, "acme.crt", "Acme Signing");
    let other = vendor_certificate(d, "other.crt", "Another Vendor");
    // The customer's store: the old certificate renamed, another vendor's kept as DER, and a
    // DER copy of the old one too.
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::copy(d.join("acme.crt"), store.join("vendor-from-2024.pem")).unwrap();
    std::fs::write(store.join("another-vendor.der"), other.der()).unwrap();
    std::fs::write(store.join("acme-copy.cer"), old.der()).unwrap();
    upm_modes(&store);

    let (code, out, err) =
        run(&["truststore", "package", "--cert", "acme-2026.crt", "--remove", "acme.crt", "--out", "kit"], d);
    assert_eq!(code, 0, "{out}{err}");
    let kit = d.join("kit");
    the_kit_adds_the_new_and_names_the_old(&kit, &new, &old);

    // Before: the check fails, naming what is left.
    let check = ["truststore", "check", "store", "--expect", "acme-2026.crt", "--reject", "acme.crt"];
    the_check_fails_before_the_swap(d, &check, &old);

    // The kit's script, with the system's sh (dash on Debian) and openssl.
    let (code, out, err) = apply_linux(&kit, &store);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(listing(&store), ["acme-2026.crt", "another-vendor.der"], "{out}");
    assert_eq!(std::fs::read(store.join("acme-2026.crt")).unwrap(), new.to_pem().as_bytes());
    assert_eq!(std::fs::read(store.join("another-vendor.der")).unwrap(), other.der());
    assert!(out.contains("vendor-from-2024.pem") && out.contains("acme-copy.cer"), "{out}");
    #[cfg(unix)]
    assert_eq!(std::fs::metadata(store.join("acme-2026.crt")).unwrap().permissions().mode() & 0o777, 0o644);

    // After: the check passes; running the script again changes nothing.
    let (code, out, err) = run(&check, d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.lines().any(|l| l.starts_with("Expected acme-2026.crt") && l.contains("present (")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("Rejected acme.crt") && l.ends_with(": gone.")), "{out}");
    assert!(out.contains("The swap is done"), "{out}");
    let (code, out, _) = run(&[&check[..], &["--json"]].concat(), d);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["swap"]["done"], true, "{out}");
    let (code, out, err) = apply_linux(&kit, &store);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(listing(&store), ["acme-2026.crt", "another-vendor.der"]);
}

/// The swap kit holds the new certificate and the old one's fingerprint, instructions that
/// name both and say how on each system, and nothing secret.
fn the_kit_adds_the_new_and_names_the_old(kit: &Path, new: &Certificate, old: &Certificate) {
    assert_eq!(
        listing(kit),
        [
            "TRUSTSTORE-INSTRUCTIONS.md",
            "apply-linux.sh",
            "apply-windows.ps1",
            "remove.sha256",
            "upmconfig/truststore/acme-2026.crt"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(kit.join("upmconfig/truststore/acme-2026.crt")).unwrap(),
        new.to_pem()
    );
    let list = std::fs::read_to_string(kit.join("remove.sha256")).unwrap();
    let entries: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries, [format!("{}  acme.crt", old.fingerprint())], "{list}");
    // The instructions name the old file and its fingerprint, and say how on each system.
    let md = std::fs::read_to_string(kit.join("TRUSTSTORE-INSTRUCTIONS.md")).unwrap();
    for needle in [
        "`acme.crt`",
        "it was delivered as\n`acme.crt`",
        old.fingerprint().as_str(),
        new.fingerprint().as_str(),
        "sh apply-linux.sh",
        "apply-windows.ps1",
        "openssl x509 -in \"$f\" -noout -fingerprint -sha256",
        "-inform DER",
        "kubectl create configmap upm-truststore",
        "kubectl create secret generic upm-truststore",
        "GetCertHashString",
        "**Docker**",
        &format!("'{}'", old.fingerprint().replace(':', "")),
    ] {
        assert!(md.contains(needle), "the instructions lack {needle:?}:\n{md}");
    }
    // Nothing secret in the kit.
    for f in listing(kit) {
        let text = std::fs::read_to_string(kit.join(&f)).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{f}");
    }
}

/// `truststore check --expect NEW --reject OLD` before the swap: it fails, naming what is
/// missing and what is still there, in text and in JSON.
fn the_check_fails_before_the_swap(d: &Path, check: &[&str], old: &Certificate) {
    let (code, out, err) = run(check, d);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("Expected acme-2026.crt") && l.ends_with(": missing.")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("Rejected acme.crt")
            && l.contains("still there (")
            && l.contains("acme-copy.cer")),
        "{out}"
    );
    assert!(err.contains("the swap is not done") && err.contains("add acme-2026.crt"), "{err}");
    assert!(err.contains("remove ") && err.contains("acme-copy.cer"), "{err}");
    let (code, out, _) = run(&[check, &["--json"]].concat(), d);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["swap"]["done"], false, "{out}");
    assert_eq!(v["swap"]["expected"][0]["present"], false, "{out}");
    assert_eq!(v["swap"]["rejected"][0]["present"], true, "{out}");
    assert_eq!(v["swap"]["rejected"][0]["sha256_fingerprint"], Value::from(old.fingerprint()));
    assert_eq!(v["swap"]["rejected"][0]["files"].as_array().map(Vec::len), Some(2), "{out}");
}

#[test]
fn the_swap_script_changes_nothing_when_the_new_name_is_taken() {
    require!(sh, openssl);
    let dir = tempdir();
    let d = dir.path();
    vendor_certificate(d, "new.crt", "New");
    vendor_certificate(d, "old.crt", "Old");
    vendor_certificate(d, "stranger.crt", "Stranger");
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::copy(d.join("old.crt"), store.join("old.crt")).unwrap();
    // Another certificate already under the new one's name.
    std::fs::copy(d.join("stranger.crt"), store.join("new.crt")).unwrap();
    upm_modes(&store);
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "old.crt", "--out", "kit"], d);
    assert_eq!(code, 0, "{err}");
    let before = listing(&store);
    let (code, out, err) = apply_linux(&d.join("kit"), &store);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("new.crt") && err.contains("nothing was changed"), "{err}");
    assert_eq!(listing(&store), before);
    assert_eq!(std::fs::read(store.join("new.crt")).unwrap(), std::fs::read(d.join("stranger.crt")).unwrap());
    // Not a folder: a sentence, exit 2.
    let (code, _, err) = apply_linux(&d.join("kit"), &d.join("nowhere"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a folder"), "{err}");
}

#[test]
fn the_swap_kit_refuses_bad_input_and_writes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    vendor_certificate(d, "new.crt", "New");
    vendor_certificate(d, "old.crt", "Old");
    std::fs::copy(d.join("new.crt"), d.join("new-again.pem")).unwrap();
    std::fs::write(d.join("notes.txt"), "hello").unwrap();

    // The certificate to remove is the one to add, under another name.
    let (code, out, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "new-again.pem", "--out", "kit"], d);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("is one the package adds") && err.contains("--remove"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A file that is not there, and one that holds no certificate.
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "missing.crt", "--out", "kit"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.crt"), "{err}");
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "notes.txt", "--out", "kit"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("notes.txt"), "{err}");
    assert!(!d.join("kit").exists(), "nothing is written on bad input");

    // A kit that exists is never overwritten, folder or zip.
    std::fs::create_dir(d.join("kit")).unwrap();
    std::fs::write(d.join("kit/mine.txt"), "keep").unwrap();
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "old.crt", "--out", "kit"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(listing(&d.join("kit")), ["mine.txt"]);
    std::fs::write(d.join("kit.zip"), "mine").unwrap();
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "old.crt", "--out", "kit.zip"], d);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(d.join("kit.zip")).unwrap(), "mine");

    // As a zip, the same members.
    let (code, _, err) =
        run(&["truststore", "package", "--cert", "new.crt", "--remove", "old.crt", "--out", "swap.zip"], d);
    assert_eq!(code, 0, "{err}");
    let zip = zip::ZipArchive::new(std::fs::File::open(d.join("swap.zip")).unwrap()).unwrap();
    let mut members: Vec<String> =
        zip.file_names().map(|n| n.unwrap().into_owned()).filter(|n| !n.ends_with('/')).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "TRUSTSTORE-INSTRUCTIONS.md",
            "apply-linux.sh",
            "apply-windows.ps1",
            "remove.sha256",
            "upmconfig/truststore/new.crt"
        ]
    );

    // The check: the same certificate expected and rejected; a file that cannot be read.
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    let (code, _, err) =
        run(&["truststore", "check", "store", "--expect", "new.crt", "--reject", "new-again.pem"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both expected and rejected"), "{err}");
    let (code, _, err) =
        run(&["truststore", "check", "store", "--expect", "new.crt", "--reject", "gone.crt"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gone.crt"), "{err}");
    let (code, _, err) = run(&["truststore", "check", "nowhere", "--expect", "new.crt"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn the_swap_kit_removes_every_certificate_of_a_stored_key() {
    let Some(k) = crate::common::keychain::Keychain::new() else { return };
    let d = k.path();
    k.ok(&["keys", "generate", "--name", "acme-old"]);
    k.ok(&["cert", "self-sign", "acme-old", "--out", "first.crt"]);
    k.ok(&["cert", "renew", "acme-old", "--days", "365", "--out", "renewed.crt"]);
    k.ok(&["keys", "generate", "--name", "acme-new"]);
    k.ok(&["cert", "self-sign", "acme-new", "--out", "new.crt"]);
    let out = k.ok(&["truststore", "package", "--cert", "acme-new", "--remove", "acme-old", "--out", "kit"]);
    assert!(out.contains("Removes"), "{out}");
    let list = std::fs::read_to_string(d.join("kit/remove.sha256")).unwrap();
    let read = |f: &str| {
        let pem = std::fs::read(d.join(f)).unwrap();
        certs::Certificate::all_from_file_bytes(&pem, f).unwrap().remove(0)
    };
    let entries: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        entries,
        [
            format!("{}  acme-old.crt", read("first.crt").fingerprint()),
            format!("{}  acme-old.crt", read("renewed.crt").fingerprint())
        ],
        "{list}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("kit/upmconfig/truststore/acme-new.crt")).unwrap(),
        read("new.crt").to_pem()
    );
    // A key's own certificate cannot be both.
    let (code, _, err) =
        k.run(&["truststore", "package", "--cert", "acme-new", "--remove", "new.crt", "--out", "kit2"]);
    assert_eq!(code, 2, "{err}");
    assert!(!d.join("kit2").exists());

    // `truststore check` takes the keys' names as `package` does: the new key's current
    // certificate must be there, under any name, and none of the old key's.
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::copy(d.join("new.crt"), store.join("vendor.crt")).unwrap();
    std::fs::copy(d.join("renewed.crt"), store.join("old.crt")).unwrap();
    let check = ["truststore", "check", "store", "--expect", "acme-new", "--reject", "acme-old"];
    let (code, out, err) = k.run(&check);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("Expected key \"acme-new\"") && !l.ends_with(": missing.")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("Rejected key \"acme-old\"")
            && l.contains("still there (store")
            && l.ends_with("old.crt).")),
        "{out}"
    );
    std::fs::remove_file(store.join("old.crt")).unwrap();
    let (code, out, err) = k.run(&check);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = k.run(&["truststore", "check", "store", "--cert", "acme-new"]);
    assert_eq!(code, 0, "{out}{err}");

    // `sign --cert` takes a key's name too: the old key with the new key's certificate is
    // refused (the certificate is another key's), the new key with its own signs.
    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0.0", 1000);
    let (code, out, err) =
        k.run(&["sign", "app.jar", "--key", "acme-old", "--cert", "acme-new", "--out", "b1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!d.join("b1").exists());
    let (code, out, err) =
        k.run(&["sign", "app.jar", "--key", "acme-new", "--cert", "acme-new", "--out", "b2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(std::fs::read_to_string(d.join("b2/acme-new.crt")).unwrap(), read("new.crt").to_pem());
}
