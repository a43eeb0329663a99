//! The JDK as an independent verifier: `Signature.getInstance("Ed25519")` with the
//! certificate parsed by `CertificateFactory` accepts our bundles, and refuses a changed one.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use countersign::certs::Subject;

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
    let subject = Subject {
        common_name: "Acme App Signing".into(),
        organization: Some("Acme Ltd".into()),
        country: Some("DE".into()),
        ..Default::default()
    };
    let f = Fixture::folder()
        .generated_key()
        .certified("acme.crt", subject)
        .jar("app-3.1.jar", "com.acme.app", "3.1", 300_000)
        .out_dir("bundle");
    let d = f.path();
    SignCmd::new(&f).out("bundle").ok();

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
    let f = Fixture::openssl().app(20_000);
    let d = f.path();
    SignCmd::new(&f).arg("--zip").ok();
    let (ok, text) = java_verify(d, "app.jar", "app.jar.sig", "vendor.crt");
    assert!(ok, "{text}");
}
