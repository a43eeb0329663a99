//! The key store's unit tests, on an in-memory keychain. In a file of their own because
//! they are as long as the store itself.

use super::*;

fn store() -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().unwrap();
    let ks = KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-unit").unwrap());
    (dir, ks)
}

#[test]
fn generate_list_load_rename_delete() {
    let (_d, ks) = store();
    let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
    assert_eq!(ks.list().unwrap(), vec![rec.clone()]);
    let (_, key) = ks.load("acme").unwrap();
    assert_eq!(key.public_key().fingerprint(), rec.fingerprint);
    ks.rename("acme", "acme-2026").unwrap();
    assert!(matches!(ks.load("acme"), Err(KeyStoreError::NoSuchKey(_))));
    let (renamed, _) = ks.load("acme-2026").unwrap();
    assert_eq!(renamed.id, rec.id, "renaming keeps the keychain entry");
    ks.delete("acme-2026").unwrap();
    assert!(ks.list().unwrap().is_empty());
    assert_eq!(ks.secrets.get(&rec.id).unwrap(), None, "the secret is gone too");
}

#[test]
fn names_are_unique_and_sane() {
    let (_d, ks) = store();
    ks.generate("acme", Algorithm::Ed25519).unwrap();
    assert!(matches!(ks.generate("ACME", Algorithm::Ed25519), Err(KeyStoreError::NameTaken(_))));
    assert!(matches!(ks.generate("", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
    assert!(matches!(ks.generate(" padded", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
    assert!(matches!(ks.generate("a\nb", Algorithm::Ed25519), Err(KeyStoreError::BadName(_))));
    ks.generate("other", Algorithm::EcdsaP384).unwrap();
    assert!(matches!(ks.rename("other", "acme"), Err(KeyStoreError::NameTaken(_))));
    assert_eq!(ks.list().unwrap().len(), 2);
}

#[test]
fn a_secret_deleted_behind_our_back_is_reported_per_key() {
    let (_d, ks) = store();
    let a = ks.generate("a", Algorithm::Ed25519).unwrap();
    let b = ks.generate("b", Algorithm::Ed25519).unwrap();
    ks.secrets.delete(&a.id).unwrap();
    assert_eq!(ks.health(&a).unwrap(), KeyHealth::SecretMissing);
    assert_eq!(ks.health(&b).unwrap(), KeyHealth::Ok);
    assert!(matches!(ks.load("a"), Err(KeyStoreError::SecretMissing { .. })));
    ks.load("b").unwrap();
    // Deleting the broken entry works, and leaves the other alone.
    ks.delete("a").unwrap();
    assert_eq!(ks.list().unwrap(), vec![b]);
}

#[test]
fn a_swapped_secret_is_refused() {
    let (_d, ks) = store();
    let a = ks.generate("a", Algorithm::Ed25519).unwrap();
    let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    ks.secrets.put(&a.id, &other.to_pkcs8_pem().unwrap()).unwrap();
    assert!(matches!(ks.health(&a).unwrap(), KeyHealth::SecretMismatch { .. }));
    assert!(matches!(ks.load("a"), Err(KeyStoreError::SecretMismatch { .. })));
}

#[test]
fn a_damaged_index_is_reported_and_not_overwritten() {
    let (_d, ks) = store();
    ks.generate("a", Algorithm::Ed25519).unwrap();
    std::fs::write(ks.index_path(), b"{ not json").unwrap();
    assert!(matches!(ks.list(), Err(KeyStoreError::BadIndex { .. })));
    assert!(matches!(ks.generate("b", Algorithm::Ed25519), Err(KeyStoreError::BadIndex { .. })));
    assert_eq!(std::fs::read(ks.index_path()).unwrap(), b"{ not json");
}

/// Separate `KeyStore` values on one home, as two processes would have: every change
/// lands, because each read-modify-write holds the lock.
#[test]
fn concurrent_changes_from_several_stores_all_land() {
    let (_d, ks) = store();
    std::thread::scope(|s| {
        for t in 0..6 {
            let mine = KeyStore::new(ks.home.clone(), ks.secrets.clone());
            s.spawn(move || {
                for i in 0..5 {
                    mine.generate(&format!("k{t}-{i}"), Algorithm::Ed25519).unwrap();
                }
                mine.rename(&format!("k{t}-0"), &format!("renamed-{t}")).unwrap();
                mine.delete(&format!("k{t}-1")).unwrap();
            });
        }
    });
    let keys = ks.list().unwrap();
    assert_eq!(keys.len(), 6 * 4);
    for t in 0..6 {
        assert!(keys.iter().any(|k| k.name == format!("renamed-{t}")));
        assert!(!keys.iter().any(|k| k.name == format!("k{t}-1")));
    }
    for k in &keys {
        assert_eq!(ks.health(k).unwrap(), KeyHealth::Ok, "{}", k.name);
    }
}

#[test]
fn the_index_holds_no_private_key() {
    let (_d, ks) = store();
    ks.generate("a", Algorithm::Ed25519).unwrap();
    let (_, key) = ks.load("a").unwrap();
    let PrivateKey::Ed25519(inner) = &key else { unreachable!() };
    let index = std::fs::read_to_string(ks.index_path()).unwrap();
    assert!(!index.contains(&crate::hex::lower(inner.as_bytes())));
    assert!(!index.contains("PRIVATE KEY"));
}

fn subject() -> crate::certs::Subject {
    crate::certs::Subject { common_name: "Acme App Signing".into(), ..Default::default() }
}

const PASS: &str = "correct horse battery";

fn pass() -> Result<zeroize::Zeroizing<String>, KeyError> {
    Ok(zeroize::Zeroizing::new(PASS.into()))
}

#[test]
fn a_backup_carries_the_current_chain_and_a_restore_keeps_it() {
    let (d, ks) = store();
    let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
    assert_eq!(rec.last_backed_up, None);
    let now = OffsetDateTime::now_utc();
    ks.self_sign("acme", &subject(), 30, now).unwrap();
    let current = ks.self_sign("acme", &subject(), 365, now).unwrap();
    let out = d.path().join("acme.bak");
    let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let written = ks.backup("acme", PASS, &out, false).unwrap();
    assert!(written.not_recorded.is_none());
    assert_eq!(written.certificates, 1);
    let when = written.record.last_backed_up.expect("the backup's date is recorded");
    assert!(when >= before && when <= OffsetDateTime::now_utc());
    assert_eq!(ks.get("acme").unwrap().last_backed_up, Some(when), "and kept in the index");

    // The key first, then the current certificate only (not the older one).
    let bytes = std::fs::read(&out).unwrap();
    let blocks = crate::pem::blocks(&bytes).unwrap();
    let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["ENCRYPTED PRIVATE KEY", "CERTIFICATE"]);
    assert_eq!(&blocks[1].der[..], current.der());

    // Restored into another store: the key and its certificate, and no backup date.
    let (_d2, other) = store();
    let restored = other.import_file("acme", &out, pass).unwrap();
    assert_eq!(restored.fingerprint, rec.fingerprint);
    assert_eq!(restored.last_backed_up, None);
    assert_eq!(other.certificates(&restored), vec![vec![current]]);
    other.load("acme").unwrap();
}

#[test]
fn a_backup_of_a_key_without_a_certificate_holds_the_key_alone() {
    let (d, ks) = store();
    ks.generate("acme", Algorithm::EcdsaP384).unwrap();
    let out = d.path().join("acme.bak");
    assert_eq!(ks.backup("acme", PASS, &out, false).unwrap().certificates, 0);
    let bytes = std::fs::read(&out).unwrap();
    let labels: Vec<String> =
        crate::pem::blocks(&bytes).unwrap().into_iter().map(|b| b.label.clone()).collect();
    assert_eq!(labels, ["ENCRYPTED PRIVATE KEY"]);
    let (_d2, other) = store();
    assert!(other.import_file("acme", &out, pass).unwrap().certificates.is_empty());
}

#[test]
fn a_backup_records_its_date_even_after_a_rename() {
    let (d, ks) = store();
    ks.generate("acme", Algorithm::Ed25519).unwrap();
    let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let written = ks.backup("acme", PASS, &d.path().join("acme.bak"), false).unwrap();
    assert!(written.not_recorded.is_none());
    let when = written.record.last_backed_up.expect("the backup's date is recorded");
    assert!(when >= before && when <= OffsetDateTime::now_utc());
    ks.rename("acme", "acme-2026").unwrap();
    assert_eq!(ks.get("acme-2026").unwrap().last_backed_up, Some(when), "kept in the index");
}

#[test]
fn a_failed_backup_records_no_date() {
    let (d, ks) = store();
    ks.generate("acme", Algorithm::Ed25519).unwrap();
    let out = d.path().join("taken.bak");
    std::fs::write(&out, b"someone else's").unwrap();
    assert!(matches!(ks.backup("acme", PASS, &out, false), Err(KeyStoreError::Write(_))));
    assert!(matches!(ks.backup("acme", "short", &out, true), Err(KeyStoreError::Key(_))));
    assert_eq!(std::fs::read(&out).unwrap(), b"someone else's");
    assert_eq!(ks.get("acme").unwrap().last_backed_up, None);
}

#[test]
fn a_key_already_stored_is_refused_and_nothing_is_written() {
    let (d, ks) = store();
    let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
    ks.self_sign("acme", &subject(), 30, OffsetDateTime::now_utc()).unwrap();
    let out = d.path().join("acme.bak");
    ks.backup("acme", PASS, &out, false).unwrap();
    let plain = d.path().join("acme.pem");
    let (_, key) = ks.load("acme").unwrap();
    std::fs::write(&plain, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let index = std::fs::read(ks.index_path()).unwrap();
    let ids = || {
        ks.secrets.ids().unwrap().map(|mut v| {
            v.sort();
            v
        })
    };
    let ids_before = ids();

    for (file, new_name) in [(&out, "acme"), (&out, "acme-again"), (&plain, "other")] {
        let err = ks.import_file(new_name, file, pass).unwrap_err();
        assert!(matches!(&err, KeyStoreError::AlreadyStored { name } if name == "acme"), "{err:?}");
        assert_eq!(
            err.to_string(),
            "This key is already stored as \"acme\"; nothing was imported. Use that key, or delete it first to import it again."
        );
    }
    // Under another name too, and with `add` directly.
    assert!(matches!(ks.add("x", &key), Err(KeyStoreError::AlreadyStored { .. })));
    assert_eq!(std::fs::read(ks.index_path()).unwrap(), index, "the index is untouched");
    assert_eq!(ids(), ids_before, "no keychain entry was added");
    assert_eq!(ks.list().unwrap().len(), 1);
    // Once deleted, it imports again.
    ks.delete("acme").unwrap();
    let again = ks.import_file("acme", &out, pass).unwrap();
    assert_eq!(again.fingerprint, rec.fingerprint);
    assert_eq!(again.certificates.len(), 1);
}

#[test]
fn a_key_file_with_a_certificate_for_another_key_imports_nothing() {
    let (d, ks) = store();
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let now = OffsetDateTime::now_utc();
    let foreign = crate::certs::self_signed(&other, &subject(), now, now + time::Duration::days(30)).unwrap();
    let file = d.path().join("mixed.pem");
    let text = format!("{}{}", *key.to_encrypted_pem(PASS).unwrap(), foreign.to_pem());
    std::fs::write(&file, text).unwrap();
    let err = ks.import_file("acme", &file, pass).unwrap_err();
    let KeyStoreError::CertificateNotForKey { key: k, cert_key, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*k, key.public_key().fingerprint());
    assert_eq!(*cert_key, other.public_key().fingerprint());
    assert!(err.to_string().contains("nothing was imported"), "{err}");
    assert!(ks.list().unwrap().is_empty());
    assert_eq!(ks.secrets.ids().unwrap(), Some(Vec::new()));

    // Its own certificate first, then an issuer's: kept as one chain, signer first.
    let own = crate::certs::self_signed(&key, &subject(), now, now + time::Duration::days(30)).unwrap();
    let text = format!("{}{}{}", *key.to_encrypted_pem(PASS).unwrap(), own.to_pem(), foreign.to_pem());
    std::fs::write(&file, text).unwrap();
    let rec = ks.import_file("acme", &file, pass).unwrap();
    assert_eq!(ks.certificates(&rec), vec![vec![own, foreign]]);
}

#[test]
fn an_index_from_before_backup_dates_loads_and_keeps_its_keys() {
    let (_d, ks) = store();
    let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
    assert!(index["keys"][0]["last_backed_up"].is_null());
    index["keys"][0].as_object_mut().unwrap().remove("last_backed_up");
    std::fs::write(ks.index_path(), serde_json::to_vec(&index).unwrap()).unwrap();
    assert_eq!(ks.list().unwrap(), vec![rec]);

    // Written as RFC 3339 once set.
    let when = time::macros::datetime!(2026-03-01 12:00:00 UTC);
    ks.update(|index| {
        index.keys[0].last_backed_up = Some(when);
        Ok(())
    })
    .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
    assert_eq!(index["keys"][0]["last_backed_up"], "2026-03-01T12:00:00Z");
    assert_eq!(ks.get("acme").unwrap().last_backed_up, Some(when));
}

#[test]
fn replace_makes_a_new_key_with_the_old_subject_and_marks_the_old_one() {
    let (_d, ks) = store();
    let subject = crate::certs::Subject {
        common_name: "Acme App Signing".into(),
        organization: Some("Acme Ltd".into()),
        ..Default::default()
    };
    let now = time::macros::datetime!(2026-03-01 12:00:00.5 UTC);
    let old = ks.generate("acme", Algorithm::Ed25519).unwrap();
    let old_cert = ks.self_sign("acme", &subject, 30, now).unwrap();
    let r = ks.replace("acme", "acme-2", ReplaceReason::Planned, now).unwrap();
    let since = time::macros::datetime!(2026-03-01 12:00:00 UTC);
    assert_eq!(r.old.status, KeyStatus::Retired { since, replaced_by: "acme-2".into() });
    assert_eq!(r.old.id, old.id);
    assert_ne!(r.new.fingerprint, old.fingerprint);
    assert_eq!(r.new.algorithm, Algorithm::Ed25519);
    assert_eq!(r.certificate.subject(), old_cert.subject());
    assert!(r.certificate.subject().contains("Acme Ltd"), "{}", r.certificate.subject());
    assert_eq!(
        r.certificate.not_after(),
        since + time::Duration::days(i64::from(crate::certs::DEFAULT_VALIDITY_DAYS))
    );
    assert_eq!(ks.certificates(&r.new), vec![vec![r.certificate.clone()]]);
    assert_eq!(ks.list().unwrap(), vec![r.old.clone(), r.new.clone()]);
    let (_, key) = ks.load("acme-2").unwrap();
    assert_eq!(key.public_key().fingerprint(), r.new.fingerprint);
    assert_eq!(ks.health(&r.new).unwrap(), KeyHealth::Ok);

    // Renaming the new key keeps the old one pointing at it.
    ks.rename("acme-2", "acme-2027").unwrap();
    assert_eq!(ks.get("acme").unwrap().status, KeyStatus::Retired { since, replaced_by: "acme-2027".into() });
}

#[test]
fn replace_refuses_bad_input_and_changes_nothing() {
    let (_d, ks) = store();
    let now = OffsetDateTime::now_utc();
    ks.generate("bare", Algorithm::Ed25519).unwrap();
    ks.generate("acme", Algorithm::Ed25519).unwrap();
    ks.self_sign("acme", &subject(), 30, now).unwrap();
    ks.generate("taken", Algorithm::Ed25519).unwrap();
    let index = std::fs::read(ks.index_path()).unwrap();
    let ids = || {
        ks.secrets.ids().unwrap().map(|mut v| {
            v.sort();
            v
        })
    };
    let ids_before = ids();
    let compromised = ReplaceReason::Compromised;
    let err = ks.replace("nobody", "new", compromised, now).unwrap_err();
    assert!(matches!(err, KeyStoreError::NoSuchKey(_)), "{err}");
    let err = ks.replace("acme", "TAKEN", compromised, now).unwrap_err();
    assert!(matches!(err, KeyStoreError::NameTaken(_)), "{err}");
    let err = ks.replace("acme", " padded", compromised, now).unwrap_err();
    assert!(matches!(err, KeyStoreError::BadName(_)), "{err}");
    let err = ks.replace("bare", "bare-2", compromised, now).unwrap_err();
    assert!(matches!(err, KeyStoreError::NoCertificateToReplace(_)), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(std::fs::read(ks.index_path()).unwrap(), index, "the index is untouched");
    assert_eq!(ids(), ids_before, "no keychain entry was added");

    ks.replace("acme", "acme-2", compromised, now).unwrap();
    let index = std::fs::read(ks.index_path()).unwrap();
    let ids_before = ids();
    let err = ks.replace("acme", "acme-3", ReplaceReason::Planned, now).unwrap_err();
    assert!(matches!(err, KeyStoreError::AlreadyReplaced { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "Key \"acme\" was already marked compromised on {} and replaced by \"acme-2\"; nothing was changed. Replace \"acme-2\" instead, if it is the one to replace now.",
            crate::certs::day(now)
        )
    );
    assert_eq!(std::fs::read(ks.index_path()).unwrap(), index);
    assert_eq!(ids(), ids_before);
}

#[test]
fn an_index_from_before_rotation_loads_its_keys_as_active() {
    let (_d, ks) = store();
    let rec = ks.generate("acme", Algorithm::Ed25519).unwrap();
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ks.index_path()).unwrap()).unwrap();
    assert_eq!(index["keys"][0]["status"], serde_json::json!({ "state": "active" }));
    index["keys"][0].as_object_mut().unwrap().remove("status");
    std::fs::write(ks.index_path(), serde_json::to_vec(&index).unwrap()).unwrap();
    assert_eq!(ks.get("acme").unwrap().status, KeyStatus::Active);
    assert_eq!(ks.list().unwrap(), vec![rec]);
}
