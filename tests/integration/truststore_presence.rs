//! `truststore check --cert FILE` / `--key NAME`: whether the trust store holds your current
//! certificate, found by content whatever the file is called, or an older one of the same key.

use std::path::Path;

use crate::common::keychain::Keychain;
use crate::common::*;
use countersign::certs;
use serde_json::Value;

/// A trust store as UPM wants it (Atlassian's CAs, mode 755/644) in `d/store`, holding the
/// certificate file `cert` of `d` under the name `named`.
fn store_holding(d: &Path, cert: &str, named: &str) -> std::path::PathBuf {
    let store = d.join("store");
    std::fs::create_dir_all(&store).unwrap();
    for (name, pem) in countersign::truststore::ATLASSIAN_CAS {
        std::fs::write(store.join(name), pem).unwrap();
    }
    std::fs::copy(d.join(cert), store.join(named)).unwrap();
    upm_modes(&store);
    store
}

#[test]
fn truststore_check_finds_the_current_certificate_under_another_file_name() {
    let dir = tempdir();
    let d = dir.path();
    let cert = vendor_certificate(d, "vendor.crt", "Vendor Signing");
    // The customer renamed it, and keeps it as .pem.
    store_holding(d, "vendor.crt", "from-acme-2025.pem");
    let (code, out, err) = run(&["truststore", "check", "store", "--cert", "vendor.crt"], d);
    assert_eq!(code, 0, "{out}{err}");
    let line =
        out.lines().find(|l| l.starts_with("Your current certificate")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(&cert.fingerprint()) && line.contains("present ("), "{line}");
    assert!(line.contains("from-acme-2025.pem"), "{line}");

    let (code, out, _) = run(&["truststore", "check", "store", "--cert", "vendor.crt", "--json"], d);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    let current = &v["current_certificate"];
    assert_eq!(current["presence"]["presence"], "present", "{out}");
    assert!(current["presence"]["file"].as_str().unwrap().ends_with("from-acme-2025.pem"), "{out}");
    assert_eq!(current["sha256_fingerprint"], Value::from(cert.fingerprint()));
    assert_eq!(v["ok"], true);
    // Without --cert or --key, no such line, and the JSON as before.
    let (_, out, _) = run(&["truststore", "check", "store", "--json"], d);
    assert!(json(&out).get("current_certificate").is_none(), "{out}");
}

#[test]
fn truststore_check_says_when_the_current_certificate_is_missing() {
    let dir = tempdir();
    let d = dir.path();
    vendor_certificate(d, "vendor.crt", "Vendor Signing");
    // Another vendor's certificate in the store does not count.
    vendor_certificate(d, "other.crt", "Other Vendor");
    store_holding(d, "other.crt", "vendor.crt");
    let (code, out, err) = run(&["truststore", "check", "store", "--cert", "vendor.crt"], d);
    assert_eq!(code, 1, "a store without your certificate refuses your apps: {out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("Your current certificate") && l.contains(": missing.")),
        "{out}"
    );
    assert!(err.contains("does not hold your current certificate"), "{err}");
    let (code, out, _) = run(&["truststore", "check", "store", "--cert", "vendor.crt", "--json"], d);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["current_certificate"]["presence"]["presence"], "missing", "{out}");
    assert_eq!(v["ok"], false);
    // A certificate file that is not one is bad input, before any finding.
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    let (code, _, err) = run(&["truststore", "check", "store", "--cert", "notes.txt"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("notes.txt"), "{err}");
}

#[test]
fn truststore_check_with_a_renewed_key_finds_the_older_certificate() {
    let Some(k) = Keychain::new() else { return };
    let d = k.path();
    k.ok(&["keys", "generate", "--name", "acme"]);
    let (code, _, err) = k.run(&["truststore", "check", ".", "--key", "acme"]);
    assert_eq!(code, 2, "a key without a certificate: {err}");
    assert!(err.contains("no certificate yet") && err.contains("cert self-sign acme"), "{err}");
    k.ok(&["cert", "self-sign", "acme", "--org", "Acme Ltd", "--out", "old.crt"]);
    k.ok(&["cert", "renew", "acme", "--days", "365", "--out", "new.crt"]);
    // The customer still has the certificate from before the renewal.
    let store = store_holding(d, "old.crt", "acme.crt");
    let (code, out, err) = k.run(&["truststore", "check", "store", "--key", "acme"]);
    assert_eq!(code, 1, "{out}{err}");
    let line =
        out.lines().find(|l| l.starts_with("Your current certificate")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("an older one (") && line.contains("acme.crt: same key"), "{line}");
    let (_, out, _) = k.run(&["truststore", "check", "store", "--key", "acme", "--json"]);
    let v = json(&out);
    let presence = &v["current_certificate"]["presence"];
    assert_eq!(presence["presence"], "older", "{out}");
    assert_eq!(presence["same_key"], true, "{out}");
    let old = std::fs::read_to_string(d.join("old.crt")).unwrap();
    let old = &certs::Certificate::all_from_file_bytes(old.as_bytes(), "old").unwrap()[0];
    assert_eq!(presence["sha256_fingerprint"], Value::from(old.fingerprint()), "{out}");
    assert_eq!(v["current_certificate"]["source"], "key \"acme\"");
    // Once the renewed certificate is in, it is found, whatever its name.
    std::fs::copy(d.join("new.crt"), store.join("acme-renewed.crt")).unwrap();
    upm_modes(&store);
    let (code, out, err) = k.run(&["truststore", "check", "store", "--key", "acme"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("present (") && out.contains("acme-renewed.crt"), "{out}");
    // One certificate to ask about: --key or --cert, not both.
    let (code, _, err) = k.run(&["truststore", "check", "store", "--key", "acme", "--cert", "new.crt"]);
    assert_eq!(code, 2, "{err}");
}
