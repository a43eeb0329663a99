//! Certificates for stored keys, and the customer's trust store: openssl and the JDK accept
//! what we make, a CA-issued certificate travels with its chain, renewal keeps the key, an
//! expired certificate stops signing, and `truststore check` finds each planted fault.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::keychain::Keychain;
use crate::common::*;
use countersign::certs::{self, Subject};
use countersign::keys::PrivateKey;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// The stored key's private half, through an encrypted backup (the only way out).
fn private_key_of(k: &Keychain, name: &str) -> PrivateKey {
    let out = k
        .cmd(&k.home(), &k.service, &["keys", "backup", name, "--out", "extract.pem"])
        .env("COUNTERSIGN_PASSPHRASE", "test passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(k.path().join("extract.pem")).unwrap();
    std::fs::remove_file(k.path().join("extract.pem")).unwrap();
    PrivateKey::from_file_bytes(&bytes, "backup", || Ok(Zeroizing::new("test passphrase".into()))).unwrap()
}

#[test]
fn openssl_and_the_jdk_accept_our_self_signed_certificate_and_csr() {
    let Some(k) = Keychain::new() else { return };
    require!(openssl, java);
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&[
        "cert",
        "self-sign",
        "acme",
        "--org",
        "Acme Ltd",
        "--cn",
        "Acme App Signing",
        "--country",
        "DE",
        "--out",
        "acme.crt",
    ]);
    assert!(openssl_ok(&["verify", "-CAfile", "acme.crt", "acme.crt"], k.path()));
    let text = String::from_utf8(openssl(&["x509", "-in", "acme.crt", "-noout", "-text"], k.path())).unwrap();
    for must in [
        "Version: 3",
        "Subject Key Identifier",
        "Authority Key Identifier",
        "CA:TRUE",
        "ED25519",
        "CN = Acme App Signing",
    ] {
        assert!(text.contains(must), "certificate lacks {must}: {text}");
    }
    let pem = std::fs::read_to_string(k.path().join("acme.crt")).unwrap();
    assert!(pem.lines().all(|l| l.len() <= 64) && pem.ends_with("-----END CERTIFICATE-----\n"));
    let days = OffsetDateTime::parse(
        serde_json::from_str::<serde_json::Value>(&k.ok(&["cert", "show", "acme", "--json"])).unwrap()["certificates"][0]["not_after"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
        - OffsetDateTime::now_utc();
    assert!((729..=730).contains(&days.whole_days()), "default validity is 730 days: {days}");

    k.ok(&["cert", "request", "acme", "--org", "Acme Ltd", "--out", "acme.csr"]);
    assert!(openssl_ok(&["req", "-in", "acme.csr", "-verify", "-noout"], k.path()));

    // The JDK takes the certificate as a trust anchor (PKIX) and verifies a bundle under it.
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 1000);
    k.ok(&["sign", "app.jar", "--key", "acme"]);
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/VerifyBundle.java");
    let out = Command::new("java")
        .arg(program)
        .args(["app.jar", "app.jar.sig", "acme.crt"])
        .current_dir(k.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_ca_issued_certificate_imports_with_its_chain_and_ships_in_the_bundle() {
    let Some(k) = Keychain::new() else { return };
    require!(openssl);
    let d = k.path();
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["cert", "request", "acme", "--org", "Acme Ltd", "--cn", "Acme App Signing", "--out", "acme.csr"]);
    openssl_ca_chain(d, "/CN=Acme Company CA", "acme.csr", "issued.crt", "chain.pem");
    k.ok(&["cert", "import", "acme", "chain.pem"]);

    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 1000);
    k.ok(&["sign", "app.jar", "--key", "acme"]);
    let shipped = std::fs::read_to_string(d.join("acme.crt")).unwrap();
    assert_eq!(
        shipped.matches("BEGIN CERTIFICATE").count(),
        2,
        "the chain travels in the bundle, signer first"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["certificate"]["chain_length"], 2);
    assert!(manifest["certificate"]["issuer"].as_str().unwrap().contains("Acme Company CA"));
    std::fs::create_dir(d.join("store")).unwrap();
    std::fs::copy(d.join("ca.crt"), d.join("store/ca.crt")).unwrap();
    let (code, out, _) = k.run(&["verify", ".", "--truststore", "store"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("chain of 2 certificates verifies")
            && out.contains("[warn] Trust store holds the signing certificate"),
        "{out}"
    );
    assert!(
        out.contains("UPM may refuse it until the trust store holds the signing certificate itself"),
        "{out}"
    );
}

#[test]
fn a_certificate_for_another_key_is_refused_naming_whose_it_is() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["keys", "generate", "--name", "other"]);
    k.ok(&["cert", "self-sign", "other", "--out", "other.crt"]);
    let (code, _, err) = k.run(&["cert", "import", "acme", "other.crt"]);
    assert_eq!(code, 2);
    assert!(err.contains("is for another key") && err.contains("stored key \"other\""), "{err}");
    let show: serde_json::Value = serde_json::from_str(&k.ok(&["cert", "show", "acme", "--json"])).unwrap();
    assert_eq!(show["certificates"].as_array().unwrap().len(), 0);
}

#[test]
fn renewal_keeps_the_key_and_lists_the_old_certificate_until_it_expires() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["cert", "self-sign", "acme", "--org", "Acme Ltd", "--out", "old.crt"]);
    k.ok(&["cert", "renew", "acme", "--days", "365", "--out", "new.crt"]);
    let old =
        &certs::Certificate::all_from_file_bytes(&std::fs::read(k.path().join("old.crt")).unwrap(), "old")
            .unwrap()[0];
    let new =
        &certs::Certificate::all_from_file_bytes(&std::fs::read(k.path().join("new.crt")).unwrap(), "new")
            .unwrap()[0];
    assert_eq!(old.public_key("old").unwrap(), new.public_key("new").unwrap(), "same key");
    assert_eq!(old.subject(), new.subject(), "same subject");
    assert_ne!(old.serial_hex(), new.serial_hex());
    let show: serde_json::Value = serde_json::from_str(&k.ok(&["cert", "show", "acme", "--json"])).unwrap();
    let list = show["certificates"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["current"], true);
    assert_eq!(list[1]["sha256_fingerprint"], serde_json::json!(new.fingerprint()));
    // A bundle signed now carries the renewed certificate.
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 100);
    std::fs::create_dir(k.path().join("out")).unwrap();
    k.ok(&["sign", "app.jar", "--key", "acme", "--out", "out"]);
    assert_eq!(std::fs::read_to_string(k.path().join("out/acme.crt")).unwrap(), new.to_pem());
}

#[test]
fn an_expired_or_expiring_certificate_is_shown_and_an_expired_one_blocks_signing() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    let key = private_key_of(&k, "acme");
    let now = OffsetDateTime::now_utc();
    let subject = Subject { common_name: "Acme".into(), ..Default::default() };
    let soon =
        certs::self_signed(&key, &subject, now - Duration::days(300), now + Duration::days(20)).unwrap();
    std::fs::write(k.path().join("soon.crt"), soon.to_pem()).unwrap();
    k.ok(&["cert", "import", "acme", "soon.crt"]);
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 100);
    let (code, _, err) = k.run(&["sign", "app.jar", "--key", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("expires in 19 days") || err.contains("expires in 20 days"),
        "a warning 60 days ahead: {err}"
    );
    let list: serde_json::Value = serde_json::from_str(&k.ok(&["keys", "list", "--json"])).unwrap();
    assert!(list["keys"][0]["certificate"].as_str().unwrap().starts_with("expires in"), "{list}");

    let expired =
        certs::self_signed(&key, &subject, now - Duration::days(400), now - Duration::days(1)).unwrap();
    std::fs::write(k.path().join("expired.crt"), expired.to_pem()).unwrap();
    k.ok(&["cert", "import", "acme", "expired.crt"]);
    std::fs::create_dir(k.path().join("out")).unwrap();
    let (code, _, err) = k.run(&["sign", "app.jar", "--key", "acme", "--out", "out"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expired on") && err.contains("Renew"), "{err}");
    assert!(listing(&k.path().join("out")).is_empty(), "nothing written");
    k.ok(&["cert", "renew", "acme"]);
    k.ok(&["sign", "app.jar", "--key", "acme", "--out", "out"]);
}

// Trust stores are checked with Unix permissions (UPM's servers are Linux).
#[cfg(unix)]
fn write_store_file(dir: &Path, name: &str, contents: &[u8]) {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[cfg(unix)]
fn atlassian_store(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, pem) in countersign::truststore::ATLASSIAN_CAS {
        write_store_file(dir, name, pem.as_bytes());
    }
}

#[cfg(unix)]
fn check(dir: &Path) -> (i32, serde_json::Value) {
    let (code, out, err) = run(&["truststore", "check", dir.to_str().unwrap(), "--json"], dir);
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")))
}

#[cfg(unix)]
fn findings(lint: &serde_json::Value, severity: &str) -> Vec<String> {
    lint["lint"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| format!("{} {}", f["file"], f["message"]))
        .collect()
}

/// `truststore check` on `d` fails, with an error that names `file` and says `says`.
#[cfg(unix)]
fn assert_fails_naming(d: &Path, file: &str, says: &str) {
    let (code, lint) = check(d);
    assert_eq!(code, 1);
    assert!(findings(&lint, "error").iter().any(|e| e.contains(file) && e.contains(says)), "{lint}");
}

#[cfg(unix)]
#[test]
fn truststore_check_passes_a_clean_store_with_atlassians_cas_and_flags_each_planted_fault() {
    require!(openssl);
    let root = tempdir();
    let clean = root.path().join("clean");
    atlassian_store(&clean);
    let vendor = PrivateKey::generate(countersign::keys::Algorithm::Ed25519).unwrap();
    let now = OffsetDateTime::now_utc();
    let subject = Subject { common_name: "Vendor".into(), ..Default::default() };
    write_store_file(
        &clean,
        "vendor.crt",
        certs::self_signed(&vendor, &subject, now, now + Duration::days(700)).unwrap().to_pem().as_bytes(),
    );
    let (code, lint) = check(&clean);
    assert_eq!(code, 0, "{lint}");
    assert!(findings(&lint, "error").is_empty(), "{lint}");
    assert_eq!(lint["lint"]["certificates"], 4);
    assert!(lint["lint"]["atlassian_cas"].as_array().unwrap().iter().all(|c| c[1] == true), "{lint}");
    assert!(
        findings(&lint, "warning").iter().any(|w| w.contains("Intermediate CA v1 expires on 2027-01-10")),
        "{lint}"
    );

    // One fault per store, each found and named.
    let faulty = |name: &str| {
        let d = root.path().join(name);
        atlassian_store(&d);
        d
    };
    each_bad_file_is_found(&faulty, &vendor, &subject);
    each_bad_folder_is_found(&faulty);
}

/// A store (made by `faulty`) with an RSA certificate, an expired one, a file that is no
/// certificate, or a copy of one.
#[cfg(unix)]
fn each_bad_file_is_found(
    faulty: &dyn Fn(&str) -> std::path::PathBuf,
    vendor: &PrivateKey,
    subject: &Subject,
) {
    let now = OffsetDateTime::now_utc();
    let d = faulty("rsa");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "/dev/null",
            "-subj",
            "/CN=RSA Vendor",
            "-days",
            "30",
            "-out",
            "rsa.crt",
        ],
        &d,
    );
    std::fs::set_permissions(d.join("rsa.crt"), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_fails_naming(&d, "rsa.crt", "RSA");

    let d = faulty("expired");
    let old =
        certs::self_signed(vendor, subject, now - Duration::days(100), now - Duration::days(2)).unwrap();
    write_store_file(&d, "old.crt", old.to_pem().as_bytes());
    assert_fails_naming(&d, "old.crt", "expired on");

    let d = faulty("text");
    write_store_file(&d, "README.txt", b"put certificates here\n");
    assert_fails_naming(&d, "README.txt", "not a certificate");

    let d = faulty("duplicate");
    write_store_file(&d, "copy-of-root.crt", countersign::truststore::ATLASSIAN_CAS[0].1.as_bytes());
    let (_, lint) = check(&d);
    assert!(
        findings(&lint, "warning")
            .iter()
            .any(|w| w.contains("copy-of-root.crt") && w.contains("same certificate")),
        "{lint}"
    );
}

/// A store (made by `faulty`) that others may write to, one owned by the product's user, and
/// one without any certificate.
#[cfg(unix)]
fn each_bad_folder_is_found(faulty: &dyn Fn(&str) -> std::path::PathBuf) {
    let d = faulty("permissions");
    std::fs::set_permissions(d.join("atlassian_mpac_root_ca_v1.crt"), std::fs::Permissions::from_mode(0o666))
        .unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_fails_naming(&d, "root_ca_v1.crt", "writable by group or others");
    assert_fails_naming(&d, "", "the folder is writable");

    let d = faulty("owned");
    let (code, out, _) =
        run(&["truststore", "check", d.to_str().unwrap(), "--product-user", "0", "--json"], &d);
    assert_eq!(code, 1, "owned by the product's user (root here): {out}");
    assert!(out.contains("owned by the user that runs the product"), "{out}");

    let d = faulty("empty");
    for (name, _) in countersign::truststore::ATLASSIAN_CAS {
        std::fs::remove_file(d.join(name)).unwrap();
    }
    assert_fails_naming(&d, "", "holds no certificate");
}

#[cfg(unix)]
#[test]
fn truststore_package_makes_a_store_that_checks_clean_and_keeps_instructions_outside_it() {
    let root = tempdir();
    let d = root.path();
    let key = PrivateKey::generate(countersign::keys::Algorithm::Ed25519).unwrap();
    let now = OffsetDateTime::now_utc();
    let cert = certs::self_signed(
        &key,
        &Subject { common_name: "Vendor".into(), ..Default::default() },
        now,
        now + Duration::days(700),
    )
    .unwrap();
    std::fs::write(d.join("vendor.crt"), cert.to_pem()).unwrap();
    let (code, out, err) =
        run(&["truststore", "package", "--cert", "vendor.crt", "--out", "pkg", "--include-atlassian-cas"], d);
    assert_eq!(code, 0, "{out}{err}");
    let store = d.join("pkg/upmconfig/truststore");
    assert_eq!(
        listing(&store),
        [
            "atlassian_mpac_intermediate_ca_v1.crt",
            "atlassian_mpac_intermediate_ca_v2.crt",
            "atlassian_mpac_root_ca_v1.crt",
            "vendor.crt"
        ]
    );
    assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(std::fs::metadata(store.join("vendor.crt")).unwrap().permissions().mode() & 0o777, 0o644);
    let instructions = std::fs::read_to_string(d.join("pkg/TRUSTSTORE-INSTRUCTIONS.md")).unwrap();
    for must in ["chown -R root:root", "chmod 644", "readOnly: true", "icacls", &cert.fingerprint()] {
        assert!(instructions.contains(must), "instructions lack {must}");
    }
    let (code, lint) = check(&store);
    assert_eq!(code, 0, "{lint}");
    // As a zip, with the same layout; and never over an existing path.
    let (code, _, err) = run(&["truststore", "package", "--cert", "vendor.crt", "--out", "pkg.zip"], d);
    assert_eq!(code, 0, "{err}");
    let zip = zip::ZipArchive::new(std::fs::File::open(d.join("pkg.zip")).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(
        names.contains(&"upmconfig/truststore/vendor.crt".to_owned())
            && names.contains(&"TRUSTSTORE-INSTRUCTIONS.md".to_owned()),
        "{names:?}"
    );
    let (code, _, err) = run(&["truststore", "package", "--cert", "vendor.crt", "--out", "pkg"], d);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
}
