//! Keys in a real Secret Service (GNOME Keyring in a D-Bus session, as .ci/run starts it):
//! generate, list, sign, back up and restore, entries changed behind our back, and no
//! private key in any file Countersign writes. Each test uses its own keychain service
//! name and data folder, and removes its entries afterwards.

use std::path::Path;

use crate::common::keychain::Keychain;
use crate::common::*;
use base64ct::{Base64, Encoding};
use countersign::keys::PrivateKey;

fn seed_needles(pem: &str) -> Vec<Vec<u8>> {
    let key = PrivateKey::from_file_bytes(pem.as_bytes(), "secret", || panic!("plain")).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let seed = der[der.len() - 32..].to_vec();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    vec![
        seed.clone(),
        countersign::hex::lower(&seed).into_bytes(),
        countersign::hex::lower(&seed).to_uppercase().into_bytes(),
        Base64::encode_string(&seed).as_bytes()[..40].to_vec(),
        body.into_bytes(),
        der.to_vec(),
    ]
}

fn assert_no_file_contains(root: &Path, needles: &[Vec<u8>]) -> usize {
    let files = listing(root);
    for f in &files {
        let bytes = std::fs::read(root.join(f)).unwrap();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == &n[..]),
                "{f} under {} contains the private key",
                root.display()
            );
        }
    }
    files.len()
}

#[test]
fn generate_list_sign_and_check_with_openssl() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    let list: serde_json::Value = serde_json::from_str(&k.ok(&["keys", "list", "--json"])).unwrap();
    let key = &list["keys"][0];
    assert_eq!(key["name"], "acme");
    assert_eq!(key["algorithm"], "Ed25519");
    assert_eq!(key["keychain"], "ok");
    assert_eq!(key["last_used"], serde_json::Value::Null);

    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 5000);
    k.ok(&["sign", "app.jar", "--key", "acme"]);
    k.ok(&["keys", "export-public", "acme", "--out", "acme.pub"]);
    let list: serde_json::Value = serde_json::from_str(&k.ok(&["keys", "list", "--json"])).unwrap();
    assert!(list["keys"][0]["last_used"].is_string(), "signing records the last use");
    if openssl_available() {
        let sig =
            Base64::decode_vec(&std::fs::read_to_string(k.path().join("app.jar.sig")).unwrap()).unwrap();
        std::fs::write(k.path().join("sig.bin"), sig).unwrap();
        assert!(openssl_verifies(k.path(), "acme.pub", "app.jar", "sig.bin"));
    }
}

#[test]
fn the_secret_lives_in_the_secret_service_and_in_no_file() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    let id = k.id_of("acme");
    let secret = k.lookup(&id).expect("secret-tool finds the key in the Secret Service");
    assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----"), "the keychain holds PKCS#8");
    let from_keychain = PrivateKey::from_file_bytes(secret.as_bytes(), "secret", || panic!("plain")).unwrap();
    let pub_pem = k.ok(&["keys", "export-public", "acme"]);
    assert_eq!(pub_pem, from_keychain.public_key().to_spki_pem());

    // Every flow that writes files, then a scan of all of them.
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 500);
    std::fs::create_dir(k.path().join("out")).unwrap();
    k.ok(&["sign", "app.jar", "--key", "acme", "--out", "out", "--zip", "--note", "scan"]);
    k.ok(&["keys", "rename", "acme", "acme-2026"]);
    let mut backup = k.cmd(&k.home(), &k.service, &["keys", "backup", "acme-2026", "--out", "backup.pem"]);
    assert!(backup.env("COUNTERSIGN_PASSPHRASE", "a long passphrase").output().unwrap().status.success());
    k.ok(&["keys", "list"]);
    let needles = seed_needles(&secret);
    let scanned = assert_no_file_contains(&k.home(), &needles)
        + assert_no_file_contains(&k.path().join("out"), &needles);
    assert!(scanned >= 6, "index, lock file and the bundle were scanned ({scanned} files)");
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(k.path().join("out/app-signed.zip")).unwrap()).unwrap();
    for i in 0..zip.len() {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_index(i).unwrap(), &mut bytes).unwrap();
        for n in &needles {
            assert!(!bytes.windows(n.len()).any(|w| w == &n[..]));
        }
    }
    // The backup is encrypted: the plain key appears nowhere in it either.
    let backup_bytes = std::fs::read(k.path().join("backup.pem")).unwrap();
    assert!(backup_bytes.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    for n in &needles {
        assert!(!backup_bytes.windows(n.len()).any(|w| w == &n[..]));
    }
}

#[test]
fn a_backup_restored_into_a_fresh_home_signs_byte_identically_and_openssl_needs_the_passphrase() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 2000);
    std::fs::create_dir(k.path().join("a")).unwrap();
    k.ok(&["sign", "app.jar", "--key", "acme", "--out", "a"]);
    let out = k
        .cmd(&k.home(), &k.service, &["keys", "backup", "acme", "--out", "acme.bak"])
        .env("COUNTERSIGN_PASSPHRASE", "correct horse battery")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    if openssl_available() {
        assert!(openssl_ok(
            &["pkey", "-in", "acme.bak", "-passin", "pass:correct horse battery", "-noout"],
            k.path()
        ));
        assert!(!openssl_ok(&["pkey", "-in", "acme.bak", "-passin", "pass:", "-noout"], k.path()));
        assert!(!openssl_ok(
            &["pkey", "-in", "acme.bak", "-passin", "pass:wrong horse battery", "-noout"],
            k.path()
        ));
    }

    // A fresh home and keychain namespace, as on a new laptop.
    let fresh_home = k.path().join("fresh-home");
    let fresh_service = format!("{}-fresh", k.service);
    let restore = k
        .cmd(&fresh_home, &fresh_service, &["keys", "restore", "acme.bak", "--name", "acme"])
        .env("COUNTERSIGN_PASSPHRASE", "correct horse battery")
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    std::fs::create_dir(k.path().join("b")).unwrap();
    let sign = k
        .cmd(&fresh_home, &fresh_service, &["sign", "app.jar", "--key", "acme", "--out", "b"])
        .output()
        .unwrap();
    crate::common::keychain::clear_service(
        &fresh_service,
        &crate::common::keychain::listed_ids(&fresh_home.join("keys.json")),
    );
    assert!(sign.status.success(), "{}", String::from_utf8_lossy(&sign.stderr));
    assert_eq!(
        std::fs::read(k.path().join("a/app.jar.sig")).unwrap(),
        std::fs::read(k.path().join("b/app.jar.sig")).unwrap()
    );

    // A wrong passphrase restores nothing.
    let wrong = k
        .cmd(&fresh_home, &fresh_service, &["keys", "restore", "acme.bak", "--name", "again"])
        .env("COUNTERSIGN_PASSPHRASE", "nope nope nope")
        .output()
        .unwrap();
    let (code, _, err) = decode(wrong);
    assert_eq!(code, 2);
    assert!(err.contains("passphrase") && err.contains("wrong"), "{err}");
}

#[test]
fn openssl_made_keys_import_and_other_algorithms_are_refused_by_name() {
    let Some(k) = Keychain::new() else { return };
    require!(openssl);
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"], k.path());
    openssl(
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem"],
        k.path(),
    );
    k.ok(&["keys", "import", "ed.pem", "--name", "ed"]);
    k.ok(&["keys", "import", "p384.pem", "--name", "nist"]);
    let list: serde_json::Value = serde_json::from_str(&k.ok(&["keys", "list", "--json"])).unwrap();
    let algs: Vec<&str> =
        list["keys"].as_array().unwrap().iter().map(|k| k["algorithm"].as_str().unwrap()).collect();
    assert_eq!(algs, ["Ed25519", "ECDSA-P384-SHA384"]);
    let ours = k.ok(&["keys", "export-public", "ed"]);
    let theirs = String::from_utf8(openssl(&["pkey", "-in", "ed.pem", "-pubout"], k.path())).unwrap();
    assert_eq!(ours, theirs);
    for (args, file, label) in UNSUPPORTED_OPENSSL_KEYS {
        openssl(args, k.path());
        let (code, _, err) = k.run(&["keys", "import", file, "--name", label]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(label) && err.contains("Ed25519"), "{err}");
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&k.ok(&["keys", "list", "--json"])).unwrap()["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn entries_removed_behind_our_back_are_reported_per_key_and_nothing_else_breaks() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "gone"]);
    k.ok(&["keys", "generate", "--name", "kept"]);
    let gone_id = k.id_of("gone");
    k.remove_entry(&gone_id);
    let (code, out, err) = k.run(&["keys", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["keys"][0]["keychain"], "missing from the keychain");
    assert_eq!(list["keys"][1]["keychain"], "ok");
    assert!(err.contains("key \"gone\"") && !err.contains("key \"kept\""), "{err}");
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 100);
    let (code, _, err) = k.run(&["sign", "app.jar", "--key", "gone"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing from the keychain") && err.contains("restore"), "{err}");
    k.ok(&["sign", "app.jar", "--key", "kept"]);

    // An index restored from an older copy: the newer key's entry is reported, and kept.
    let old_index = std::fs::read(k.home().join("keys.json")).unwrap();
    k.ok(&["keys", "generate", "--name", "newer"]);
    let newer_id = k.id_of("newer");
    std::fs::write(k.home().join("keys.json"), old_index).unwrap();
    let (code, out, err) = k.run(&["keys", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["unlisted_keychain_entries"], serde_json::json!([newer_id]));
    assert!(k.lookup(&newer_id).is_some(), "an unlisted entry is left in place");
    assert!(err.contains("keys adopt"), "the warning says how to get it back: {err}");

    // Adopting it lists the key again, under a new name, and it signs.
    let (code, _, err) = k.run(&["keys", "adopt", "0123456789abcdef", "--name", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("no Countersign entry 0123456789abcdef"), "{err}");
    let kept_id = k.id_of("kept");
    let (code, _, err) = k.run(&["keys", "adopt", &kept_id, "--name", "kept-twice"]);
    assert_eq!(code, 2);
    assert!(err.contains("already the key \"kept\""), "{err}");
    let out = k.ok(&["keys", "adopt", &newer_id, "--name", "newer-again"]);
    assert!(out.contains("\"newer-again\""), "{out}");
    assert_eq!(k.id_of("newer-again"), newer_id);
    let (_, out, err) = k.run(&["keys", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["unlisted_keychain_entries"], serde_json::json!([]), "{err}");
    k.ok(&["sign", "app.jar", "--key", "newer-again", "--overwrite"]);
}

#[test]
fn delete_asks_unless_told_and_removes_the_keychain_entry() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    let id = k.id_of("acme");
    let (code, _, err) = k.run(&["keys", "delete", "acme"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs confirmation") && err.contains("--yes"), "{err}");
    assert!(k.lookup(&id).is_some());
    k.ok(&["keys", "delete", "acme", "--yes"]);
    assert!(k.lookup(&id).is_none(), "the keychain entry is gone");
    let (code, _, err) = k.run(&["keys", "delete", "acme", "--yes"]);
    assert_eq!(code, 2);
    assert!(err.contains("no key named"), "{err}");
}

/// Linux only: elsewhere the keychain is part of the system and always there.
#[cfg(target_os = "linux")]
#[test]
fn without_a_secret_service_keychain_commands_explain_and_write_no_key() {
    let dir = tempdir();
    for (label, env) in [("no session", None), ("dead session bus", Some("unix:path=/nonexistent/bus"))] {
        let mut c = bin();
        c.args(["keys", "generate", "--name", "acme"])
            .current_dir(dir.path())
            .env("COUNTERSIGN_HOME", dir.path().join("home"));
        c.env("XDG_RUNTIME_DIR", dir.path().join("no-runtime"));
        match env {
            None => c.env_remove("DBUS_SESSION_BUS_ADDRESS"),
            Some(addr) => c.env("DBUS_SESSION_BUS_ADDRESS", addr),
        };
        let (code, _, err) = decode(c.output().unwrap());
        assert_eq!(code, 2, "{label}: {err}");
        assert!(err.contains("The system keychain is not available"), "{label}: {err}");
        assert!(
            err.contains("--key-file") && err.contains("COUNTERSIGN_PASSPHRASE"),
            "{label}: says what a pipeline does instead: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            !dir.path().join("home/keys.json").exists(),
            "{label}: no index entry for a key that has no secret"
        );
    }
}

const BACKUP_PASS: &str = "correct horse battery";

/// Runs a command that may ask for a passphrase, with COUNTERSIGN_PASSPHRASE set.
fn with_passphrase(k: &Keychain, home: &Path, service: &str, args: &[&str]) -> (i32, String, String) {
    decode(k.cmd(home, service, args).env("COUNTERSIGN_PASSPHRASE", BACKUP_PASS).output().unwrap())
}

/// A refused restore or import changed nothing: the index holds the same bytes as before
/// (`index`), it lists `keys` keys, and no keychain entry was added beside them.
fn assert_nothing_added(k: &Keychain, index: &[u8], keys: usize) {
    assert_eq!(std::fs::read(k.home().join("keys.json")).unwrap(), index, "the index is untouched");
    let list = keys_json(k, &k.home(), &k.service);
    assert_eq!(list["keys"].as_array().unwrap().len(), keys);
    assert_eq!(list["unlisted_keychain_entries"], serde_json::json!([]), "no keychain entry was added");
}

fn keys_json(k: &Keychain, home: &Path, service: &str) -> serde_json::Value {
    let (code, out, err) = decode(k.cmd(home, service, &["keys", "list", "--json"]).output().unwrap());
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_backup_carries_the_certificate_chain_openssl_reads_it_and_a_restore_keeps_it() {
    let Some(k) = Keychain::new() else { return };
    let d = k.path();
    k.ok(&["keys", "generate", "--name", "acme"]);
    let list = keys_json(&k, &k.home(), &k.service);
    assert_eq!(list["keys"][0]["last_backed_up"], serde_json::Value::Null);
    assert!(k.ok(&["keys", "list"]).contains("  backed up    never\n"));
    k.ok(&["cert", "self-sign", "acme", "--org", "Acme Ltd", "--out", "acme.crt"]);
    let cert = std::fs::read_to_string(d.join("acme.crt")).unwrap();

    let (code, out, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "backup", "acme", "--out", "acme.bak"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("with its current certificate chain (1 certificate)"), "{out}");
    let backup = std::fs::read_to_string(d.join("acme.bak")).unwrap();
    assert!(backup.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{backup}");
    assert!(backup.ends_with(&cert), "the certificate follows the key, as `cert self-sign` wrote it");

    // `keys list` says when, in both forms.
    let list = keys_json(&k, &k.home(), &k.service);
    let when = list["keys"][0]["last_backed_up"].as_str().expect("the backup's date is listed").to_owned();
    let parsed = time::OffsetDateTime::parse(&when, &time::format_description::well_known::Rfc3339).unwrap();
    assert!((time::OffsetDateTime::now_utc() - parsed).whole_seconds().abs() < 300, "{when}");
    assert!(k.ok(&["keys", "list"]).contains(&format!("  backed up    {when}\n")));

    if openssl_available() {
        let pass = format!("pass:{BACKUP_PASS}");
        let public = openssl(&["pkey", "-in", "acme.bak", "-passin", &pass, "-pubout"], d);
        assert_eq!(String::from_utf8(public).unwrap(), k.ok(&["keys", "export-public", "acme"]));
        assert!(!openssl_ok(
            &["pkey", "-in", "acme.bak", "-passin", "pass:wrong horse battery", "-noout"],
            d
        ));
        let from_backup = openssl(&["x509", "-in", "acme.bak"], d);
        assert_eq!(
            String::from_utf8(from_backup).unwrap(),
            cert,
            "openssl finds the certificate after the key"
        );
    }

    // Restored on a new laptop: the key and its certificate, ready to sign.
    let fresh_home = d.join("fresh-home");
    let fresh_service = format!("{}-fresh", k.service);
    let restored =
        with_passphrase(&k, &fresh_home, &fresh_service, &["keys", "restore", "acme.bak", "--name", "acme"]);
    let shown =
        decode(k.cmd(&fresh_home, &fresh_service, &["cert", "show", "acme", "--pem"]).output().unwrap());
    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 1000);
    let signed = decode(
        k.cmd(&fresh_home, &fresh_service, &["sign", "app.jar", "--key", "acme", "--out", "b"])
            .output()
            .unwrap(),
    );
    let fresh_list = keys_json(&k, &fresh_home, &fresh_service);
    crate::common::keychain::clear_service(
        &fresh_service,
        &crate::common::keychain::listed_ids(&fresh_home.join("keys.json")),
    );
    assert_eq!(restored.0, 0, "{}", restored.2);
    assert!(restored.1.contains("Kept the certificate from the file with the key: valid"), "{}", restored.1);
    assert_eq!(shown.1, cert, "{}", shown.2);
    assert_eq!(signed.0, 0, "{}", signed.2);
    assert_eq!(std::fs::read_to_string(d.join("b/acme.crt")).unwrap(), cert);
    assert_eq!(
        fresh_list["keys"][0]["last_backed_up"],
        serde_json::Value::Null,
        "this copy was never backed up"
    );
}

#[test]
fn a_key_stored_already_is_refused_on_restore_and_import_and_nothing_is_added() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    let (code, _, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "backup", "acme", "--out", "acme.bak"]);
    assert_eq!(code, 0, "{err}");
    let index = std::fs::read(k.home().join("keys.json")).unwrap();
    for name in ["acme", "acme-again"] {
        let (code, out, err) =
            with_passphrase(&k, &k.home(), &k.service, &["keys", "restore", "acme.bak", "--name", name]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains("This key is already stored as \"acme\"; nothing was imported.")
                && err.contains("`countersign keys delete acme`"),
            "{err}"
        );
    }
    assert_nothing_added(&k, &index, 1);

    if openssl_available() {
        let key = openssl_ed25519_key(k.path(), "ed.pem");
        let key = key.to_str().unwrap();
        k.ok(&["keys", "import", key, "--name", "ed"]);
        let (code, _, err) = k.run(&["keys", "import", key, "--name", "ed-twice"]);
        assert_eq!(code, 2);
        assert!(err.contains("already stored as \"ed\""), "{err}");
        let list = keys_json(&k, &k.home(), &k.service);
        assert_eq!(list["keys"].as_array().unwrap().len(), 2);
        assert_eq!(list["unlisted_keychain_entries"], serde_json::json!([]));
    }

    // Once the stored key is deleted, the backup restores again.
    k.ok(&["keys", "delete", "acme", "--yes"]);
    let (code, _, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "restore", "acme.bak", "--name", "acme"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_backup_with_a_certificate_for_another_key_restores_nothing() {
    let Some(k) = Keychain::new() else { return };
    let d = k.path();
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["keys", "generate", "--name", "other"]);
    k.ok(&["cert", "self-sign", "other", "--out", "other.crt"]);
    let (code, _, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "backup", "acme", "--out", "acme.bak"]);
    assert_eq!(code, 0, "{err}");
    let tampered =
        [std::fs::read(d.join("acme.bak")).unwrap(), std::fs::read(d.join("other.crt")).unwrap()].concat();
    std::fs::write(d.join("tampered.bak"), tampered).unwrap();
    k.ok(&["keys", "delete", "acme", "--yes"]);
    let index = std::fs::read(k.home().join("keys.json")).unwrap();

    let (code, out, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "restore", "tampered.bak", "--name", "acme"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("tampered.bak holds a certificate for another key")
            && err.contains("nothing was imported"),
        "{err}"
    );
    assert_nothing_added(&k, &index, 1);
    // The untouched backup restores.
    let (code, _, err) =
        with_passphrase(&k, &k.home(), &k.service, &["keys", "restore", "acme.bak", "--name", "acme"]);
    assert_eq!(code, 0, "{err}");
}
