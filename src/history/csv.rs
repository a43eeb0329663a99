//! The history as CSV for a spreadsheet: quoting, and a guard against fields a spreadsheet
//! would run as formulas. Apart, because it is an export format and not the history's own.

use std::path::Path;

use super::{Entry, HistoryError};
use crate::atomic::WriteError;

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 16] = [
    "time",
    "file",
    "plugin_key",
    "app_name",
    "version",
    "size",
    "sha256",
    "key_name",
    "key_fingerprint",
    "algorithm",
    "note",
    "bundle_dir",
    "artifact_path",
    "files",
    "signature_base64",
    "override_compromised",
];

/// The entries as CSV (RFC 4180: CRLF line ends, a header row, fields with a comma, quote,
/// CR or LF quoted). A field a spreadsheet would take for a formula (starting with `=`,
/// `+`, `-`, `@`, tab or CR) gets a leading `'`; that includes a Base64 signature that
/// starts with `+`. The written files' names are joined with `; `; a missing value is empty;
/// `override_compromised` is `true` or `false`.
pub fn to_csv<E: std::borrow::Borrow<Entry>>(entries: &[E]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_HEADER.iter().map(|h| h.to_string()));
    for e in entries {
        let e: &Entry = e.borrow();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        push_row(
            &mut out,
            [
                e.time.clone(),
                e.file.clone(),
                opt(&e.plugin_key),
                opt(&e.app_name),
                opt(&e.version),
                e.size.to_string(),
                e.sha256.clone(),
                opt(&e.key_name),
                e.key_fingerprint.clone(),
                e.algorithm.clone(),
                opt(&e.note),
                e.bundle_dir.clone(),
                e.artifact_path.clone(),
                e.files.join("; "),
                e.signature_base64.clone(),
                e.override_compromised.to_string(),
            ],
        );
    }
    out
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&field));
    }
    out.push_str("\r\n");
}

pub(super) fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Writes the entries as CSV (see [`to_csv`]) to `path`, whole or not at all. An existing
/// file is replaced only when `overwrite`.
pub fn export_csv<E: std::borrow::Borrow<Entry>>(
    entries: &[E],
    path: &Path,
    overwrite: bool,
) -> Result<(), HistoryError> {
    crate::atomic::write_file(path, to_csv(entries).as_bytes(), overwrite).map_err(|e| match e {
        WriteError::AlreadyExists(p) => HistoryError::ExportExists(p),
        other => HistoryError::Write(other),
    })
}
