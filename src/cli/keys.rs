//! `countersign keys ...`: the key store on the command line.

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Failure, passphrase_for, print_json};
use countersign::keys::Algorithm;
use countersign::keystore::{KeyRecord, KeyStatus, KeyStore, ReplaceReason};
use countersign::overview::KeyOverview;

use super::KeysCommand;

pub fn run(command: KeysCommand) -> Result<u8, Failure> {
    let store = KeyStore::open_default()?;
    match command {
        KeysCommand::Generate { name, algorithm, json } => generate_cmd(&store, &name, &algorithm, json),
        KeysCommand::List { json } => list(&store, json),
        KeysCommand::Import { file, name } => import_cmd(&store, &file, &name),
        KeysCommand::ExportPublic { name, out } => export_public_cmd(&store, &name, out.as_deref()),
        KeysCommand::Backup { name, out } => backup_cmd(&store, &name, &out),
        KeysCommand::Restore { file, name } => restore_cmd(&store, &file, &name),
        KeysCommand::Adopt { id, name } => adopt_cmd(&store, &id, &name),
        KeysCommand::Replace { old, name, reason, json } => replace_cmd(&store, &old, &name, &reason, json),
        KeysCommand::Rename { old, new } => rename_cmd(&store, &old, &new),
        KeysCommand::Delete { name, yes } => delete_cmd(&store, &name, yes),
    }
}

/// `keys generate`: makes a new key in the keychain (`p384`: ECDSA P-384, else Ed25519).
fn generate_cmd(store: &KeyStore, name: &str, algorithm: &str, json: bool) -> Result<u8, Failure> {
    let algorithm = if algorithm == "p384" { Algorithm::EcdsaP384 } else { Algorithm::Ed25519 };
    let record = store.generate(name, algorithm)?;
    if json {
        print_json(&summary(store, &record));
    } else {
        println!(
            "Made {} key \"{}\" in the keychain; public key SHA-256 {}.",
            record.algorithm, record.name, record.fingerprint
        );
        println!(
            "Next: a certificate for customers' trust stores (countersign cert self-sign {}).",
            record.name
        );
    }
    if !algorithm.upm_accepts() {
        eprintln!("warning: {}", Algorithm::UPM_WARNING);
    }
    Ok(0)
}

/// `keys import`: moves a private key from a file into the keychain.
fn import_cmd(store: &KeyStore, file: &Path, name: &str) -> Result<u8, Failure> {
    let record = store.import_file(name, file, || passphrase_for(&file.display().to_string()))?;
    println!(
        "Imported {} key \"{}\" into the keychain; public key SHA-256 {}.",
        record.algorithm, record.name, record.fingerprint
    );
    print_kept_certificate(&record);
    println!("The key is now in the keychain: delete or lock away {} if it is a plain file.", file.display());
    Ok(0)
}

/// `keys export-public`: prints the public key, or writes it to a new file.
fn export_public_cmd(store: &KeyStore, name: &str, out: Option<&Path>) -> Result<u8, Failure> {
    let record = store.get(name)?;
    match out {
        Some(path) => {
            countersign::atomic::write_file(path, record.public_key.as_bytes(), false)
                .map_err(Failure::bad_input)?;
            println!("Wrote the public key of \"{name}\" to {}.", path.display());
        }
        None => print!("{}", record.public_key),
    }
    Ok(0)
}

/// `keys backup`: writes a passphrase-encrypted backup of the key to a new file.
fn backup_cmd(store: &KeyStore, name: &str, out: &Path) -> Result<u8, Failure> {
    if out.exists() {
        return Err(Failure::bad_input(format!(
            "{} already exists. Choose another file for the backup; Countersign does not overwrite files.",
            out.display()
        )));
    }
    store.get(name)?; // before asking for a passphrase
    let passphrase = new_passphrase(out)?;
    let written = store.backup(name, &passphrase, out, false)?;
    match written.certificates {
        0 => println!(
            "Wrote an encrypted backup of \"{name}\" to {} (the key has no certificate to include).",
            out.display()
        ),
        n => println!(
            "Wrote an encrypted backup of \"{name}\" to {}, with its current certificate chain ({n} certificate{}).",
            out.display(),
            if n == 1 { "" } else { "s" }
        ),
    }
    if let Some(e) = &written.not_recorded {
        eprintln!("warning: the backup is complete, but its date could not be saved in the key list: {e}");
    }
    println!("Keep it and its passphrase apart. Check it with: openssl pkey -in {} -noout", out.display());
    Ok(0)
}

/// `keys restore`: puts a key from a backup file back into the keychain.
fn restore_cmd(store: &KeyStore, file: &Path, name: &str) -> Result<u8, Failure> {
    let record = store.import_file(name, file, || passphrase_for(&file.display().to_string()))?;
    println!(
        "Restored {} key \"{}\" into the keychain; public key SHA-256 {}.",
        record.algorithm, record.name, record.fingerprint
    );
    print_kept_certificate(&record);
    Ok(0)
}

/// Says which certificate an imported or restored key file brought with it, if any.
fn print_kept_certificate(record: &KeyRecord) {
    if !record.certificates.is_empty() {
        println!(
            "Kept the certificate from the file with the key: {}.",
            countersign::overview::certificate_summary(record, OffsetDateTime::now_utc())
        );
    }
}

/// `keys adopt`: lists an unlisted keychain entry again under `name`.
fn adopt_cmd(store: &KeyStore, id: &str, name: &str) -> Result<u8, Failure> {
    let record = store.adopt(id, name)?;
    println!(
        "Listed keychain entry {id} as {} key \"{}\"; public key SHA-256 {}.",
        record.algorithm, record.name, record.fingerprint
    );
    Ok(0)
}

/// `keys replace`: a new key and certificate for `old`, which is retired or marked compromised.
fn replace_cmd(store: &KeyStore, old: &str, new: &str, reason: &str, json: bool) -> Result<u8, Failure> {
    let reason = if reason == "compromised" { ReplaceReason::Compromised } else { ReplaceReason::Planned };
    let replaced = store.replace(old, new, reason, OffsetDateTime::now_utc())?;
    let cert = &replaced.certificate;
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "old": summary(store, &replaced.old),
            "new": summary(store, &replaced.new),
            "certificate": {
                "subject": cert.subject(),
                "sha256": cert.fingerprint(),
                "not_after": countersign::certs::rfc3339(cert.not_after()),
            },
        }));
        return Ok(0);
    }
    println!(
        "Made Ed25519 key \"{new}\" in the keychain (public key SHA-256 {}), with a self-signed certificate for {} valid until {} (SHA-256 {}).",
        replaced.new.fingerprint,
        cert.subject(),
        countersign::certs::day(cert.not_after()),
        cert.fingerprint()
    );
    match reason {
        ReplaceReason::Planned => println!(
            "Key \"{old}\" is retired: signing with it still works, with a warning. Its certificate stays listed until you delete the key."
        ),
        ReplaceReason::Compromised => println!(
            "Key \"{old}\" is marked compromised: Countersign no longer signs with it. Delete it once customers have swapped certificates (countersign keys delete {old})."
        ),
    }
    println!("Next: who received apps signed with \"{old}\": countersign history --key {old}");
    println!(
        "      a trust-store package with the new certificate: countersign truststore package --cert {new} --out DIR"
    );
    println!("      a backup of the new key: countersign keys backup {new} --out FILE");
    Ok(0)
}

/// `keys rename`: gives a key another name.
fn rename_cmd(store: &KeyStore, old: &str, new: &str) -> Result<u8, Failure> {
    store.rename(old, new)?;
    println!("Renamed key \"{old}\" to \"{new}\".");
    Ok(0)
}

/// `keys delete`: deletes a key from the keychain and the index, after confirmation unless `yes`.
fn delete_cmd(store: &KeyStore, name: &str, yes: bool) -> Result<u8, Failure> {
    let record = store.get(name)?;
    if !yes {
        confirm_delete(&record)?;
    }
    store.delete(name)?;
    println!(
        "Deleted key \"{name}\" (public key SHA-256 {}) from the keychain and the index.",
        record.fingerprint
    );
    Ok(0)
}

#[derive(Serialize)]
struct KeySummary {
    name: String,
    algorithm: String,
    fingerprint: String,
    created: String,
    last_used: Option<String>,
    /// RFC 3339, UTC; `None` when Countersign never backed the key up.
    last_backed_up: Option<String>,
    certificate: String,
    keychain: String,
    /// `{"state": "active"}`, or retired / compromised with `since` and `replaced_by`.
    status: KeyStatus,
}

impl KeySummary {
    fn of(key: &KeyOverview) -> Self {
        let record = &key.record;
        KeySummary {
            name: record.name.clone(),
            algorithm: record.algorithm.id().to_owned(),
            fingerprint: record.fingerprint.clone(),
            created: record.created.clone(),
            last_used: record.last_used.clone(),
            last_backed_up: record.last_backed_up.map(countersign::certs::rfc3339),
            certificate: key.certificate_summary(OffsetDateTime::now_utc()),
            keychain: key.keychain.to_string(),
            status: record.status.clone(),
        }
    }
}

fn summary(store: &KeyStore, record: &KeyRecord) -> KeySummary {
    KeySummary::of(&store.overview_of(record.clone()))
}

fn list(store: &KeyStore, json: bool) -> Result<u8, Failure> {
    let summaries: Vec<KeySummary> = store.overview()?.iter().map(KeySummary::of).collect();
    let orphans = match store.orphans() {
        Ok(found) => found.unwrap_or_default(),
        // Said, not swallowed: a search that always failed hid that no unlisted entry was
        // ever found on Windows.
        Err(e) => {
            eprintln!("warning: could not look for Countersign entries the key list does not name: {e}");
            Vec::new()
        }
    };
    if json {
        print_json(
            &serde_json::json!({ "ok": true, "keys": summaries, "unlisted_keychain_entries": orphans }),
        );
    } else if summaries.is_empty() {
        println!("No keys yet. Make one with: countersign keys generate --name NAME");
    } else {
        for k in &summaries {
            println!("{}", k.name);
            println!("  {:<12} {}", "algorithm", k.algorithm);
            println!("  {:<12} {}", "fingerprint", k.fingerprint);
            println!("  {:<12} {}", "created", k.created);
            println!("  {:<12} {}", "last used", k.last_used.as_deref().unwrap_or("never"));
            println!("  {:<12} {}", "backed up", k.last_backed_up.as_deref().unwrap_or("never"));
            println!("  {:<12} {}", "certificate", k.certificate);
            println!("  {:<12} {}", "keychain", k.keychain);
            if k.status != KeyStatus::Active {
                println!("  {:<12} {}", "status", k.status);
            }
        }
    }
    let broken: Vec<&KeySummary> = summaries.iter().filter(|k| k.keychain != "ok").collect();
    for k in &broken {
        eprintln!(
            "warning: key \"{}\": {}. Restore it from a backup, or delete it from the list (countersign keys delete {} --yes).",
            k.name, k.keychain, k.name
        );
    }
    if !orphans.is_empty() {
        eprintln!(
            "warning: the keychain holds {} Countersign entr{} that the index does not list (left by an index restored from an older copy, or by a Countersign stopped while it added or deleted a key): {}. They were left as they are; `countersign keys adopt ID --name NAME` lists one again.",
            orphans.len(),
            if orphans.len() == 1 { "y" } else { "ies" },
            orphans.join(", ")
        );
    }
    Ok(0)
}

/// A passphrase for a new backup: COUNTERSIGN_PASSPHRASE, or asked twice on a terminal.
fn new_passphrase(out: &Path) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var(super::PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::bad_input(
            "A backup needs a passphrase: set COUNTERSIGN_PASSPHRASE or run in a terminal to be asked.",
        ));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("New passphrase for {}: ", out.display()))
            .map_err(Failure::bad_input)?,
    );
    let second = Zeroizing::new(rpassword::prompt_password("Repeat it: ").map_err(Failure::bad_input)?);
    if *first != *second {
        return Err(Failure::bad_input("The two passphrases differ; nothing was written. Try again."));
    }
    Ok(first)
}

fn confirm_delete(record: &KeyRecord) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::bad_input(format!(
            "Deleting key \"{}\" needs confirmation: run it in a terminal, or pass --yes.",
            record.name
        )));
    }
    eprintln!(
        "Delete key \"{}\" ({}, public key SHA-256 {})? Signatures made with it stay valid, but nobody can sign with it again unless you have a backup.",
        record.name, record.algorithm, record.fingerprint
    );
    eprint!("Type the key's name to confirm: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(Failure::bad_input)?;
    if answer.trim_end_matches(['\n', '\r']) != record.name {
        return Err(Failure::bad_input(format!("Not confirmed; key \"{}\" was kept.", record.name)));
    }
    Ok(())
}
