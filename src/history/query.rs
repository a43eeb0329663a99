//! Finding signings in the history: the search box's terms, signings since a day, by a key
//! (by fingerprint, whatever its name is now), and grouped by note. Apart from reading and
//! appending the file, these only look at entries already loaded.

use serde::Serialize;

use super::{Entry, HistoryError};

/// True when every whitespace-separated term of `query` occurs, ignoring case, in one of
/// the entry's file name, plugin key, app name, version, SHA-256, key name, key
/// fingerprint, note, bundle folder or time. An empty query matches everything.
pub fn matches(entry: &Entry, query: &str) -> bool {
    let fields: Vec<String> = [
        Some(entry.file.as_str()),
        entry.plugin_key.as_deref(),
        entry.app_name.as_deref(),
        entry.version.as_deref(),
        Some(entry.sha256.as_str()),
        entry.key_name.as_deref(),
        Some(entry.key_fingerprint.as_str()),
        entry.note.as_deref(),
        Some(entry.bundle_dir.as_str()),
        Some(entry.time.as_str()),
    ]
    .into_iter()
    .flatten()
    .map(str::to_lowercase)
    .collect();
    query.split_whitespace().map(str::to_lowercase).all(|term| fields.iter().any(|f| f.contains(&term)))
}

/// Reads a day written `YYYY-MM-DD` (as `--since` and the window take it).
pub fn parse_day(text: &str) -> Result<time::Date, HistoryError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).map_err(|_| HistoryError::BadDay(text.to_owned()))
}

/// True when the entry was signed on `day` or later (in UTC, as the history records times).
/// An entry whose time does not read as RFC 3339 counts as signed then: a list of who must
/// hear about a key had better hold one signing too many than miss one.
pub fn signed_since(entry: &Entry, day: time::Date) -> bool {
    time::OffsetDateTime::parse(&entry.time, &time::format_description::well_known::Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC).date() >= day)
        .unwrap_or(true)
}

/// The public key fingerprints the history records for signings by the stored key named
/// `name` (exactly), in the order first seen: a key renamed since, deleted or restored under
/// that name is still found by these.
pub fn fingerprints_named(entries: &[Entry], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries.iter().filter(|e| e.key_name.as_deref() == Some(name)) {
        let fingerprint = e.key_fingerprint.to_ascii_lowercase();
        if !out.contains(&fingerprint) {
            out.push(fingerprint);
        }
    }
    out
}

/// The fingerprints that stand for the key named `name`: the stored key's (`stored`, when a
/// key of that name is stored), then every other one the history recorded under that name.
pub fn fingerprints_for(stored: Option<&str>, entries: &[Entry], name: &str) -> Vec<String> {
    let mut out: Vec<String> = stored.map(str::to_ascii_lowercase).into_iter().collect();
    for f in fingerprints_named(entries, name) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Every entry signed by a key with one of `fingerprints` (SHA-256 of the public key, hex in
/// any case), on `since` or later when given, in the order of `entries`. By fingerprint, not
/// by name: a key renamed after it signed still matches, and a key file's signings too.
pub fn signed_with<'a>(
    entries: &'a [Entry],
    fingerprints: &[String],
    since: Option<time::Date>,
) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| fingerprints.iter().any(|f| f.eq_ignore_ascii_case(&e.key_fingerprint)))
        .filter(|e| since.is_none_or(|day| signed_since(e, day)))
        .collect()
}

/// Signings with the same note: in a compromise, the customers who must hear of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteGroup<'a> {
    /// The note, trimmed; `None` for signings without one.
    pub note: Option<String>,
    /// The group's entries, in the order given.
    pub entries: Vec<&'a Entry>,
}

/// `entries` grouped by their note (trimmed; no note and an empty one are one group), the
/// groups in the order of their first entry, each group's entries in the order given.
pub fn by_note<'a>(entries: &[&'a Entry]) -> Vec<NoteGroup<'a>> {
    let mut groups: Vec<NoteGroup<'a>> = Vec::new();
    for &e in entries {
        let note = e.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        match groups.iter_mut().find(|g| g.note == note) {
            Some(g) => g.entries.push(e),
            None => groups.push(NoteGroup { note, entries: vec![e] }),
        }
    }
    groups
}
