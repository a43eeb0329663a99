//! The history of signings: one JSON line per signed artifact, appended to `history.jsonl`
//! in the data folder and never rewritten.
//!
//! Each record is a single `write_all` of one line under an exclusive lock on the file,
//! then flushed to disk, so two processes (the window and a command line) cannot interleave
//! their lines. A crash in the middle of an append can still leave a torn last line; reading
//! skips lines that do not parse and says how many, and the next record starts on a fresh
//! line, so one torn line never costs more than itself.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::WriteError;
use crate::bundle::SignedBundle;

mod csv;
mod query;

pub use csv::{CSV_HEADER, export_csv, to_csv};
pub use query::{
    NoteGroup, by_note, fingerprints_for, fingerprints_named, matches, parse_day, signed_since, signed_with,
};
/// The history's file name in the data folder.
pub const FILE_NAME: &str = "history.jsonl";
/// The largest history read (about a million signings); a larger one is refused.
pub const MAX_HISTORY_BYTES: u64 = 256 << 20;

/// Why the history could not be found, added to, read or exported.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Neither `COUNTERSIGN_HOME` nor the platform names a data folder for this user.
    #[error(
        "No data folder could be found for this user. Set COUNTERSIGN_HOME to a folder for Countersign's signing history."
    )]
    NoHome,
    /// An entry could not be appended: the folder or file could not be made, locked or written.
    #[error("Could not add to the signing history {}: {source}. Check that the data folder is writable, or set COUNTERSIGN_HOME to another folder.", .path.display())]
    Record {
        /// The history file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The history file exists but could not be read, or is a folder.
    #[error("Could not read the signing history {}: {source}. Check that the file is readable, or set COUNTERSIGN_HOME to another folder.", .path.display())]
    Read {
        /// The history file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The history file is larger than [`MAX_HISTORY_BYTES`].
    #[error("The signing history {} is larger than {} MiB, more than Countersign reads. Move it away to keep it as an archive; Countersign then starts a new one.", .path.display(), MAX_HISTORY_BYTES >> 20)]
    TooLarge {
        /// The history file.
        path: PathBuf,
    },
    /// The CSV export's file exists already and replacing it was not asked for.
    #[error("{} already exists. Countersign does not replace it: choose another file name for the export, or move the existing file away.", .0.display())]
    ExportExists(PathBuf),
    /// The CSV export could not be written.
    #[error(transparent)]
    Write(WriteError),
    /// A day to filter by is not a date of the form `YYYY-MM-DD`.
    #[error("\"{0}\" is not a day Countersign reads: write it as YYYY-MM-DD, for example 2026-03-01.")]
    BadDay(String),
}

/// One signing, as the history keeps it. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was signed: RFC 3339, UTC.
    pub time: String,
    /// The artifact's file name.
    pub file: String,
    /// The artifact's full path at the time of signing.
    pub artifact_path: String,
    /// The app's plugin key, as in the bundle's manifest; `None` when it has none.
    pub plugin_key: Option<String>,
    /// The app's display name, as in the bundle's manifest; `None` when it has none.
    pub app_name: Option<String>,
    /// The app's version, as in the bundle's manifest; `None` when it has none.
    pub version: Option<String>,
    /// The artifact's size in bytes.
    pub size: u64,
    /// SHA-256 of the artifact, lower-case hex.
    pub sha256: String,
    /// The stored key's name; `None` when signed with a key file.
    pub key_name: Option<String>,
    /// SHA-256 of the signer's public key, lower-case hex.
    pub key_fingerprint: String,
    /// `Ed25519` or `ECDSA-P384-SHA384`.
    pub algorithm: String,
    /// The note for the customer recorded in the bundle; `None` when there was none.
    pub note: Option<String>,
    /// The folder the bundle was written to.
    pub bundle_dir: String,
    /// The names of the files written there.
    #[serde(default)]
    pub files: Vec<String>,
    /// The signature, as in the `.sig` file.
    pub signature_base64: String,
    /// The key was marked compromised, and signed only because the person said explicitly
    /// that they know. Entries written before this existed read as `false`.
    #[serde(default)]
    pub override_compromised: bool,
}

impl Entry {
    /// The entry for a bundle just written; `key_name` is the stored key it was signed with.
    pub fn from_signed(signed: &SignedBundle, key_name: Option<&str>) -> Entry {
        let m = &signed.manifest;
        Entry {
            time: m.signed_at.clone(),
            file: m.artifact.file_name.clone(),
            artifact_path: full_path(&signed.app.path),
            plugin_key: m.artifact.plugin_key.clone(),
            app_name: m.artifact.name.clone(),
            version: m.artifact.version.clone(),
            size: m.artifact.size,
            sha256: m.artifact.sha256.clone(),
            key_name: key_name.map(str::to_owned),
            key_fingerprint: m.public_key_sha256.clone(),
            algorithm: m.algorithm.clone(),
            note: m.note.clone(),
            bundle_dir: full_path(&signed.dir),
            files: signed
                .files
                .iter()
                .filter_map(|f| f.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
            signature_base64: signed.signature_base64.clone(),
            override_compromised: false,
        }
    }
}

/// A path made absolute against the current folder, so that it still means something when
/// read later from elsewhere (symbolic links are kept as given).
fn full_path(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

/// What [`History::load`] found: the entries, oldest first, and how many lines it could not
/// read (a torn line from an interrupted write, or damage), which it skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// The entries that could be read, oldest first.
    pub entries: Vec<Entry>,
    /// How many non-empty lines did not parse as an entry.
    pub skipped_lines: usize,
}

/// The history file.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
}

impl History {
    /// The history in the data folder `home` (see [`crate::keystore::default_home`]).
    pub fn in_home(home: &Path) -> Self {
        History { path: home.join(FILE_NAME) }
    }

    /// The user's history, in the default data folder.
    pub fn open_default() -> Result<Self, HistoryError> {
        let home = crate::keystore::default_home().map_err(|_| HistoryError::NoHome)?;
        Ok(Self::in_home(&home))
    }

    /// The history file's path (which need not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry as one line, under an exclusive lock, flushed to disk.
    pub fn record(&self, entry: &Entry) -> Result<(), HistoryError> {
        let err = |source| HistoryError::Record { path: self.path.clone(), source };
        let mut line = serde_json::to_vec(entry).map_err(|e| err(io::Error::other(e)))?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut options = File::options();
        options.read(true).append(true).create(true);
        // Who got what is the signer's business: a new history is the owner's alone, as the
        // key list is.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(err)?;
        #[cfg(unix)]
        {
            // Also a history an earlier version left readable by others, or one made under
            // a umask that took the owner's own bits away. Failing only weakens privacy.
            use std::os::unix::fs::PermissionsExt;
            if file.metadata().map(|m| m.permissions().mode() & 0o777 != 0o600).unwrap_or(false) {
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
            }
        }
        file.lock().map_err(err)?;
        // A torn last line (no newline) would swallow this entry too: start a fresh line.
        if !ends_with_newline(&mut file).map_err(err)? {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(err)?;
        file.sync_data().map_err(err)?;
        Ok(())
    }

    /// All entries, oldest first. A missing file is an empty history; lines that do not
    /// parse are skipped and counted.
    pub fn load(&self) -> Result<Loaded, HistoryError> {
        let err = |source| HistoryError::Read { path: self.path.clone(), source };
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(err(e)),
        };
        if file.metadata().map_err(err)?.is_dir() {
            return Err(err(io::Error::new(io::ErrorKind::IsADirectory, "it is a folder, not a file")));
        }
        // A shared lock keeps out a half-written line of a concurrent record; where locks
        // are not supported, a line caught half-written is skipped like a torn one.
        let _ = file.lock_shared();
        let mut bytes = Vec::new();
        (&file).take(MAX_HISTORY_BYTES + 1).read_to_end(&mut bytes).map_err(err)?;
        if bytes.len() as u64 > MAX_HISTORY_BYTES {
            return Err(HistoryError::TooLarge { path: self.path.clone() });
        }
        Ok(parse(&bytes))
    }
}

fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

fn parse(bytes: &[u8]) -> Loaded {
    let mut loaded = Loaded::default();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Entry>(line) {
            Ok(e) => loaded.entries.push(e),
            Err(_) => loaded.skipped_lines += 1,
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::csv::csv_field;
    use super::*;

    fn entry(file: &str, note: Option<&str>) -> Entry {
        Entry {
            time: "2026-03-01T10:00:00Z".into(),
            file: file.into(),
            artifact_path: format!("/builds/{file}"),
            plugin_key: Some("com.acme.tools".into()),
            app_name: Some("Acme Tools".into()),
            version: Some("4.2.0".into()),
            size: 1234,
            sha256: "ab".repeat(32),
            key_name: Some("acme-2026".into()),
            key_fingerprint: "cd".repeat(32),
            algorithm: "Ed25519".into(),
            note: note.map(str::to_owned),
            bundle_dir: "/builds/out".into(),
            files: vec![format!("{file}.sig"), "INSTALL.md".into(), "manifest.json".into()],
            signature_base64: "+sig/AAA==".into(),
            override_compromised: false,
        }
    }

    #[test]
    fn entries_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::in_home(&dir.path().join("new-home"));
        assert_eq!(history.load().unwrap(), Loaded::default());
        let a = entry("a-1.0.jar", Some("for Globex, SUP-1"));
        let b = entry("b-2.0.jar", None);
        history.record(&a).unwrap();
        history.record(&b).unwrap();
        assert_eq!(history.load().unwrap(), Loaded { entries: vec![a, b], skipped_lines: 0 });
        let text = std::fs::read_to_string(history.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn a_torn_line_is_skipped_and_the_next_record_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::in_home(dir.path());
        let a = entry("a.jar", None);
        history.record(&a).unwrap();
        let mut f = File::options().append(true).open(history.path()).unwrap();
        f.write_all(br#"{"time":"2026-03-01T11:00:00Z","file":"torn"#).unwrap();
        drop(f);
        assert_eq!(history.load().unwrap(), Loaded { entries: vec![a.clone()], skipped_lines: 1 });
        let b = entry("b.jar", None);
        history.record(&b).unwrap();
        assert_eq!(history.load().unwrap(), Loaded { entries: vec![a, b], skipped_lines: 1 });
    }

    #[test]
    fn search_needs_every_term_somewhere_ignoring_case() {
        let e = entry("tools-4.2.0.jar", Some("For Globex, SUP-1234"));
        for yes in [
            "",
            "  ",
            "globex",
            "GLOBEX sup-1234",
            "tools 4.2.0",
            "acme-2026",
            "ABAB",
            "cdcd",
            "/builds/out",
            "2026-03",
        ] {
            assert!(matches(&e, yes), "{yes:?}");
        }
        for no in ["initech", "globex initech", "Ed25519", "+sig"] {
            assert!(!matches(&e, no), "{no:?}");
        }
        let bare = Entry { plugin_key: None, app_name: None, version: None, key_name: None, note: None, ..e };
        assert!(!matches(&bare, "acme"));
    }

    #[test]
    fn csv_quotes_and_guards_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for f in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert_eq!(csv_field(f), format!("'{f}"));
        }
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("a=b"), "a=b");

        let csv = to_csv(&[entry("a.jar", Some("=cmd|' /C calc'!A0, really")), entry("b.jar", None)]);
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert!(
            rows[1].starts_with("2026-03-01T10:00:00Z,a.jar,com.acme.tools,Acme Tools,4.2.0,1234,"),
            "{}",
            rows[1]
        );
        assert!(rows[1].contains(",\"'=cmd|' /C calc'!A0, really\","), "{}", rows[1]);
        assert!(rows[1].ends_with(",a.jar.sig; INSTALL.md; manifest.json,'+sig/AAA==,false"), "{}", rows[1]);
        assert!(rows[2].contains(",Ed25519,,/builds/out,"), "{}", rows[2]);
        assert_eq!(rows[3], "");
    }

    #[test]
    fn export_refuses_an_existing_file_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        std::fs::write(&path, "mine").unwrap();
        let err = export_csv(&[entry("a.jar", None)], &path, false).unwrap_err();
        assert!(matches!(err, HistoryError::ExportExists(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        export_csv(&[entry("a.jar", None)], &path, true).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("time,file,"));
    }

    #[test]
    fn signings_by_a_key_are_found_by_fingerprint_since_a_day_and_grouped_by_note() {
        let at = |time: &str, file: &str, fingerprint: &str, name: Option<&str>, note: Option<&str>| Entry {
            time: time.into(),
            key_fingerprint: fingerprint.into(),
            key_name: name.map(str::to_owned),
            ..entry(file, note)
        };
        let (old, other) = ("aa".repeat(32), "bb".repeat(32));
        let entries = vec![
            at("2026-01-05T10:00:00Z", "a.jar", &old, Some("acme"), Some("Globex")),
            at("2026-02-01T10:00:00Z", "b.jar", &other, Some("acme"), Some("Globex")),
            at("2026-02-10T10:00:00Z", "c.jar", &old.to_uppercase(), Some("acme-renamed"), Some(" Initech ")),
            at("2026-03-01T00:00:00Z", "d.jar", &old, None, Some("Globex")),
            at("2026-03-02T23:59:59Z", "e.jar", &old, Some("acme"), None),
            at("garbled", "f.jar", &old, Some("acme"), Some("")),
        ];
        assert_eq!(fingerprints_named(&entries, "acme"), vec![old.clone(), other.clone()]);
        assert!(fingerprints_named(&entries, "ACME").is_empty(), "names match exactly");
        let files = |v: &[&Entry]| v.iter().map(|e| e.file.clone()).collect::<Vec<_>>();
        let by_old = signed_with(&entries, std::slice::from_ref(&old), None);
        assert_eq!(files(&by_old), ["a.jar", "c.jar", "d.jar", "e.jar", "f.jar"]);
        let since = parse_day("2026-03-01").unwrap();
        // The day itself counts; a time that cannot be read counts too.
        assert_eq!(
            files(&signed_with(&entries, std::slice::from_ref(&old), Some(since))),
            ["d.jar", "e.jar", "f.jar"]
        );
        assert_eq!(files(&signed_with(&entries, &[other], Some(since))), Vec::<String>::new());

        let groups = by_note(&by_old);
        let summary: Vec<(Option<&str>, Vec<String>)> =
            groups.iter().map(|g| (g.note.as_deref(), files(&g.entries))).collect();
        assert_eq!(
            summary,
            [
                (Some("Globex"), vec!["a.jar".to_owned(), "d.jar".to_owned()]),
                (Some("Initech"), vec!["c.jar".to_owned()]),
                (None, vec!["e.jar".to_owned(), "f.jar".to_owned()]),
            ]
        );
    }

    #[test]
    fn days_read_as_year_month_day_only() {
        assert_eq!(parse_day("2026-03-01").unwrap(), time::macros::date!(2026 - 03 - 01));
        for bad in ["2026-3-1", "01/03/2026", "2026-02-30", "", "yesterday"] {
            let err = parse_day(bad).unwrap_err();
            assert!(matches!(err, HistoryError::BadDay(_)), "{bad}");
            assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
        }
    }

    #[test]
    fn entries_from_before_the_override_read_as_not_forced_and_csv_says_which() {
        let mut line = serde_json::to_value(entry("a.jar", None)).unwrap();
        assert_eq!(line["override_compromised"], false);
        line.as_object_mut().unwrap().remove("override_compromised");
        let old: Entry = serde_json::from_value(line).unwrap();
        assert!(!old.override_compromised);
        let forced = Entry { override_compromised: true, ..entry("b.jar", None) };
        let csv = to_csv(&[&old, &forced]);
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert!(rows[0].ends_with(",signature_base64,override_compromised"), "{}", rows[0]);
        assert!(rows[1].ends_with(",false") && rows[2].ends_with(",true"), "{csv}");
    }
}
