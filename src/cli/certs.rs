//! `countersign cert ...` and `countersign truststore ...`.

use std::path::Path;

use time::OffsetDateTime;

use super::{CertCommand, Failure, SubjectArgs, print_json};
use countersign::certs::{self, Certificate, Subject};
use countersign::keystore::{KeyRecord, KeyStore};

fn subject_for(record: &KeyRecord, args: &SubjectArgs) -> Subject {
    Subject {
        common_name: args.cn.clone().unwrap_or_else(|| record.name.clone()),
        organization: args.org.clone(),
        organizational_unit: args.unit.clone(),
        country: args.country.clone(),
        email: args.email.clone(),
    }
}

fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    Ok(countersign::atomic::write_file(path, text.as_bytes(), false)?)
}

/// Checked before the certificate is made, so that a refused copy leaves no new certificate.
fn refuse_existing(out: Option<&Path>) -> Result<(), Failure> {
    match out.filter(|p| p.exists()) {
        Some(path) => Err(Failure::bad_input(format!(
            "{} already exists. Choose another file; Countersign does not overwrite.",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// Makes, stores and optionally writes out a self-signed certificate.
fn self_sign(
    store: &KeyStore,
    name: &str,
    subject: &Subject,
    days: u32,
    out: Option<&Path>,
) -> Result<Certificate, Failure> {
    refuse_existing(out)?;
    let cert = store.self_sign(name, subject, days, OffsetDateTime::now_utc())?;
    if let Some(path) = out {
        write_new(path, &cert.to_pem())?;
    }
    Ok(cert)
}

fn describe(cert: &Certificate) -> String {
    format!(
        "{} (SHA-256 {}), valid until {}",
        cert.subject(),
        cert.fingerprint(),
        certs::day(cert.not_after())
    )
}

pub fn run(command: CertCommand) -> Result<u8, Failure> {
    let store = KeyStore::open_default()?;
    match command {
        CertCommand::SelfSign { key, subject, days, out } => {
            self_sign_cmd(&store, &key, &subject, days, out.as_deref())
        }
        CertCommand::Request { key, subject, out } => request_cmd(&store, &key, &subject, &out),
        CertCommand::Import { key, file } => import_cmd(&store, &key, &file),
        CertCommand::Renew { key, days, out } => renew_cmd(&store, &key, days, out.as_deref()),
        CertCommand::Show { key, json, pem } => show_cmd(&store, &key, json, pem),
    }
}

/// `cert self-sign`: makes and keeps a self-signed certificate, optionally writing it out.
fn self_sign_cmd(
    store: &KeyStore,
    key: &str,
    subject: &SubjectArgs,
    days: u32,
    out: Option<&Path>,
) -> Result<u8, Failure> {
    let record = store.get(key)?;
    let cert = self_sign(store, key, &subject_for(&record, subject), days, out)?;
    println!("Made a self-signed certificate for key \"{key}\": {}.", describe(&cert));
    match out {
        Some(p) => println!(
            "Customers put {} in UPM's trust store (countersign truststore package helps).",
            p.display()
        ),
        None => println!(
            "It is kept with the key and goes into every bundle signed with it (countersign cert show {key} --pem prints it)."
        ),
    }
    Ok(0)
}

/// `cert request`: writes a certificate signing request for the key to a new file.
fn request_cmd(store: &KeyStore, key: &str, subject: &SubjectArgs, out: &Path) -> Result<u8, Failure> {
    if out.exists() {
        return Err(Failure::bad_input(format!(
            "{} already exists. Choose another file; Countersign does not overwrite.",
            out.display()
        )));
    }
    let record = store.get(key)?;
    let csr = store.signing_request(key, &subject_for(&record, subject))?;
    write_new(out, &csr)?;
    println!("Wrote a certificate signing request for key \"{key}\" to {}.", out.display());
    println!("When the CA sends the certificate: countersign cert import {key} CERT.crt");
    Ok(0)
}

/// `cert import`: keeps a CA-issued certificate (and its issuers) with the key.
fn import_cmd(store: &KeyStore, key: &str, file: &Path) -> Result<u8, Failure> {
    let chain = &store.import_certificate(key, file)?;
    let record = store.get(key)?;
    println!(
        "Kept {} with key \"{}\"{}.",
        describe(&chain[0]),
        record.name,
        if chain.len() > 1 {
            format!(", with {} issuer certificate(s)", chain.len() - 1)
        } else {
            String::new()
        }
    );
    warn_state(&chain[0]);
    Ok(0)
}

/// `cert renew`: a new certificate for the same key and subject, optionally written out.
fn renew_cmd(store: &KeyStore, key: &str, days: u32, out: Option<&Path>) -> Result<u8, Failure> {
    refuse_existing(out)?;
    let (cert, current) = store.renew(key, days, OffsetDateTime::now_utc())?;
    if let Some(path) = out {
        write_new(path, &cert.to_pem())?;
    }
    println!("Renewed the certificate of key \"{key}\" (same key, same subject): {}.", describe(&cert));
    println!(
        "Signatures made before stay valid; send customers the new certificate before {}.",
        certs::day(current.not_after())
    );
    Ok(0)
}

/// `cert show`: prints the key's certificates as text, JSON, or (current one) PEM.
fn show_cmd(store: &KeyStore, key: &str, json: bool, pem: bool) -> Result<u8, Failure> {
    let record = store.get(key)?;
    let chains = store.certificates(&record);
    if pem {
        let current = chains.last().ok_or_else(|| {
            Failure::bad_input(format!(
                "Key \"{key}\" has no certificate yet. Make one: countersign cert self-sign {key}"
            ))
        })?;
        print!("{}", current.iter().map(Certificate::to_pem).collect::<String>());
        return Ok(0);
    }
    let rows = certificate_rows(&chains, OffsetDateTime::now_utc());
    if json {
        print_json(&serde_json::json!({ "ok": true, "key": key, "certificates": rows }));
    } else if rows.is_empty() {
        println!(
            "Key \"{key}\" has no certificate yet. Make one: countersign cert self-sign {key} --org \"Your Company\""
        );
    } else {
        print_certificate_rows(&rows);
        if let Some(current) = chains.last() {
            warn_state(&current[0]);
        }
    }
    Ok(0)
}

/// One JSON object per certificate chain, oldest first, describing its signer at `now`.
fn certificate_rows(chains: &[Vec<Certificate>], now: OffsetDateTime) -> Vec<serde_json::Value> {
    chains
        .iter()
        .enumerate()
        .map(|(i, chain)| {
            let c = &chain[0];
            serde_json::json!({
                "current": i + 1 == chains.len(),
                "subject": c.subject(),
                "issuer": c.issuer(),
                "serial": c.serial_hex(),
                "sha256_fingerprint": c.fingerprint(),
                "not_before": certs::rfc3339(c.not_before()),
                "not_after": certs::rfc3339(c.not_after()),
                "state": c.validity_at(now).to_string(),
                "self_signed": c.is_self_issued(),
                "chain_length": chain.len(),
            })
        })
        .collect()
}

/// Prints the rows of `certificate_rows` as text, one block per certificate.
fn print_certificate_rows(rows: &[serde_json::Value]) {
    for r in rows {
        println!(
            "{}{}",
            r["subject"].as_str().unwrap_or_default(),
            if r["current"] == true { "  (current)" } else { "" }
        );
        for field in ["state", "not_before", "not_after", "sha256_fingerprint", "issuer", "serial"] {
            println!("  {:<19} {}", field.replace('_', " "), r[field].as_str().unwrap_or_default());
        }
    }
}

fn warn_state(cert: &Certificate) {
    let state = cert.validity_at(OffsetDateTime::now_utc());
    if !matches!(state, certs::ValidityState::Valid { .. }) {
        eprintln!(
            "warning: the certificate is {state}; renew it (countersign cert renew KEY) before customers' UPM refuses it."
        );
    }
}
