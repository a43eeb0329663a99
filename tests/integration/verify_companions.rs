//! Verifying an app given alone: its `.sig` and the signer's certificate are found beside it,
//! and the report names the files used; a bundle given with a certificate is checked, not
//! refused as "a folder without a bundle manifest".

use std::path::Path;

use crate::common::*;
use countersign::bundle::{self, CertificateFrom, VerifyTarget};
use countersign::certs::Certificate;
use countersign::keys::{Algorithm, PrivateKey};
use countersign::progress::Progress;
use serde_json::Value;
use time::OffsetDateTime;

/// A certificate for `key`, valid from `start_days_ago`, written to `file` in `d`.
fn certificate(d: &Path, key: &PrivateKey, file: &str, start_days_ago: i64) -> Certificate {
    certificate_file(d, key, file, &subject("Acme App Signing"), start_days_ago)
}

/// `big-widget.jar` signed with a new key (`key.pem`, certificate `signer.crt`) into
/// `bundle/`, and its `.sig` copied beside the jar; `signer.crt` stays in the folder.
fn signed_app() -> Fixture {
    let f = Fixture::folder().generated_key().certified("signer.crt", subject("Acme App Signing")).jar(
        "big-widget.jar",
        "com.acme.widget",
        "2.0",
        5000,
    );
    SignCmd::new(&f).out("bundle").ok();
    std::fs::copy(f.path().join("bundle/big-widget.jar.sig"), f.path().join("big-widget.jar.sig")).unwrap();
    f
}

#[test]
fn verify_an_app_alone_takes_the_certificate_named_like_it() {
    let f = signed_app();
    let d = f.path();
    // Named like the app wins, even beside another certificate that verifies.
    std::fs::copy(d.join("signer.crt"), d.join("big-widget.pem")).unwrap();
    let (code, out, err) = run(&["verify", "big-widget.jar"], d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("Checked big-widget.jar with big-widget.jar.sig and big-widget.pem, found beside it"),
        "{out}"
    );
    assert!(out.contains("found beside the app and named like it"), "{out}");
    let (_, out, _) = run(&["verify", "big-widget.jar", "--json"], d);
    let v = json(&out);
    assert_eq!(v["used_signature"], "big-widget.jar.sig", "{out}");
    assert_eq!(v["used_certificate"], "big-widget.pem", "{out}");
    assert_eq!(v["certificate_from"], "named-like-app", "{out}");
    // <app>.crt (the whole file name) comes first.
    std::fs::copy(d.join("signer.crt"), d.join("big-widget.jar.crt")).unwrap();
    let (_, out, _) = run(&["verify", "big-widget.jar", "--json"], d);
    assert_eq!(json(&out)["used_certificate"], "big-widget.jar.crt", "{out}");
}

#[test]
fn verify_an_app_alone_takes_the_only_certificate_beside_it_that_verifies() {
    let f = signed_app();
    let d = f.path();
    // Another vendor's certificate, and files that are no certificate at all, are passed over.
    let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    certificate(d, &other, "another-vendor.crt", 1);
    std::fs::write(d.join("key-backup.pem"), "not a certificate").unwrap();
    let (code, out, err) = run(&["verify", "big-widget.jar", "--json"], d);
    assert_eq!(code, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["used_certificate"], "signer.crt", "{out}");
    assert_eq!(v["certificate_from"], "only-one-beside-app", "{out}");
    assert_eq!(v["verdict"], "signature-good", "{out}");
    // From another folder, the companions are named with the app's folder.
    let (code, out, _) =
        run(&["verify", &d.join("big-widget.jar").display().to_string(), "--json"], &std::env::temp_dir());
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["used_certificate"], Value::from(d.join("signer.crt").display().to_string()));
    // The core says the same to the window.
    let target = VerifyTarget { path: d.join("big-widget.jar"), ..VerifyTarget::default() };
    let report = bundle::verify_target(&target, None, OffsetDateTime::now_utc(), &Progress::new()).unwrap();
    assert_eq!(report.certificate_from, Some(CertificateFrom::OnlyOneBesideApp));
    assert_eq!(
        report.checked_with(),
        "Checked big-widget.jar with big-widget.jar.sig and signer.crt, found beside it"
    );
}

#[test]
fn verify_an_app_alone_names_several_certificates_that_verify_instead_of_guessing() {
    let f = signed_app();
    let d = f.path();
    let key = f.private_key();
    // The renewed certificate beside the old one: both verify; which is meant is not known.
    certificate(d, key, "signer-renewed.crt", 0);
    // A copy of the same certificate is no second one.
    std::fs::copy(d.join("signer.crt"), d.join("zz-copy.cer")).unwrap();
    let (code, _, err) = run(&["verify", "big-widget.jar"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Several certificates beside big-widget.jar verify its signature"), "{err}");
    assert!(
        err.contains("signer.crt") && err.contains("signer-renewed.crt") && err.contains("--cert"),
        "{err}"
    );
    let (code, out, _) = run(&["verify", "big-widget.jar", "--cert", "signer-renewed.crt", "--json"], d);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["certificate_from"], "given");
    // Only certificates that do not verify: nothing to check against, as before.
    for f in ["signer.crt", "signer-renewed.crt", "zz-copy.cer"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    certificate(d, &PrivateKey::generate(Algorithm::Ed25519).unwrap(), "another-vendor.crt", 1);
    let (code, _, err) = run(&["verify", "big-widget.jar"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No certificate to check") && err.contains("--truststore"), "{err}");
}

#[test]
fn verify_with_a_trust_store_searches_it_not_the_apps_folder() {
    let f = signed_app();
    let d = f.path();
    std::fs::create_dir(d.join("store")).unwrap();
    std::fs::copy(d.join("signer.crt"), d.join("store/acme.crt")).unwrap();
    let (code, out, _) = run(&["verify", "big-widget.jar", "--truststore", "store", "--json"], d);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["certificate_from"], "trust-store", "{out}");
    assert!(v["used_certificate"].as_str().unwrap().ends_with("acme.crt"), "{out}");
    assert_eq!(v["verdict"], "accepted", "{out}");
}

#[test]
fn verify_a_bundle_given_with_a_certificate_checks_it_instead_of_refusing_the_folder() {
    let f = signed_app();
    let d = f.path();
    let key = f.private_key();
    // The bundle's own parts, named in the report.
    let (code, out, _) = run(&["verify", "bundle", "--json"], d);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["certificate_from"], "bundle", "{out}");
    assert!(v["used_signature"].as_str().unwrap().ends_with("big-widget.jar.sig"), "{out}");
    assert!(v["used_certificate"].as_str().unwrap().ends_with("signer.crt"), "{out}");

    // As the window asks: the bundle folder with the certificate field filled in.
    let target = VerifyTarget {
        path: d.join("bundle"),
        certificate: Some(d.join("signer.crt")),
        ..VerifyTarget::default()
    };
    let report = bundle::verify_target(&target, None, OffsetDateTime::now_utc(), &Progress::new())
        .unwrap_or_else(|e| panic!("a bundle with its own certificate given: {e}"));
    assert!(report.passed(), "{}", report.headline);
    let same = report.checks.iter().find(|c| c.id == "bundle-certificate").unwrap();
    assert_eq!(same.outcome, bundle::Outcome::Pass, "{}", same.detail);

    // A renewed certificate of the same key: checked against, and said to be another one.
    certificate(d, key, "renewed.crt", 0);
    let (code, out, _) = run(&["verify", "bundle", "--cert", "renewed.crt"], d);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[warn] Certificate given is the bundle's own: renewed.crt"), "{out}");
    assert!(out.contains("the signature is checked against the one given instead"), "{out}");
    assert!(
        !out.contains("Certificate is the one in the manifest"),
        "the manifest speaks of the bundle's own: {out}"
    );
    let (_, out, _) = run(&["verify", "bundle", "--cert", "renewed.crt", "--json"], d);
    assert_eq!(json(&out)["used_certificate"], "renewed.crt", "{out}");
    assert_eq!(json(&out)["certificate_from"], "given", "{out}");

    // Another key's certificate: the signature does not verify under it.
    certificate(d, &PrivateKey::generate(Algorithm::Ed25519).unwrap(), "stranger.crt", 1);
    let (code, out, _) = run(&["verify", "bundle", "--cert", "stranger.crt"], d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[FAIL] Signature matches the artifact"), "{out}");

    // A signature given too: compared with the bundle's own.
    let (code, out, _) = run(&["verify", "bundle", "--sig", "big-widget.jar.sig", "--cert", "signer.crt"], d);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[ ok ] Signature given is the bundle's own"), "{out}");

    // The zip bundle, with a certificate given, is a bundle too (not an app without a .sig).
    SignCmd::new(&f).out("zipped").arg("--zip").ok();
    let (code, out, err) = run(&["verify", "zipped/big-widget-signed.zip", "--cert", "signer.crt"], d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[ ok ] Certificate given is the bundle's own"), "{out}");

    // A folder that is no bundle, with a certificate given: said so.
    std::fs::create_dir(d.join("empty")).unwrap();
    let (code, _, err) = run(&["verify", "empty", "--cert", "signer.crt"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a folder without a bundle manifest"), "{err}");
}
