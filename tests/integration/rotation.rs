//! A key replaced, through the real binary and the real keychain (issue 15): `keys replace`
//! planned and compromised, signing refused with a compromised key unless `--i-know` (which
//! the history records), a retired key's warning, `history --key` by key and by day, and bad
//! input that changes nothing.

use std::path::Path;

use crate::common::keychain::{Keychain, listed_ids};
use crate::common::*;
use serde_json::Value;

fn today() -> String {
    countersign::certs::day(time::OffsetDateTime::now_utc())
}

/// A key `acme` with a self-signed certificate, and `app.jar` to sign.
fn acme_with_certificate(k: &Keychain) {
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["cert", "self-sign", "acme", "--cn", "Acme App Signing", "--org", "Acme Ltd", "--days", "365"]);
    make_app_jar(&k.path().join("app.jar"), "com.acme.app", "1.0", 2_000);
}

fn key<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["keys"].as_array().unwrap().iter().find(|k| k["name"] == name).unwrap_or_else(|| panic!("{list}"))
}

fn history(k: &Keychain) -> Vec<Value> {
    json(&k.ok(&["history", "--json"]))["entries"].as_array().unwrap().clone()
}

#[test]
fn a_planned_replacement_retires_the_old_key_which_signs_with_a_warning() {
    let Some(k) = Keychain::new() else { return };
    acme_with_certificate(&k);
    let out = k.ok(&["keys", "replace", "acme", "--name", "acme-2"]);
    assert!(out.contains("Made Ed25519 key \"acme-2\" in the keychain"), "{out}");
    assert!(out.contains("Key \"acme\" is retired"), "{out}");
    assert!(out.contains("countersign history --key acme"), "{out}");

    let list = json(&k.ok(&["keys", "list", "--json"]));
    let (old, new) = (key(&list, "acme"), key(&list, "acme-2"));
    assert_eq!(old["status"]["state"], "retired", "{list}");
    assert_eq!(old["status"]["replaced_by"], "acme-2");
    assert!(old["status"]["since"].as_str().unwrap().starts_with(&today()), "{list}");
    assert_eq!(new["status"]["state"], "active");
    assert_eq!(new["algorithm"], "Ed25519");
    assert_eq!(new["keychain"], "ok");
    assert_ne!(new["fingerprint"], old["fingerprint"]);
    assert!(k.lookup(&k.id_of("acme-2")).is_some(), "the new key is in the Secret Service");
    let text = k.ok(&["keys", "list"]);
    assert!(text.contains(&format!("retired on {}, replaced by \"acme-2\"", today())), "{text}");

    // The new certificate has the old one's subject, for the default two years.
    let show = |name: &str| json(&k.ok(&["cert", "show", name, "--json"]))["certificates"][0].clone();
    let (old_cert, new_cert) = (show("acme"), show("acme-2"));
    assert_eq!(new_cert["subject"], old_cert["subject"], "{new_cert}");
    assert!(new_cert["subject"].as_str().unwrap().contains("Acme Ltd"), "{new_cert}");
    let pem = k.ok(&["cert", "show", "acme-2", "--pem"]);
    let cert = countersign::certs::Certificate::all_from_file_bytes(pem.as_bytes(), "acme-2").unwrap();
    let days = (cert[0].not_after() - time::OffsetDateTime::now_utc()).whole_days();
    assert!((729..=730).contains(&days), "{days} days");

    // The retired key still signs, warning why; the new one signs without.
    let (code, out, err) = k.run(&["sign", "app.jar", "--key", "acme", "--out", "old"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(&format!("warning: Key \"acme\" was retired on {} and replaced by \"acme-2\"", today())),
        "{err}"
    );
    let (code, out, err) = k.run(&["sign", "app.jar", "--key", "acme-2", "--out", "new"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("retired"), "{err}");
    let entries = history(&k);
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["override_compromised"] == false));
}

#[test]
fn a_compromised_key_is_refused_by_sign_unless_i_know_which_the_history_records() {
    let Some(k) = Keychain::new() else { return };
    acme_with_certificate(&k);
    let out = k.ok(&["keys", "replace", "acme", "--name", "acme-2", "--reason", "compromised"]);
    assert!(out.contains("Key \"acme\" is marked compromised"), "{out}");
    let list = json(&k.ok(&["keys", "list", "--json"]));
    assert_eq!(key(&list, "acme")["status"]["state"], "compromised");
    assert_eq!(key(&list, "acme")["status"]["replaced_by"], "acme-2");

    let refusal = format!(
        "countersign: Key \"acme\" was marked compromised on {} and replaced by \"acme-2\": Countersign does not sign with it. Sign with \"acme-2\", or delete \"acme\".",
        today()
    );
    for args in [
        &["sign", "app.jar", "--key", "acme"][..],
        &["sign", "app.jar", "--key", "acme", "--out", "out", "--zip"],
        &["sign", "app.jar", "app.jar", "--key", "acme"],
    ] {
        let (code, out, err) = k.run(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with(&refusal), "{err}");
        assert!(err.contains("`countersign keys delete acme`") && err.contains("--i-know"), "{err}");
    }
    let (code, out, _) = k.run(&["sign", "app.jar", "--key", "acme", "--json"]);
    assert_eq!(code, 2);
    assert_eq!(json(&out)["ok"], false);
    assert!(!k.path().join("app.jar.sig").exists() && !k.path().join("out").exists(), "nothing written");
    assert!(history(&k).is_empty(), "nothing recorded");
    // --i-know goes with a stored key only.
    // Any key file will do (made here, not by openssl: this test needs no verifier).
    let file_key = countersign::keys::PrivateKey::generate(countersign::keys::Algorithm::Ed25519).unwrap();
    std::fs::write(
        k.path().join("file.pem"),
        countersign::pem::encode("PRIVATE KEY", &file_key.to_pkcs8_der().unwrap()),
    )
    .unwrap();
    let (code, _, err) = k.run(&["sign", "app.jar", "--key-file", "file.pem", "--i-know"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it goes with --key NAME, not with a key file"), "{err}");
    assert!(!k.path().join("app.jar.sig").exists());

    // Forced: it signs, warns, and the history (and its CSV) say so.
    let (code, out, err) =
        k.run(&["sign", "app.jar", "--key", "acme", "--i-know", "--out", "forced", "--note", "Globex"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("it signed anyway, as asked, and the history records that"), "{err}");
    assert!(k.path().join("forced/app.jar.sig").is_file());
    k.ok(&["sign", "app.jar", "--key", "acme-2", "--out", "new", "--note", "Globex"]);
    let entries = history(&k);
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (&entries[1]["key_name"], &entries[1]["override_compromised"]),
        (&"acme".into(), &true.into())
    );
    assert_eq!(
        (&entries[0]["key_name"], &entries[0]["override_compromised"]),
        (&"acme-2".into(), &false.into())
    );
    let listed = k.ok(&["history", "--key", "acme"]);
    assert!(listed.contains("signed after the key was marked compromised (forced)"), "{listed}");
    k.ok(&["history", "--csv", "all.csv"]);
    let csv = std::fs::read_to_string(k.path().join("all.csv")).unwrap();
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert!(rows[0].ends_with(",override_compromised"), "{csv}");
    assert!(rows[1].ends_with(",false") && rows[2].ends_with(",true"), "newest first: {csv}");

    // Once deleted, the name can be used again and nothing refuses it.
    k.ok(&["keys", "delete", "acme", "--yes"]);
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["sign", "app.jar", "--key", "acme", "--out", "fresh"]);
}

/// Runs `countersign` with the key file's passphrase in the environment.
fn run_with_passphrase(k: &Keychain, args: &[&str]) -> (i32, String, String) {
    decode(
        k.cmd(&k.home(), &k.service, args)
            .env("COUNTERSIGN_PASSPHRASE", "a long passphrase")
            .output()
            .unwrap(),
    )
}

#[test]
fn a_key_file_of_a_compromised_key_is_refused_and_of_a_retired_one_warns() {
    let Some(k) = Keychain::new() else { return };
    acme_with_certificate(&k);
    std::fs::write(k.path().join("acme.crt"), k.ok(&["cert", "show", "acme", "--pem"])).unwrap();
    let (code, out, err) = run_with_passphrase(&k, &["keys", "backup", "acme", "--out", "acme-backup.pem"]);
    assert_eq!(code, 0, "{out}{err}");
    k.ok(&["keys", "replace", "acme", "--name", "acme-2", "--reason", "compromised"]);

    // The backup holds the same key: refused as the stored key is, with nothing written.
    let (code, out, err) = run_with_passphrase(
        &k,
        &["sign", "app.jar", "--key-file", "acme-backup.pem", "--cert", "acme.crt", "--out", "leaked"],
    );
    assert_eq!(code, 2, "{out}{err}");
    let refusal = format!(
        "countersign: This key file holds key \"acme\", which was marked compromised on {} and replaced by \"acme-2\"",
        today()
    );
    assert!(err.starts_with(&refusal), "{err}");
    assert!(err.contains("--key acme-2 signs with the new key"), "{err}");
    assert!(!k.path().join("leaked").exists(), "nothing written");
    assert!(history(&k).is_empty(), "nothing recorded");

    // Another key's file signs as before; a retired key's file warns and signs.
    k.ok(&["keys", "generate", "--name", "beta"]);
    k.ok(&["cert", "self-sign", "beta", "--cn", "Beta"]);
    std::fs::write(k.path().join("beta.crt"), k.ok(&["cert", "show", "beta", "--pem"])).unwrap();
    let (code, out, err) = run_with_passphrase(&k, &["keys", "backup", "beta", "--out", "beta-backup.pem"]);
    assert_eq!(code, 0, "{out}{err}");
    let sign_beta = |out: &str| {
        run_with_passphrase(
            &k,
            &["sign", "app.jar", "--key-file", "beta-backup.pem", "--cert", "beta.crt", "--out", out],
        )
    };
    let (code, out, err) = sign_beta("beta-active");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "{err}");
    k.ok(&["keys", "replace", "beta", "--name", "beta-2"]);
    let (code, out, err) = sign_beta("beta-retired");
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("warning: Key \"beta\" was retired on"), "{err}");
    assert!(k.path().join("beta-retired/app.jar.sig").is_file());
}

#[test]
fn bad_replacements_say_why_in_one_sentence_and_change_nothing() {
    let Some(k) = Keychain::new() else { return };
    acme_with_certificate(&k);
    k.ok(&["keys", "generate", "--name", "bare"]);
    k.ok(&["keys", "generate", "--name", "taken"]);
    let index = k.home().join("keys.json");
    let snapshot = |k: &Keychain| {
        let ids = listed_ids(&index);
        let secrets: Vec<bool> = ids.iter().map(|id| k.lookup(id).is_some()).collect();
        (std::fs::read(&index).unwrap(), ids, secrets)
    };
    let before = snapshot(&k);
    let cases: [(&[&str], &str); 5] = [
        (
            &["keys", "replace", "nobody", "--name", "new"],
            "There is no key named \"nobody\". `countersign keys list` shows the keys there are.",
        ),
        (
            &["keys", "replace", "acme", "--name", "Taken", "--reason", "compromised"],
            "A key named \"Taken\" exists already.",
        ),
        (&["keys", "replace", "acme", "--name", " x"], "\" x\" cannot be a key name"),
        (
            &["keys", "replace", "bare", "--name", "bare-2"],
            "Key \"bare\" has no certificate, so there is no subject to give its replacement; nothing was changed.",
        ),
        (&["keys", "replace", "acme", "--name", "n", "--reason", "lost"], "invalid value 'lost'"),
    ];
    for (args, says) in cases {
        let (code, out, err) = k.run(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(snapshot(&k), before, "{args:?} changed the key store");
    }
    let (_, _, err) = k.run(&["keys", "replace", "bare", "--name", "bare-2"]);
    assert!(err.contains("`countersign cert self-sign bare` makes one"), "{err}");

    // Already compromised (or retired): said, and nothing else changes.
    k.ok(&["keys", "replace", "acme", "--name", "acme-2", "--reason", "compromised"]);
    let before = snapshot(&k);
    for reason in ["planned", "compromised"] {
        let (code, out, err) = k.run(&["keys", "replace", "acme", "--name", "acme-3", "--reason", reason]);
        assert_eq!(code, 2, "{out}{err}");
        assert_eq!(
            err.trim_end(),
            format!(
                "countersign: Key \"acme\" was already marked compromised on {} and replaced by \"acme-2\"; nothing was changed. Replace \"acme-2\" instead, if it is the one to replace now.",
                today()
            )
        );
        assert_eq!(snapshot(&k), before);
    }
    let (code, out, _) = k.run(&["keys", "replace", "acme", "--name", "acme-3", "--json"]);
    assert_eq!(code, 2);
    assert_eq!(json(&out)["ok"], false);
}

/// Rewrites the recorded time of every history entry whose file is `file`.
fn backdate(home: &Path, file: &str, time: &str) {
    let path = home.join("history.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if v["file"] == file {
                v["time"] = time.into();
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn history_by_key_finds_a_renamed_key_groups_by_note_and_filters_by_day() {
    let Some(k) = Keychain::new() else { return };
    acme_with_certificate(&k);
    k.ok(&["keys", "generate", "--name", "other"]);
    for (jar, version) in [("tools-1.0.jar", "1.0"), ("tools-2.0.jar", "2.0"), ("reports-3.0.jar", "3.0")] {
        make_app_jar(&k.path().join(jar), "com.acme.tools", version, 1_000);
    }
    let sign = |jar: &str, key: &str, out: &str, note: &str| {
        k.ok(&["sign", jar, "--key", key, "--out", out, "--note", note]);
    };
    sign("tools-1.0.jar", "acme", "globex-1", "Globex, SUP-1");
    sign("tools-2.0.jar", "acme", "initech", "Initech");
    sign("reports-3.0.jar", "acme", "globex-2", "Globex, SUP-1");
    sign("tools-2.0.jar", "other", "other", "Globex, SUP-1");
    backdate(&k.home(), "tools-1.0.jar", "2020-05-01T09:00:00Z");
    // Renamed after it signed: found by its public key under either name.
    k.ok(&["keys", "rename", "acme", "acme-old"]);
    let fingerprint = key(&json(&k.ok(&["keys", "list", "--json"])), "acme-old")["fingerprint"].clone();
    found_by_either_name_and_grouped_by_note(&k, &fingerprint);
    listed_by_key_as_text(&k);
    filtered_by_day(&k);
    bad_history_input_is_refused(&k);
}

/// `history --key` by the new name, the old one and the fingerprint: the same three
/// signings, grouped by note.
fn found_by_either_name_and_grouped_by_note(k: &Keychain, fingerprint: &Value) {
    for name in ["acme-old", "acme", fingerprint.as_str().unwrap()] {
        let v = json(&k.ok(&["history", "--key", name, "--json"]));
        assert_eq!(v["total"], 3, "{name}: {v}");
        assert_eq!(v["fingerprints"], serde_json::json!([fingerprint]), "{name}: {v}");
        let groups = v["groups"].as_array().unwrap();
        let summary: Vec<(String, Vec<String>)> = groups
            .iter()
            .map(|g| {
                let files = g["entries"].as_array().unwrap().iter();
                (
                    g["note"].as_str().unwrap().to_owned(),
                    files.map(|e| e["file"].as_str().unwrap().to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Globex, SUP-1".to_owned(), vec!["reports-3.0.jar".to_owned(), "tools-1.0.jar".to_owned()]),
                ("Initech".to_owned(), vec!["tools-2.0.jar".to_owned()]),
            ],
            "{name}"
        );
    }
}

/// `history --key` for people: the counts, each group, each signing's whole SHA-256 and bundle.
fn listed_by_key_as_text(k: &Keychain) {
    let text = k.ok(&["history", "--key", "acme-old"]);
    for must in [
        "3 signings with key \"acme-old\"",
        "for 2 different notes",
        "Globex, SUP-1: 2 signings",
        "Initech: 1 signing",
        "2020-05-01T09:00:00Z  tools-1.0.jar  Test App (com.acme.tools) 1.0",
        "bundle: ",
    ] {
        assert!(text.contains(must), "{must:?} missing: {text}");
    }
    let sha = json(&k.ok(&["history", "--key", "acme-old", "--json"]))["groups"][0]["entries"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains(&format!("sha256 {sha}")), "the whole SHA-256: {text}");
    let bundle = std::path::absolute(k.path().join("initech")).unwrap();
    assert!(text.contains(&format!("bundle: {}", bundle.display())), "{text}");
}

/// `history --key --since`: the backdated signing drops out, the day itself counts; and the
/// filtered list as CSV.
fn filtered_by_day(k: &Keychain) {
    // By day: the backdated signing drops out; the day itself counts.
    let v = json(&k.ok(&["history", "--key", "acme-old", "--since", "2021-01-01", "--json"]));
    assert_eq!(v["total"], 2, "{v}");
    let v = json(&k.ok(&["history", "--key", "acme-old", "--since", &today(), "--json"]));
    assert_eq!(v["total"], 2, "{v}");
    let v = json(&k.ok(&["history", "--key", "acme-old", "--since", "2099-01-01", "--json"]));
    assert_eq!(v["total"], 0, "{v}");
    let none = k.ok(&["history", "--key", "acme-old", "--since", "2099-01-01"]);
    assert!(none.contains("No signing with key \"acme-old\""), "{none}");
    let v = json(&k.ok(&["history", "--since", "2021-01-01", "--json"]));
    assert_eq!(v["entries"].as_array().unwrap().len(), 3, "all keys: {v}");

    // The filtered list as CSV.
    let out = k.ok(&["history", "--key", "acme-old", "--since", "2021-01-01", "--csv", "acme.csv"]);
    assert!(out.contains("Wrote 2 signings with key \"acme-old\" to acme.csv."), "{out}");
    let csv = std::fs::read_to_string(k.path().join("acme.csv")).unwrap();
    assert_eq!(csv.split("\r\n").filter(|r| !r.is_empty()).count(), 3, "{csv}");
    assert!(
        csv.contains("reports-3.0.jar") && csv.contains("tools-2.0.jar") && !csv.contains("tools-1.0.jar")
    );
    assert!(!csv.contains("PRIVATE KEY"));
}

fn bad_history_input_is_refused(k: &Keychain) {
    // Bad input: a day that is not one, a key nobody knows.
    let (code, _, err) = k.run(&["history", "--key", "acme-old", "--since", "1/5/2020"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"1/5/2020\" is not a day Countersign reads: write it as YYYY-MM-DD"), "{err}");
    let (code, _, err) = k.run(&["history", "--key", "nobody"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "No key named \"nobody\" is stored, and the history records no signing under that name."
        ),
        "{err}"
    );
}

#[test]
fn the_history_signs_again_with_the_new_key_what_is_unchanged_and_lists_what_moved_or_changed() {
    let Some(k) = Keychain::new() else { return };
    k.ok(&["keys", "generate", "--name", "acme"]);
    k.ok(&["cert", "self-sign", "acme", "--cn", "Acme App Signing"]);
    let apps = k.path().join("apps");
    std::fs::create_dir(&apps).unwrap();
    let (kept, moved, rebuilt) = (apps.join("kept.jar"), apps.join("moved.jar"), apps.join("rebuilt.jar"));
    for (jar, key) in [(&kept, "com.acme.kept"), (&moved, "com.acme.moved"), (&rebuilt, "com.acme.rebuilt")] {
        make_app_jar(jar, key, "1.0", 2_000);
        let bundle = jar.with_file_name(format!("{}-bundle", jar.file_stem().unwrap().to_string_lossy()));
        k.ok(&[
            "sign",
            &jar.display().to_string(),
            "--key",
            "acme",
            "--note",
            "for Globex",
            "--out",
            &bundle.display().to_string(),
        ]);
    }
    std::fs::rename(&moved, k.path().join("moved-away.jar")).unwrap();
    make_app_jar(&rebuilt, "com.acme.rebuilt", "1.1", 3_000);
    k.ok(&["keys", "replace", "acme", "--name", "acme-2", "--reason", "compromised"]);

    let (code, out, err) = k.run(&["history", "--key", "acme", "--resign-with", "acme-2", "--json"]);
    assert_eq!(code, 1, "something was left out: {out}{err}");
    let results = json(&out)["results"].as_array().unwrap().clone();
    let state = |name: &str| {
        results
            .iter()
            .find(|r| r["artifact"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{out}"))["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(results.len(), 3, "{out}");
    assert_eq!(state("kept.jar"), "signed");
    assert_eq!(state("moved.jar"), "missing");
    assert_eq!(state("rebuilt.jar"), "changed");

    // The new bundle is beside the old one, signed by the new key, and verifies.
    let new_bundle = apps.join("kept-bundle-2");
    assert!(apps.join("kept-bundle").join("manifest.json").is_file(), "the old bundle stays");
    let (code, out, err) = k.run(&["verify", &new_bundle.display().to_string(), "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let entries = history(&k);
    let newest = &entries[0];
    assert_eq!(newest["key_name"], "acme-2", "{newest}");
    assert_eq!(newest["note"], "for Globex", "the customer's note goes along");
    assert!(
        !new_bundle.join("moved.jar").exists() && !apps.join("rebuilt-bundle-2").exists(),
        "nothing is guessed"
    );

    // Run again (after one cancelled or partly failed, say): what was signed again is not
    // signed twice.
    let (code, out, err) = k.run(&["history", "--key", "acme", "--resign-with", "acme-2"]);
    assert_eq!(code, 1, "the moved and rebuilt apps are still left out: {out}{err}");
    assert!(out.contains("already signed again with \"acme-2\": ") && out.contains("kept.jar"), "{out}");
    assert!(!apps.join("kept-bundle-3").exists(), "{out}");
    assert_eq!(history(&k).len(), entries.len(), "nothing more recorded");
}
