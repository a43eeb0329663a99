//! The JDK as an independent verifier: `Signature.getInstance("Ed25519")` with the
//! certificate parsed by `CertificateFactory` accepts our bundles, and refuses a changed one.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use countersign::certs::{self, Subject};
use countersign::keys::{Algorithm, PrivateKey};
use time::{Duration, OffsetDateTime};

fn java_verify(dir: &Path, artifact: &str, sig: &str, cert: &str) -> (bool, String) {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/VerifyBundle.java");
    let out = Command::new("java")
        .arg(program)
        .args([artifact, sig, cert])
        .current_dir(dir)
        .output()
        .expect("java runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn the_jdk_verifies_a_bundle_signed_under_our_own_certificate() {
    require!(java);
    let dir = tempdir();
    let d = dir.path();
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    std::fs::write(d.join("key.pem"), countersign::pem::encode("PRIVATE KEY", &key.to_pkcs8_der().unwrap()))
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let subject = Subject {
        common_name: "Acme App Signing".into(),
        organization: Some("Acme Ltd".into()),
        country: Some("DE".into()),
        ..Default::default()
    };
    let cert =
        certs::self_signed(&key, &subject, now - Duration::minutes(5), now + Duration::days(730)).unwrap();
    std::fs::write(d.join("acme.crt"), cert.to_pem()).unwrap();
    make_app_jar(&d.join("app-3.1.jar"), "com.acme.app", "3.1", 300_000);
    std::fs::create_dir(d.join("bundle")).unwrap();
    let (code, _, err) =
        run(&["sign", "app-3.1.jar", "--key-file", "key.pem", "--cert", "acme.crt", "--out", "bundle"], d);
    assert_eq!(code, 0, "{err}");

    let (ok, text) = java_verify(d, "app-3.1.jar", "bundle/app-3.1.jar.sig", "bundle/acme.crt");
    assert!(ok, "{text}");
    assert!(
        text.contains("VERIFIED") && text.contains("Acme App Signing") && text.contains("Ed25519"),
        "{text}"
    );

    // Not a verifier that says yes to everything: a changed artifact is refused.
    flip_bit(&d.join("app-3.1.jar"), 1000);
    let (ok, text) = java_verify(d, "app-3.1.jar", "bundle/app-3.1.jar.sig", "bundle/acme.crt");
    assert!(!ok && text.contains("REJECTED signature"), "{text}");
}

#[test]
fn the_jdk_verifies_a_bundle_signed_with_openssl_made_key_and_certificate() {
    require!(java, openssl);
    let dir = tempdir();
    let d = dir.path();
    openssl_ed25519_key(d, "key.pem");
    openssl_self_signed(d, "key.pem", "vendor.crt", "365");
    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 20_000);
    let (code, _, err) =
        run(&["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--zip"], d);
    assert_eq!(code, 0, "{err}");
    let (ok, text) = java_verify(d, "app.jar", "app.jar.sig", "vendor.crt");
    assert!(ok, "{text}");
}
