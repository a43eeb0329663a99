//! `countersign history ...`: the record of signings on the command line.

use super::{Failure, HistoryArgs, print_json};
use countersign::history::{self, Entry, History};

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
    // Newest first: the file is in the order the signings were recorded.
    let shown: Vec<Entry> =
        loaded.entries.into_iter().rev().filter(|e| history::matches(e, &query)).collect();

    if let Some(path) = &a.csv {
        history::export_csv(&shown, path, false)?;
        if !a.json {
            println!(
                "Wrote {} {} to {}.",
                shown.len(),
                plural(shown.len(), "signing", "signings"),
                path.display()
            );
        }
    }
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
            let one_line: String = note.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            println!("    note: {one_line}");
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
