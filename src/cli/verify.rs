//! `countersign verify` and `countersign inspect`: a bundle or app checked the way UPM will,
//! and what an app is.

use time::OffsetDateTime;

use countersign::archive::{self};
use countersign::bundle::{self, Report, VerifyTarget};
use countersign::truststore::TrustStore;

use super::progress::with_progress;
use super::{Failure, InspectArgs, VerifyArgs, hints, print_json};

pub fn verify(a: VerifyArgs) -> Result<u8, Failure> {
    let truststore = a.truststore.as_deref().map(TrustStore::load).transpose()?;
    let target =
        VerifyTarget { path: a.target.clone(), signature: a.sig.clone(), certificate: a.cert.clone() };
    let now = OffsetDateTime::now_utc();
    let report =
        with_progress("Verifying", a.json, |p| bundle::verify_target(&target, truststore.as_ref(), now, p))?;
    if a.json {
        print_json(&report);
    } else {
        print_report(&report);
    }
    Ok(if report.passed() { 0 } else { 1 })
}

fn print_report(report: &Report) {
    use countersign::bundle::Outcome;
    println!("{}, as UPM will:", report.checked_with());
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Pass => "[ ok ]",
            Outcome::Warn => "[warn]",
            Outcome::Fail => "[FAIL]",
            Outcome::Skipped => "[skip]",
        };
        println!("  {mark} {}: {}", c.title, c.detail);
        if let (Some(fix), Outcome::Fail | Outcome::Warn) = (&c.fix, c.outcome) {
            let how = hints::for_check(c.id).map(|h| format!(" {h}")).unwrap_or_default();
            println!("         Fix: {fix}{how}");
        }
    }
    println!("{}", report.headline);
    if !report.passed() {
        eprintln!("countersign: {}", report.headline);
    }
}

pub fn inspect(a: InspectArgs) -> Result<u8, Failure> {
    let info = archive::inspect(&a.artifact).map_err(Failure::bad_input)?;
    if a.json {
        print_json(&serde_json::json!({
            "ok": true,
            "file_name": info.file_name,
            "size": info.size,
            "kind": info.kind,
            "plugin_key": info.plugin_key(),
            "name": info.name(),
            "version": info.version(),
            "vendor": info.vendor(),
            "is_atlassian_app": info.is_atlassian_app(),
            "entries": info.entries,
            "main_jar": info.main_jar,
            "descriptor": info.descriptor,
            "manifest": info.manifest,
            "warnings": info.warnings,
        }));
    } else {
        println!(
            "{} ({:?}, {}, {} entries)",
            info.file_name,
            info.kind,
            countersign::progress::human_size(info.size),
            info.entries
        );
        let show = |label: &str, v: Option<&str>| println!("  {label:<12} {}", v.unwrap_or("-"));
        show("Plugin key:", info.plugin_key());
        show("Name:", info.name());
        show("Version:", info.version());
        show("Vendor:", info.vendor());
        if let Some(j) = &info.main_jar {
            show("Main jar:", Some(j));
        }
        for w in &info.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(0)
}
