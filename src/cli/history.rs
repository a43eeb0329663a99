//! `countersign history ...`: the record of signings on the command line.

use super::{Failure, HistoryArgs, print_json};
use countersign::history::{self, Entry, History};
use countersign::keystore::KeyStore;

pub fn run(a: HistoryArgs) -> Result<u8, Failure> {
    let history = History::open_default()?;
    let loaded = history.load()?;
    if loaded.skipped_lines > 0 {
        eprintln!(
            "warning: {} {} in {} could not be read (an interrupted write, or damage) and {} skipped; the other entries are complete.",
            loaded.skipped_lines,
            if loaded.skipped_lines == 1 { "line" } else { "lines" },
            history.path().display(),
            if loaded.skipped_lines == 1 { "was" } else { "were" },
        );
    }
    let total = loaded.entries.len();
    let query = a.search.join(" ");
    let since = a.since.as_deref().map(history::parse_day).transpose()?;
    // Newest first: the file is in the order the signings were recorded.
    let newest_first: Vec<Entry> = loaded.entries.into_iter().rev().collect();
    if let Some(name) = &a.key {
        let fingerprints = key_fingerprints(name, &newest_first)?;
        let shown: Vec<&Entry> = history::signed_with(&newest_first, &fingerprints, since)
            .into_iter()
            .filter(|e| history::matches(e, &query))
            .collect();
        if let Some(new) = &a.resign_with {
            return resign(&a, new, &shown, &newest_first, history);
        }
        return by_key(&a, name, &fingerprints, &shown, &history);
    }
    let shown: Vec<Entry> = newest_first
        .into_iter()
        .filter(|e| history::matches(e, &query))
        .filter(|e| since.is_none_or(|day| history::signed_since(e, day)))
        .collect();

    export_csv(&a, &shown, "")?;
    if a.json {
        print_json(&serde_json::json!({
            "ok": true,
            "history": history.path(),
            "total": total,
            "skipped_lines": loaded.skipped_lines,
            "csv": a.csv,
            "entries": shown,
        }));
    } else if a.csv.is_none() {
        print_list(&shown, total, &query, &history);
    }
    Ok(0)
}

/// The public keys `--key NAME` stands for: the stored key of that name, every key the
/// history recorded under that name (renamed or deleted since), or a fingerprint itself.
fn key_fingerprints(name: &str, entries: &[Entry]) -> Result<Vec<String>, Failure> {
    // The key list is only read: a machine without a keychain still answers from the history.
    let stored = KeyStore::open_default().ok().and_then(|s| s.get(name).ok()).map(|r| r.fingerprint);
    let mut fingerprints = history::fingerprints_for(stored.as_deref(), entries, name);
    if fingerprints.is_empty() && name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        fingerprints.push(name.to_ascii_lowercase());
    }
    if fingerprints.is_empty() {
        return Err(Failure::bad_input(format!(
            "No key named \"{name}\" is stored, and the history records no signing under that name. `countersign keys list` shows the stored keys; a public key SHA-256 (64 hex digits) works too."
        )));
    }
    Ok(fingerprints)
}

/// `--csv FILE`: writes `shown` there (never over a file) and, unless `--json`, says so;
/// `what` follows "signings" in that sentence.
fn export_csv<E: std::borrow::Borrow<Entry>>(
    a: &HistoryArgs,
    shown: &[E],
    what: &str,
) -> Result<(), Failure> {
    let Some(path) = &a.csv else { return Ok(()) };
    history::export_csv(shown, path, false)?;
    if !a.json {
        println!(
            "Wrote {} {}{what} to {}.",
            shown.len(),
            plural(shown.len(), "signing", "signings"),
            path.display()
        );
    }
    Ok(())
}

/// `history --key NAME`: the key's signings grouped by note, listed, as JSON, or as CSV.
fn by_key(
    a: &HistoryArgs,
    name: &str,
    fingerprints: &[String],
    shown: &[&Entry],
    history: &History,
) -> Result<u8, Failure> {
    let groups = history::by_note(shown);
    export_csv(a, shown, &format!(" with key \"{name}\""))?;
    if a.json {
        print_json(&serde_json::json!({
            "ok": true,
            "history": history.path(),
            "key": name,
            "fingerprints": fingerprints,
            "since": a.since,
            "csv": a.csv,
            "total": shown.len(),
            "groups": groups,
        }));
        return Ok(0);
    }
    if a.csv.is_some() {
        return Ok(0);
    }
    let since = a.since.as_deref().map(|d| format!(" since {d}")).unwrap_or_default();
    let keys = fingerprints.iter().map(|f| countersign::hex::short(f)).collect::<Vec<_>>().join(", ");
    if shown.is_empty() {
        println!("No signing with key \"{name}\" (public key {keys}){since} is recorded.");
        return Ok(0);
    }
    println!(
        "{} {} with key \"{name}\" (public key {keys}){since}, for {} {}:",
        shown.len(),
        plural(shown.len(), "signing", "signings"),
        groups.len(),
        plural(groups.len(), "note", "different notes"),
    );
    for g in &groups {
        println!();
        let note = g.note.as_deref().map(one_line).unwrap_or_else(|| "(no note)".into());
        println!("{note}: {} {}", g.entries.len(), plural(g.entries.len(), "signing", "signings"));
        for e in &g.entries {
            let app = match (&e.app_name, &e.plugin_key) {
                (Some(n), Some(k)) => format!("{n} ({k})"),
                (None, Some(k)) => k.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => "not an Atlassian app".into(),
            };
            let version = e.version.as_deref().unwrap_or("no version");
            println!("  {}  {}  {app} {version}", e.time, e.file);
            println!("      sha256 {}", e.sha256);
            println!("      bundle: {}", e.bundle_dir);
            if e.override_compromised {
                println!("      signed after the key was marked compromised (forced)");
            }
        }
    }
    Ok(0)
}

fn one_line(note: &str) -> String {
    note.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn print_list(shown: &[Entry], total: usize, query: &str, history: &History) {
    if total == 0 {
        println!("No signings recorded yet (the history is kept in {}).", history.path().display());
        return;
    }
    if shown.is_empty() {
        println!("No signing matches \"{query}\" ({total} recorded).");
        return;
    }
    for e in shown {
        let app = match (&e.plugin_key, &e.version) {
            (Some(k), Some(v)) => format!("{k} {v}"),
            (Some(k), None) => k.clone(),
            _ => "not an Atlassian app".into(),
        };
        println!("{}  {}  ({app})  sha256 {}", e.time, e.file, countersign::hex::short(&e.sha256));
        let key = match &e.key_name {
            Some(name) => format!("key \"{name}\""),
            None => "a key file".into(),
        };
        println!(
            "    signed with {key} ({}, public key {})",
            e.algorithm,
            countersign::hex::short(&e.key_fingerprint)
        );
        if let Some(note) = &e.note {
            println!("    note: {}", one_line(note));
        }
        if e.override_compromised {
            println!("    signed after the key was marked compromised (forced)");
        }
        println!("    bundle: {}", e.bundle_dir);
    }
    if shown.len() < total {
        println!("{} of {total} signings match \"{query}\".", shown.len());
    } else {
        println!("{total} {}.", plural(total, "signing", "signings"));
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `history --key OLD --resign-with NEW`: signs the listed apps again with NEW, and says what
/// could not be (moved, changed, unreadable). Exit status 1 when anything was left out.
fn resign(
    a: &HistoryArgs,
    new: &str,
    shown: &[&Entry],
    all: &[Entry],
    history: History,
) -> Result<u8, Failure> {
    use countersign::resign::{self, Outcome};
    let signer = countersign::signer::Signer::stored(KeyStore::open_default()?, new)?;
    // A second run (after one that was cancelled or partly failed) signs only what is left.
    let (candidates, already) = resign::split_already_resigned(
        resign::candidates(shown),
        all,
        &signer.key().public_key().fingerprint(),
    );
    let progress: Vec<countersign::progress::Progress> =
        candidates.iter().map(|_| countersign::progress::Progress::new()).collect();
    let done = resign::resign(&signer, &candidates, &Ok(history), time::OffsetDateTime::now_utc(), &progress);
    let reports = resign::report(&candidates, &done);
    let left_out = reports.iter().filter(|r| !matches!(r.outcome, Outcome::Signed { .. })).count();
    let results: Vec<(&countersign::resign::Report, &str, String)> =
        reports.iter().map(|r| (r, r.outcome.state(), r.outcome.detail())).collect();
    if a.json {
        print_json(&serde_json::json!({
            "ok": left_out == 0,
            "resigned_with": new,
            "results": results.iter().map(|(c, state, detail)| serde_json::json!({
                "artifact": c.entry.artifact_path,
                "sha256": c.entry.sha256,
                "note": c.entry.note,
                "old_bundle": c.entry.bundle_dir,
                "state": state,
                "detail": detail,
            })).collect::<Vec<_>>(),
            "already_signed_again": already.iter().map(|c| serde_json::json!({
                "artifact": c.entry.artifact_path,
                "sha256": c.entry.sha256,
                "note": c.entry.note,
            })).collect::<Vec<_>>(),
        }));
    } else {
        for c in &already {
            let note = c.entry.note.as_deref().map(|n| format!(" (for {})", one_line(n))).unwrap_or_default();
            println!("already signed again with \"{new}\": {}{note}", c.entry.artifact_path);
        }
        for (c, state, detail) in &results {
            let note = c.entry.note.as_deref().map(|n| format!(" (for {})", one_line(n))).unwrap_or_default();
            match *state {
                "signed" => println!("signed again: {}{note} -> {detail}", c.entry.artifact_path),
                _ => println!("NOT signed ({state}): {}{note}: {detail}", c.entry.artifact_path),
            }
        }
        let signed = results.len() - left_out;
        println!(
            "{signed} of {} {} signed again with key \"{new}\".{}",
            results.len(),
            plural(results.len(), "app", "apps"),
            if left_out > 0 {
                format!(
                    " Find the others (moved, or rebuilt since) and sign them with `countersign sign --key {new}`."
                )
            } else {
                String::new()
            }
        );
    }
    Ok(if left_out == 0 { 0 } else { 1 })
}
