//! Signing flows end to end through the real binary: bundles, zips, OBRs, trust stores,
//! certificate chains from a CA, JSON for pipelines, and what a bundle must never contain.

use std::path::Path;

use crate::common::*;
use base64ct::{Base64, Encoding};
use countersign::bundle::{self, BundleError, CertificateInput, SignRequest};
use countersign::keys::{Algorithm, PrivateKey};
use countersign::progress::Progress;
use countersign::signing::SignError;
use serde_json::Value;
use time::OffsetDateTime;

#[test]
fn sign_json_describes_the_bundle_and_the_manifest_matches_the_files() {
    require!(openssl);
    let f = Fixture::openssl().jar("tools-4.2.0.jar", "com.acme.tools", "4.2.0", 50_000).out_dir("out");
    let d = f.path();
    let out = SignCmd::new(&f).out("out").args(&["--note", "for Globex, ticket SUP-1234", "--json"]).ok();
    let v = json(&out);
    assert_eq!(v["ok"], true);
    let m = &v["manifest"];
    assert_eq!(m["format"], "countersign-signature-bundle");
    assert_eq!(m["artifact"]["plugin_key"], "com.acme.tools");
    assert_eq!(m["artifact"]["version"], "4.2.0");
    assert_eq!(m["artifact"]["name"], "Test App");
    assert_eq!(m["algorithm"], "Ed25519");
    assert_eq!(m["note"], "for Globex, ticket SUP-1234");
    let sha = openssl(&["dgst", "-sha256", "-r", "tools-4.2.0.jar"], d);
    assert!(String::from_utf8_lossy(&sha).starts_with(m["artifact"]["sha256"].as_str().unwrap()));
    let fp = String::from_utf8_lossy(&openssl(
        &["x509", "-in", "vendor.crt", "-noout", "-fingerprint", "-sha256"],
        d,
    ))
    .into_owned();
    assert!(fp.trim().ends_with(m["certificate"]["sha256_fingerprint"].as_str().unwrap()), "{fp}");
    assert_eq!(
        listing(&d.join("out")),
        ["INSTALL.md", "manifest.json", "tools-4.2.0.jar", "tools-4.2.0.jar.sig", "vendor.crt"]
    );
    let on_disk: Value = json(&std::fs::read_to_string(d.join("out/manifest.json")).unwrap());
    assert_eq!(&on_disk, m);
    assert_eq!(
        std::fs::read_to_string(d.join("out/tools-4.2.0.jar.sig")).unwrap(),
        v["signature"].as_str().unwrap()
    );
    let install = std::fs::read_to_string(d.join("out/INSTALL.md")).unwrap();
    for must in [
        "upmconfig/truststore",
        "chmod 644",
        "readOnly: true",
        "icacls",
        "Upload app",
        v["signature"].as_str().unwrap(),
        m["certificate"]["sha256_fingerprint"].as_str().unwrap(),
        "SUP-1234",
    ] {
        assert!(install.contains(must), "INSTALL.md lacks {must:?}");
    }
}

#[test]
fn a_zip_bundle_holds_everything_and_verifies_on_its_own() {
    require!(openssl);
    let f = Fixture::openssl().jar("app-1.0.jar", "com.acme.app", "1.0", 200_000);
    let d = f.path();
    SignCmd::new(&f).arg("--zip").ok();
    let zip_path = d.join("app-1.0-signed.zip");
    let members = zip_members(&zip_path);
    let mut names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["INSTALL.md", "app-1.0.jar", "app-1.0.jar.sig", "manifest.json", "vendor.crt"]);
    // Verified somewhere else entirely, as the customer would.
    let elsewhere = tempdir();
    std::fs::copy(&zip_path, elsewhere.path().join("received.zip")).unwrap();
    let (code, out, err) = run(&["verify", "received.zip"], elsewhere.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[ ok ] Artifact is the one in the manifest"), "{out}");
    // The jar inside is the exact file that was signed.
    let inner = &members.iter().find(|(name, _)| name == "app-1.0.jar").unwrap().1;
    assert_eq!(*inner, std::fs::read(d.join("app-1.0.jar")).unwrap());
}

#[test]
fn verifying_against_a_trust_store_names_the_certificate_that_verified() {
    require!(openssl);
    let f = Fixture::openssl().app(1000);
    let d = f.path();
    SignCmd::new(&f).ok();
    let store = d.join("upmconfig/truststore");
    std::fs::create_dir_all(&store).unwrap();
    for ca in ["atlassian_mpac_root_ca_v1.crt", "atlassian_mpac_intermediate_ca_v2.crt"] {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/atlassian-ca").join(ca);
        std::fs::copy(&fixture, store.join(ca)).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
    }
    // Not trusted yet: the store has only Atlassian's CAs.
    let (code, out, _) = run(&["verify", ".", "--truststore", "upmconfig/truststore"], d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[FAIL] Trust store holds the signing certificate"), "{out}");
    std::fs::copy(d.join("vendor.crt"), store.join("acme.crt")).unwrap();
    let (code, out, _) = run(&["verify", ".", "--truststore", "upmconfig/truststore", "--json"], d);
    assert_eq!(code, 0, "{out}");
    assert!(json(&out)["trusted_by"].as_str().unwrap().ends_with("acme.crt"));
    // With no certificate at all, the trust store's own certificates are tried, as UPM does.
    let (code, out, _) = run(&["verify", "app.jar", "--truststore", "upmconfig/truststore", "--json"], d);
    assert_eq!(code, 0, "{out}");
    assert!(json(&out)["trusted_by"].as_str().unwrap().ends_with("acme.crt"));
}

#[test]
fn a_certificate_issued_by_a_ca_ships_with_its_chain_and_chains_to_the_trust_store() {
    require!(openssl);
    // A company CA (Ed25519), and the vendor's key with a certificate it issued.
    let f = Fixture::folder().openssl_key().app(1000).out_dir("out");
    let d = f.path();
    openssl(
        &["req", "-new", "-key", "key.pem", "-subj", "/CN=Acme App Signing/O=Acme", "-out", "req.csr"],
        d,
    );
    openssl_ca_chain(d, "/CN=Acme Root CA/O=Acme", "req.csr", "leaf.crt", "chain.crt");
    SignCmd::new(&f).cert("chain.crt").out("out").ok();
    std::fs::copy(d.join("app.jar"), d.join("out/app.jar")).unwrap();
    let (code, out, _) = run(&["verify", "out"], d);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("chain of 2 certificates verifies"), "{out}");
    a_trust_store_with_only_the_ca_warns(d);
    // The same bundle once the trust store holds the signing certificate itself: accepted.
    std::fs::copy(d.join("leaf.crt"), d.join("store/acme-signing.crt")).unwrap();
    let (code, out, _) = run(&["verify", "out", "--truststore", "store", "--json"], d);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["verdict"], "accepted", "{out}");
    assert!(
        v["trusted_by"].as_str().unwrap().ends_with("acme-signing.crt"),
        "the signer itself, not its issuer: {out}"
    );
    assert!(v["headline"].as_str().unwrap().starts_with("Accepted: UPM will accept app.jar. Decided by \u{201c}Trust store holds the signing certificate\u{201d}"), "{out}");
    // The leaf alone, without its issuer: its integrity cannot be checked here, and says so.
    let (code, out, _) = run(&["verify", "app.jar", "--sig", "out/app.jar.sig", "--cert", "leaf.crt"], d);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[skip] Certificate is intact"), "{out}");
}

/// The CA-issued bundle in `d/out` against a trust store (`d/store`) with only the CA: the
/// chain it trusts came with the bundle, and UPM's upload carries only the app and its
/// signature, so the verdict warns instead of promising what UPM will do, and says which
/// certificate to add.
fn a_trust_store_with_only_the_ca_warns(d: &Path) {
    std::fs::create_dir(d.join("store")).unwrap();
    std::fs::copy(d.join("ca.crt"), d.join("store/ca.crt")).unwrap();
    let (code, out, _) = run(&["verify", "out", "--truststore", "store"], d);
    assert_eq!(code, 0, "a good signature: {out}");
    let ca_file = Path::new("store").join("ca.crt").display().to_string();
    assert!(
        out.contains(&format!(
            "[warn] Trust store holds the signing certificate: only {ca_file}, which issued"
        )),
        "{out}"
    );
    assert!(out.contains("Fix: Put the signing certificate itself"), "{out}");
    assert!(
        out.contains(
            "is good, but UPM may refuse it until the trust store holds the signing certificate itself"
        ),
        "{out}"
    );
    assert!(!out.contains("UPM will accept"), "{out}");
    let (_, out, _) = run(&["verify", "out", "--truststore", "store", "--json"], d);
    let v = json(&out);
    assert_eq!(v["verdict"], "signature-good", "{out}");
    assert_eq!(v["decided_by"], "trust-store", "{out}");
    assert!(v["trusted_by"].as_str().unwrap().ends_with("ca.crt"));
}

#[test]
fn an_obr_is_identified_by_its_main_jar_and_signs_as_one_file() {
    require!(openssl);
    let f = Fixture::openssl().jar("main.jar", "com.acme.suite", "7.1.0", 500).jar(
        "dep.jar",
        "com.acme.dep",
        "0.1",
        500,
    );
    let d = f.path();
    let main = std::fs::read(d.join("main.jar")).unwrap();
    let dep = std::fs::read(d.join("dep.jar")).unwrap();
    make_zip(
        &d.join("suite-7.1.0.obr"),
        &[("obr.xml", b"<repository/>"), ("dependencies/dep.jar", &dep), ("suite-7.1.0.jar", &main)],
    );
    let (code, out, err) = run(&["inspect", "suite-7.1.0.obr", "--json"], d);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["kind"], "obr");
    assert_eq!(v["plugin_key"], "com.acme.suite");
    assert_eq!(v["main_jar"], "suite-7.1.0.jar");
    SignCmd::new(&f).jar("suite-7.1.0.obr").ok();
    let sig = std::fs::read_to_string(d.join("suite-7.1.0.obr.sig")).unwrap();
    let theirs = openssl(&["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "suite-7.1.0.obr"], d);
    assert_eq!(Base64::decode_vec(&sig).unwrap(), theirs);
}

#[test]
fn a_jar_that_is_not_an_atlassian_app_signs_with_a_warning() {
    let f = Fixture::folder().generated_key();
    let d = f.path();
    make_zip(
        &d.join("lib.jar"),
        &[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), ("a/B.class", b"\xca\xfe\xba\xbe")],
    );
    let (code, _, err) = SignCmd::new(&f).jar("lib.jar").run();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not an Atlassian app"), "{err}");
    assert!(err.contains("No certificate was given"), "{err}");
    let (code, out, _) = run(&["inspect", "lib.jar"], d);
    assert_eq!(code, 0);
    assert!(out.contains("Plugin key:  -"), "{out}");
}

#[test]
fn no_bundle_file_contains_the_private_key_in_any_encoding() {
    require!(openssl);
    let f = Fixture::openssl().app(1000).out_dir("out");
    let d = f.path();
    let (code, out, err) = SignCmd::new(&f).out("out").args(&["--zip", "--json"]).run();
    assert_eq!(code, 0, "{err}");
    let der = openssl(&["pkey", "-in", "key.pem", "-outform", "DER"], d);
    let seed = &der[der.len() - 32..];
    let pem_body: String = std::fs::read_to_string(d.join("key.pem"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let needles: Vec<Vec<u8>> = vec![
        seed.to_vec(),
        countersign::hex::lower(seed).into_bytes(),
        countersign::hex::lower(seed).to_uppercase().into_bytes(),
        Base64::encode_string(seed).trim_end_matches('=').into(),
        pem_body.into_bytes(),
    ];
    let mut haystacks: Vec<(String, Vec<u8>)> = listing(&d.join("out"))
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(d.join("out").join(&n)).unwrap()))
        .collect();
    haystacks.push(("stdout".into(), out.into_bytes()));
    haystacks.push(("stderr".into(), err.into_bytes()));
    for (name, bytes) in zip_members(&d.join("out/app-signed.zip")) {
        haystacks.push((format!("zip!/{name}"), bytes));
    }
    for (name, hay) in &haystacks {
        for needle in &needles {
            assert!(!hay.windows(needle.len()).any(|w| w == &needle[..]), "{name} contains the private key");
        }
    }
}

#[test]
fn a_cancelled_signing_writes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 3 << 20);
    let before = listing(d);
    let req = SignRequest {
        artifact: &d.join("app.jar"),
        key: &key,
        certificate: None::<&CertificateInput>,
        out_dir: None,
        note: None,
        include_artifact: false,
        zip: true,
        overwrite: false,
        now: OffsetDateTime::now_utc(),
    };
    let progress = Progress::new();
    progress.cancel();
    let result = bundle::sign_artifact(&req, &progress);
    assert!(matches!(result, Err(BundleError::Sign(SignError::Cancelled))), "{result:?}");
    assert_eq!(listing(d), before);
}

#[test]
fn a_bundle_folder_without_its_artifact_says_how_to_verify() {
    require!(openssl);
    let f = Fixture::openssl().app(1000).out_dir("out");
    let d = f.path();
    SignCmd::new(&f).out("out").ok();
    // The bundle as a customer may get it: without the app, sent separately.
    std::fs::remove_file(d.join("out/app.jar")).unwrap();
    let (code, _, err) = run(&["verify", "out"], d);
    assert_eq!(code, 2);
    assert!(err.contains("app.jar is not in the folder") && err.contains("--sig"), "{err}");
    let (code, out, _) =
        run(&["verify", "app.jar", "--sig", "out/app.jar.sig", "--cert", "out/vendor.crt"], d);
    assert_eq!(code, 0, "{out}");
}

/// `--out` names the bundle folder: made with its parents if missing, holding the app too,
/// so that `verify` on that folder passes, as it does on what the window writes.
#[test]
fn sign_out_makes_a_missing_folder_that_verify_accepts() {
    require!(openssl);
    let f = Fixture::openssl().app(3000);
    let d = f.path();
    let sign = SignCmd::new(&f).out("dist/1.0/bundle");
    sign.ok();
    let bundle = d.join("dist/1.0/bundle");
    assert_eq!(
        listing(&bundle),
        ["INSTALL.md", "app.jar", "app.jar.sig", "manifest.json", "vendor.crt"],
        "the app travels with its bundle"
    );
    assert_eq!(std::fs::read(bundle.join("app.jar")).unwrap(), std::fs::read(d.join("app.jar")).unwrap());
    let (code, out, _) = run(&["verify", "dist/1.0/bundle"], d);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("is good"), "{out}");
    // The bundle is there now: signing into it again is refused, nothing replaced.
    let (code, _, err) = sign.run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists") && err.contains("--overwrite"), "{err}");
    sign.arg("--overwrite").ok();
}

/// Several apps in one command: each its own bundle folder, signed at once; a bad one fails
/// alone and says why, the good ones are signed, and the exit status is the worst of them.
#[test]
fn several_apps_are_signed_at_once_and_a_bad_one_fails_alone() {
    require!(openssl);
    let mut f = Fixture::openssl();
    for (name, version) in [("a", "1.0"), ("b", "2.0"), ("c", "3.0")] {
        f = f.jar(&format!("{name}.jar"), &format!("com.acme.{name}"), version, 20_000);
    }
    let d = f.path();
    std::fs::write(d.join("broken.jar"), b"this is not a jar\n".repeat(40)).unwrap();
    let sign = SignCmd::new(&f).jar("a.jar").jar("broken.jar").jar("b.jar").jar("c.jar").out("out");
    let (code, out, err) = sign.clone().arg("--json").run();
    assert_eq!(code, 2, "the broken jar is bad input, the worst result: {out}{err}");
    let v = json(&out);
    assert_eq!(v["ok"], false);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "one result per app, in the order given: {out}");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["exit"], 2);
    assert!(results[1]["artifact"].as_str().unwrap().ends_with("broken.jar"));
    assert!(results[1]["error"].as_str().unwrap().contains("not a zip archive"), "{out}");
    for (i, name) in [(0, "a"), (2, "b"), (3, "c")] {
        assert_eq!(results[i]["ok"], true, "{out}");
        each_good_bundle_verifies_with_openssls_signature(d, name, &results[i]);
    }
    assert!(!d.join("out/broken-bundle").exists(), "nothing is left of the failed one");

    // Without --json: one block per app, the failure on stderr naming its file.
    std::fs::remove_dir_all(d.join("out")).unwrap();
    let (code, out, err) = sign.run();
    assert_eq!(code, 2);
    assert!(out.contains("Signed 3 of 4 apps; 1 failed"), "{out}");
    assert!(
        err.lines().any(|l| l.starts_with("countersign: broken.jar: ") && l.contains("not a zip archive")),
        "{err}"
    );
    two_apps_of_one_name_do_not_clash(&f);
}

/// The bundle of `name.jar` that `result` (its part of the JSON) names verifies, and its
/// signature is openssl's own for that jar.
fn each_good_bundle_verifies_with_openssls_signature(d: &Path, name: &str, result: &Value) {
    let bundle = d.join("out").join(format!("{name}-bundle"));
    assert_eq!(d.join(result["bundle_dir"].as_str().unwrap()), bundle);
    let (code, vout, _) = run(&["verify", bundle.to_str().unwrap(), "--json"], d);
    assert_eq!(code, 0, "{vout}");
    let sig = Base64::decode_vec(result["signature"].as_str().unwrap()).unwrap();
    std::fs::write(d.join("sig.bin"), sig).unwrap();
    openssl(&["x509", "-in", "vendor.crt", "-pubkey", "-noout", "-out", "pub.pem"], d);
    assert!(openssl_verifies(d, "pub.pem", &format!("{name}.jar"), "sig.bin"));
}

/// Two apps of one name (`a.jar` and `other/a.jar`) in one output folder: each gets a bundle
/// folder of its own, in the order given.
fn two_apps_of_one_name_do_not_clash(f: &Fixture) {
    let d = f.path();
    std::fs::create_dir(d.join("other")).unwrap();
    make_app_jar(&d.join("other/a.jar"), "com.acme.a2", "1.1", 1000);
    let (code, out, err) = SignCmd::new(f).jar("a.jar").jar("other/a.jar").out("twins").arg("--json").run();
    assert_eq!(code, 0, "{out}{err}");
    let twins = listing(&d.join("twins"));
    assert!(
        twins.contains(&"a-bundle/a.jar".to_owned()) && twins.contains(&"a-bundle-2/a.jar".to_owned()),
        "{twins:?}"
    );
    assert_eq!(
        std::fs::read(d.join("twins/a-bundle-2/a.jar")).unwrap(),
        std::fs::read(d.join("other/a.jar")).unwrap(),
        "in the order given"
    );
}
