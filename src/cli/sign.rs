//! `countersign sign`: one or several apps into bundles.

use std::path::PathBuf;

use time::OffsetDateTime;

use countersign::archive::AppInfo;
use countersign::batch::{Existing, Layout};
use countersign::bundle::{self};
use countersign::keys::PrivateKey;
use countersign::keystore::KeyStore;
use countersign::signer::{self, SignOptions, Signed, Signer};

use super::progress::Bars;
use super::{Failure, SignArgs, load_key_file, print_json, truststore};

/// One app's outcome: its bundle and warnings, or why it failed.
type Report = Result<(bundle::SignedBundle, Vec<String>), Failure>;

pub fn sign(a: SignArgs) -> Result<u8, Failure> {
    let signer = signer_for(&a)?;
    let several = a.artifacts.len() > 1;
    let bars = Bars::new(a.json);
    let progress: Vec<_> =
        a.artifacts.iter().map(|p| bars.job(&format!("Signing {}", p.display()))).collect();
    let history = countersign::history::History::open_default();
    let results =
        signer::sign(&signer, &a.artifacts, options_for(&a, several), &history, &progress, |_, _| {});
    bars.finish();

    let key = signer.key();
    let mut worst = 0u8;
    let mut reports: Vec<(&PathBuf, Report)> = Vec::new();
    for (artifact, result) in a.artifacts.iter().zip(results) {
        match result {
            Ok(Signed { bundle, warnings }) => reports.push((artifact, Ok((bundle, warnings)))),
            Err(e) => {
                let failure = Failure::from(e);
                worst = worst.max(failure.code);
                reports.push((artifact, Err(failure)));
            }
        }
    }
    if !several {
        // One app: its result as before, a failure as the command's own.
        let Some((_, report)) = reports.pop() else { return Ok(0) };
        let (signed, warnings) = report?;
        if a.json {
            print_json(&signed_json(&signed, &warnings));
        } else {
            print_signed(&signed, &warnings, key);
        }
        return Ok(0);
    }
    if a.json {
        print_several_json(&reports, worst);
    } else {
        print_several(&reports, key);
    }
    Ok(worst)
}

/// The signer the arguments name: a key file (refused if this machine marked its key
/// compromised) or a stored key, with the certificate given, if any.
fn signer_for(a: &SignArgs) -> Result<Signer, Failure> {
    // clap does not enforce `requires` beside a conflicting --key-file.
    if a.i_know && a.key.is_none() {
        return Err(Failure::bad_input(
            "--i-know signs with a stored key marked compromised; it goes with --key NAME, not with a key file.",
        ));
    }
    let signer = match (&a.key_file, &a.key) {
        (Some(path), _) => {
            let key = load_key_file(path)?;
            match countersign::keystore::default_home() {
                // A key this machine marked compromised is refused from a file too.
                Ok(home) => Signer::from_key_file(key, &home)?,
                Err(_) => Signer::from_key(key),
            }
        }
        (None, Some(name)) => {
            let store = KeyStore::open_default()?;
            if a.i_know {
                Signer::stored_despite_compromise(store, name)?
            } else {
                Signer::stored(store, name)?
            }
        }
        (None, None) => {
            return Err(Failure::bad_input(
                "Say which key signs: --key NAME (from the keychain) or --key-file FILE.",
            ));
        }
    };
    Ok(match &a.cert {
        Some(arg) => signer.with_certificate(truststore::certificate_input(arg)?),
        None => signer,
    })
}

/// Where the bundles go and how: several apps each into a folder of its own.
fn options_for(a: &SignArgs, several: bool) -> SignOptions {
    let layout = match (&a.out, several) {
        (out, true) => Layout::FolderEach(out.clone()),
        (Some(dir), false) => Layout::Into(dir.clone()),
        (None, false) => Layout::Beside,
    };
    SignOptions {
        layout,
        note: a.note.clone(),
        zip: a.zip,
        existing: if a.overwrite { Existing::Replace } else { Existing::Refuse },
        now: OffsetDateTime::now_utc(),
    }
}

/// Several apps' results as one JSON document, `worst` its exit status.
fn print_several_json(reports: &[(&PathBuf, Report)], worst: u8) {
    let results: Vec<serde_json::Value> = reports
        .iter()
        .map(|(artifact, r)| match r {
            Ok((signed, warnings)) => signed_json(signed, warnings),
            Err(f) => {
                serde_json::json!({ "ok": false, "artifact": artifact, "exit": f.code, "error": f.message })
            }
        })
        .collect();
    print_json(&serde_json::json!({ "ok": worst == 0, "exit": worst, "results": results }));
}

/// Several apps' results for people: a block per bundle, each failure on stderr naming its
/// file, and the count.
fn print_several(reports: &[(&PathBuf, Report)], key: &PrivateKey) {
    for (artifact, r) in reports {
        match r {
            Ok((signed, warnings)) => {
                print_signed(signed, warnings, key);
                println!();
            }
            Err(f) => eprintln!("countersign: {}: {}", artifact.display(), f.message),
        }
    }
    let failed = reports.iter().filter(|(_, r)| r.is_err()).count();
    println!(
        "Signed {} of {} apps{}.",
        reports.len() - failed,
        reports.len(),
        if failed > 0 { format!("; {failed} failed (see above)") } else { String::new() }
    );
}

fn signed_json(signed: &bundle::SignedBundle, warnings: &[String]) -> serde_json::Value {
    serde_json::json!({
        "ok": true,
        "artifact": signed.app.file_name,
        "bundle_dir": signed.dir,
        "files": signed.files,
        "signature": signed.signature_base64,
        "manifest": signed.manifest,
        "warnings": warnings,
    })
}

fn print_signed(signed: &bundle::SignedBundle, warnings: &[String], key: &PrivateKey) {
    let app = &signed.app;
    println!(
        "Signed {} ({}, {}) with {} key {}.",
        app.file_name,
        describe_app(app),
        countersign::progress::human_size(signed.manifest.artifact.size),
        key.algorithm(),
        countersign::hex::short(&signed.manifest.public_key_sha256)
    );
    println!("Bundle written to {}:", signed.dir.display());
    for f in &signed.files {
        println!("  {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    println!("Signature (for UPM's Signature field):\n{}", signed.signature_base64);
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn describe_app(app: &AppInfo) -> String {
    match (app.plugin_key(), app.version()) {
        (Some(k), Some(v)) => format!("{k} {v}"),
        (Some(k), None) => k.to_owned(),
        _ => "not an Atlassian app".to_owned(),
    }
}
