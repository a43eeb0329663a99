//! OpenSSL as the independent judge: our Ed25519 signatures equal its signatures byte for
//! byte, it verifies what we sign, we verify what it signs, and any single flipped bit in
//! the artifact, the signature or the certificate is rejected.

use std::path::Path;

use crate::common::*;
use base64ct::{Base64, Encoding};
use countersign::bundle::{self, CertificateInput, SignRequest, VerifyInput};
use countersign::certs::{self, Subject};
use countersign::keys::{Algorithm, PrivateKey};
use countersign::progress::Progress;
use countersign::signing;
use time::{Duration, OffsetDateTime};

fn load_key(path: &Path) -> PrivateKey {
    let bytes = std::fs::read(path).unwrap();
    PrivateKey::from_file_bytes(&bytes, "test key", || panic!("not encrypted")).unwrap()
}

#[test]
fn ed25519_signatures_are_byte_identical_to_openssl() {
    require!(openssl);
    let dir = tempdir();
    let d = dir.path();
    let key_path = openssl_ed25519_key(d, "key.pem");
    let key = load_key(&key_path);
    let chunk = 1usize << 20;
    for (name, len) in [
        ("one", 1usize),
        ("small", 1000),
        ("chunk", chunk),
        ("chunk-plus", chunk + 1),
        ("multi-mb", 5 * chunk + 3),
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let file = d.join(name);
        std::fs::write(&file, &data).unwrap();
        let ours = signing::sign_file(&file, &key, &Progress::new()).unwrap();
        let theirs = openssl(&["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", name], d);
        assert_eq!(
            ours.signature.as_bytes(),
            &theirs[..],
            "signature of the {name} file ({len} bytes) differs from openssl's"
        );
    }
}

/// OpenSSL 3.0 cannot sign an empty file ("Could not allocate 0 bytes for oneshot sign"),
/// so the empty message is checked against RFC 8032's own test vector 1 instead.
#[test]
fn the_empty_file_gets_rfc_8032_test_vector_1() {
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let expected = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    let mut der =
        vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    der.extend((0..32).map(|i| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap()));
    let key = PrivateKey::from_file_bytes(&der, "rfc8032", || panic!("not encrypted")).unwrap();
    let dir = tempdir();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let signed = signing::sign_file(&empty, &key, &Progress::new()).unwrap();
    assert_eq!(countersign::hex::lower(signed.signature.as_bytes()), expected);
}

#[test]
fn the_command_line_writes_openssls_signature_for_a_multi_megabyte_jar() {
    require!(openssl);
    let f = Fixture::openssl().jar("big-app-2.0.jar", "com.acme.big", "2.0", 6 << 20).out_dir("out");
    let d = f.path();
    SignCmd::new(&f).out("out").ok();
    let sig_text = std::fs::read_to_string(d.join("out/big-app-2.0.jar.sig")).unwrap();
    assert_eq!(sig_text.len(), 88, "one line of Base64, no newline");
    let theirs = openssl(&["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "big-app-2.0.jar"], d);
    assert_eq!(Base64::decode_vec(&sig_text).unwrap(), theirs);
}

#[test]
fn openssl_verifies_our_ed25519_bundle_with_the_commands_in_install_md() {
    require!(openssl);
    let f = Fixture::openssl().out_dir("bundle").jar("bundle/app-1.0.jar", "com.acme.app", "1.0", 10_000);
    let d = f.path();
    SignCmd::new(&f).ok();
    // The customer's own check, exactly as INSTALL.md words it.
    let install = std::fs::read_to_string(d.join("bundle/INSTALL.md")).unwrap();
    let step3 = install.split("## Step 3").nth(1).unwrap();
    let script = step3.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(d.join("bundle"))
        .output()
        .unwrap();
    assert!(out.status.success(), "INSTALL.md's check failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));
}

#[test]
fn openssl_verifies_our_p384_signatures_and_we_say_upm_refuses_them() {
    require!(openssl);
    let dir = tempdir();
    let d = dir.path();
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem"], d);
    openssl(&["pkey", "-in", "p384.pem", "-pubout", "-out", "pub.pem"], d);
    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 3000);
    let (code, _, err) = run(&["sign", "app.jar", "--key-file", "p384.pem"], d);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("UPM accepts Ed25519 signatures only"), "the P-384 warning is shown: {err}");
    let sig = Base64::decode_vec(&std::fs::read_to_string(d.join("app.jar.sig")).unwrap()).unwrap();
    std::fs::write(d.join("sig.der"), sig).unwrap();
    assert!(openssl_ok(&["dgst", "-sha384", "-verify", "pub.pem", "-signature", "sig.der", "app.jar"], d));
    // And our own generated P-384 key, written as PKCS#8, is one openssl reads.
    let ours = PrivateKey::generate(Algorithm::EcdsaP384).unwrap();
    write_key_file(&ours, &d.join("ours.pem"));
    openssl(&["pkey", "-in", "ours.pem", "-pubout", "-out", "ours-pub.pem"], d);
    let signed = signing::sign_file(&d.join("app.jar"), &ours, &Progress::new()).unwrap();
    std::fs::write(d.join("ours.der"), signed.signature.as_bytes()).unwrap();
    assert!(openssl_ok(
        &["dgst", "-sha384", "-verify", "ours-pub.pem", "-signature", "ours.der", "app.jar"],
        d
    ));
}

#[test]
fn we_verify_signatures_openssl_made_raw_and_base64_wrapped() {
    require!(openssl);
    let f = Fixture::openssl().app(5000);
    let d = f.path();
    openssl(&["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "app.jar", "-out", "sig.bin"], d);
    openssl(&["base64", "-in", "sig.bin", "-out", "sig.b64"], d); // wrapped at 64 columns, trailing newline
    for sig in ["sig.bin", "sig.b64"] {
        let (code, out, err) = run(&["verify", "app.jar", "--sig", sig, "--cert", "vendor.crt"], d);
        assert_eq!(code, 0, "{sig}: {out}{err}");
        assert!(out.contains("is good: UPM will accept it once"), "{out}");
    }
    // P-384 made by openssl: the signature checks, and the verdict says UPM refuses it.
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem"], d);
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "p384.pem",
            "-subj",
            "/CN=NIST Vendor",
            "-days",
            "30",
            "-out",
            "p384.crt",
        ],
        d,
    );
    openssl(&["dgst", "-sha384", "-sign", "p384.pem", "-out", "p384.sig", "app.jar"], d);
    let (code, out, _) = run(&["verify", "app.jar", "--sig", "p384.sig", "--cert", "p384.crt", "--json"], d);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let outcome = |id: &str| {
        report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["outcome"].clone()
    };
    assert_eq!(outcome("signature"), "pass");
    assert_eq!(outcome("certificate-key"), "fail");
    assert!(out.contains("UPM will refuse it"));
}

/// A signed bundle made through the library, for the bit-flip tests.
struct Signed {
    _dir: tempfile::TempDir,
    jar: std::path::PathBuf,
    sig: Vec<u8>,
    cert_pem: Vec<u8>,
}

fn signed_bundle(key: &PrivateKey, cert: &certs::Certificate) -> Signed {
    let dir = tempdir();
    let jar = dir.path().join("app.jar");
    make_app_jar(&jar, "com.acme.app", "1.0", 2000);
    let input = CertificateInput {
        chain: vec![cert.clone()],
        source_name: "vendor.crt".into(),
        bundle_stem: "vendor".into(),
    };
    let req = SignRequest {
        artifact: &jar,
        key,
        certificate: Some(&input),
        out_dir: None,
        note: None,
        include_artifact: false,
        zip: false,
        overwrite: false,
        now: OffsetDateTime::now_utc(),
    };
    let b = bundle::sign_artifact(&req, &Progress::new()).unwrap();
    Signed {
        jar,
        sig: std::fs::read(b.dir.join("app.jar.sig")).unwrap(),
        cert_pem: std::fs::read(b.dir.join("vendor.crt")).unwrap(),
        _dir: dir,
    }
}

fn accepted(jar: &Path, sig: &[u8], cert: &[u8]) -> bool {
    let input = VerifyInput {
        artifact: jar,
        artifact_name: "app.jar".into(),
        signature: sig,
        signature_name: "app.jar.sig".into(),
        certificate: Some((cert, "vendor.crt".into())),
        certificate_from: bundle::CertificateFrom::Given,
        replaced: Vec::new(),
        truststore: None,
        manifest: None,
        now: OffsetDateTime::now_utc(),
    };
    bundle::verify(&input, &Progress::new()).unwrap().passed()
}

fn test_cert(key: &PrivateKey) -> certs::Certificate {
    let now = OffsetDateTime::now_utc();
    let subject = Subject {
        common_name: "Acme Signing".into(),
        organization: Some("Acme".into()),
        ..Default::default()
    };
    certs::self_signed(key, &subject, now - Duration::hours(1), now + Duration::days(365)).unwrap()
}

#[test]
fn every_single_bit_flip_in_the_signature_or_the_certificate_is_rejected() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let s = signed_bundle(&key, &test_cert(&key));
    assert!(accepted(&s.jar, &s.sig, &s.cert_pem), "the untouched bundle is accepted");

    let raw_sig = Base64::decode_vec(std::str::from_utf8(&s.sig).unwrap()).unwrap();
    for bit in 0..raw_sig.len() * 8 {
        let mut flipped = raw_sig.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let text = Base64::encode_string(&flipped);
        assert!(!accepted(&s.jar, text.as_bytes(), &s.cert_pem), "signature bit {bit} flipped was accepted");
    }
    let der =
        countersign::certs::Certificate::all_from_file_bytes(&s.cert_pem, "c").unwrap()[0].der().to_vec();
    for bit in 0..der.len() * 8 {
        let mut flipped = der.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let pem = countersign::pem::encode("CERTIFICATE", &flipped);
        assert!(!accepted(&s.jar, &s.sig, pem.as_bytes()), "certificate bit {bit} flipped was accepted");
    }
}

#[test]
fn a_flipped_bit_anywhere_in_the_artifact_is_rejected() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let s = signed_bundle(&key, &test_cert(&key));
    let original = std::fs::read(&s.jar).unwrap();
    // Every 7th byte, each time a different bit: covers headers, content and the zip's end.
    for i in (0..original.len()).step_by(7) {
        let mut flipped = original.clone();
        flipped[i] ^= 1 << (i % 8);
        std::fs::write(&s.jar, &flipped).unwrap();
        assert!(!accepted(&s.jar, &s.sig, &s.cert_pem), "artifact byte {i} flipped was accepted");
    }
}

#[test]
fn the_command_line_rejects_flipped_bits_with_exit_status_1() {
    require!(openssl);
    let f = Fixture::openssl().app(4000);
    let d = f.path();
    SignCmd::new(&f).ok();
    assert_eq!(run(&["verify", "."], d).0, 0);
    for (file, offset) in [("app.jar", 100), ("app.jar.sig", 5), ("vendor.crt", 40)] {
        let backup = std::fs::read(d.join(file)).unwrap();
        flip_bit(&d.join(file), offset);
        let (code, out, err) = run(&["verify", "."], d);
        assert_eq!(code, 1, "a flipped bit in {file} must be rejected: {out}{err}");
        assert!(err.contains("Rejected: UPM will refuse app.jar. Failed check"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence on stderr: {err}");
        std::fs::write(d.join(file), backup).unwrap();
    }
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused_with_that_reason() {
    let f = Fixture::folder().generated_key().app(100);
    let d = f.path();
    let key = f.private_key();
    let now = OffsetDateTime::now_utc();
    let subject = Subject { common_name: "Acme Signing".into(), ..Default::default() };
    let expired =
        certs::self_signed(key, &subject, now - Duration::days(400), now - Duration::days(35)).unwrap();
    let future =
        certs::self_signed(key, &subject, now + Duration::days(10), now + Duration::days(400)).unwrap();
    std::fs::write(d.join("expired.crt"), expired.to_pem()).unwrap();
    std::fs::write(d.join("future.crt"), future.to_pem()).unwrap();

    let (code, _, err) = SignCmd::new(&f).cert("expired.crt").run();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expired on") && err.contains("Renew"), "{err}");
    let (code, _, err) = SignCmd::new(&f).cert("future.crt").run();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not valid before"), "{err}");
    assert_eq!(listing(d), ["app.jar", "expired.crt", "future.crt", "key.pem"], "nothing written");

    // A signature made while the certificate was valid is refused once it has expired.
    openssl_free_sign(key, &d.join("app.jar"), &d.join("app.jar.sig"));
    let (code, out, _) = run(&["verify", "app.jar", "--cert", "expired.crt"], d);
    assert_eq!(code, 1);
    assert!(out.contains("[FAIL] Certificate is within its validity window: expired on"), "{out}");
    let (code, out, _) = run(&["verify", "app.jar", "--cert", "future.crt"], d);
    assert_eq!(code, 1);
    assert!(out.contains("not valid before"), "{out}");
}

fn openssl_free_sign(key: &PrivateKey, file: &Path, sig: &Path) {
    let s = signing::sign_file(file, key, &Progress::new()).unwrap();
    std::fs::write(sig, s.signature.to_base64()).unwrap();
}

#[test]
fn openssl_accepts_our_self_signed_certificate() {
    require!(openssl);
    let dir = tempdir();
    let d = dir.path();
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    std::fs::write(d.join("c.crt"), test_cert(&key).to_pem()).unwrap();
    assert!(openssl_ok(&["verify", "-CAfile", "c.crt", "c.crt"], d));
}

#[test]
fn keys_in_every_form_openssl_writes_are_read() {
    require!(openssl);
    let f = Fixture::folder().app(100);
    let d = f.path();
    openssl_ed25519_key(d, "plain.pem");
    openssl(&["pkey", "-in", "plain.pem", "-outform", "DER", "-out", "plain.der"], d);
    openssl(
        &["pkey", "-in", "plain.pem", "-aes-256-cbc", "-passout", "pass:correct horse", "-out", "enc.pem"],
        d,
    );
    openssl(
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "plain.pem",
            "-outform",
            "DER",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:correct horse",
            "-out",
            "enc.der",
        ],
        d,
    );
    let expected = openssl(&["pkeyutl", "-sign", "-inkey", "plain.pem", "-rawin", "-in", "app.jar"], d);
    for (i, key) in ["plain.pem", "plain.der", "enc.pem", "enc.der"].iter().enumerate() {
        let out_dir = format!("out{i}");
        std::fs::create_dir(d.join(&out_dir)).unwrap();
        let (code, _, err) =
            SignCmd::new(&f).key_file(key).out(&out_dir).env("COUNTERSIGN_PASSPHRASE", "correct horse").run();
        assert_eq!(code, 0, "{key}: {err}");
        let sig = std::fs::read_to_string(d.join(&out_dir).join("app.jar.sig")).unwrap();
        assert_eq!(Base64::decode_vec(&sig).unwrap(), expected, "{key}");
    }

    // P-384 as openssl writes it: PKCS#8 PEM, SEC1 PEM ("EC PRIVATE KEY"), and the SEC1 DER
    // that `openssl pkey -outform DER` writes for EC keys.
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem"], d);
    openssl(&["pkey", "-in", "p384.pem", "-pubout", "-out", "p384.pub"], d);
    openssl(&["ec", "-in", "p384.pem", "-out", "p384-sec1.pem"], d);
    openssl(&["pkey", "-in", "p384.pem", "-outform", "DER", "-out", "p384-sec1.der"], d);
    assert!(std::fs::read_to_string(d.join("p384-sec1.pem")).unwrap().contains("BEGIN EC PRIVATE KEY"));
    for key in ["p384.pem", "p384-sec1.pem", "p384-sec1.der"] {
        let out_dir = format!("out-{key}");
        std::fs::create_dir(d.join(&out_dir)).unwrap();
        let (code, _, err) = SignCmd::new(&f).key_file(key).out(&out_dir).run();
        assert_eq!(code, 0, "{key}: {err}");
        let sig = Base64::decode_vec(&std::fs::read_to_string(d.join(&out_dir).join("app.jar.sig")).unwrap())
            .unwrap();
        std::fs::write(d.join("p384-sig.der"), sig).unwrap();
        assert!(
            openssl_ok(
                &["dgst", "-sha384", "-verify", "p384.pub", "-signature", "p384-sig.der", "app.jar"],
                d
            ),
            "{key}"
        );
    }
}
