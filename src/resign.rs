//! Signing again with a new key what an old key signed (after a key is replaced): from the
//! history, each artifact that is still where it was and still has its recorded SHA-256 goes
//! into a new bundle beside its old one; what moved or changed is listed, never guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::batch::{BatchError, Existing, Layout};
use crate::history::{Entry, History, HistoryError};
use crate::progress::Progress;
use crate::signer::{self, SignOptions, Signed, Signer};

/// What is at an artifact's recorded path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The same file: its SHA-256 is the one recorded.
    Unchanged,
    /// Nothing is there any more.
    Missing,
    /// Another file is there (its SHA-256 now).
    Changed {
        /// The SHA-256 of what is there now, lower-case hex.
        sha256: String,
    },
    /// It could not be read (why).
    Unreadable(String),
}

/// One artifact the old key signed, and what is at its path now.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The latest signing of it with the old key.
    pub entry: Entry,
    /// What is at its recorded path now.
    pub found: Found,
}

/// Looks at every artifact of `entries` once (the same file signed for several customers is
/// signed again once per note, not once per signing), newest entry first.
pub fn candidates(entries: &[&Entry]) -> Vec<Candidate> {
    let mut seen: Vec<(&str, &str, Option<&str>)> = Vec::new();
    let mut out = Vec::new();
    for e in entries {
        let key = (e.artifact_path.as_str(), e.sha256.as_str(), e.note.as_deref());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let found = look_at(Path::new(&e.artifact_path), &e.sha256);
        out.push(Candidate { entry: (*e).clone(), found });
    }
    out
}

fn look_at(path: &Path, recorded: &str) -> Found {
    if !path.is_file() {
        return Found::Missing;
    }
    match crate::signing::sha256_file(path, &Progress::new()) {
        Ok((sha, _)) => {
            let now = crate::hex::lower(&sha);
            if now == recorded { Found::Unchanged } else { Found::Changed { sha256: now } }
        }
        Err(e) => Found::Unreadable(e.to_string()),
    }
}

/// One artifact signed again: its candidate and the new bundle (or why not).
pub struct Resigned<'a> {
    /// What was signed again.
    pub candidate: &'a Candidate,
    /// Its new bundle, or why it could not be made.
    pub result: Result<Signed, BatchError>,
}

/// Signs every [`Found::Unchanged`] candidate with `signer`, each into a new bundle beside its
/// old one (`<name>-bundle-2` and so on next to `<name>-bundle`), with its old note, and
/// records each signing in `history`. Candidates that moved or changed are not touched.
pub fn resign<'a>(
    signer: &Signer,
    candidates: &'a [Candidate],
    history: &Result<History, HistoryError>,
    now: OffsetDateTime,
) -> Vec<Resigned<'a>> {
    // One batch per (folder, note): a batch has one note and one place for its bundles.
    let mut groups: BTreeMap<(PathBuf, Option<String>), Vec<&Candidate>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.found == Found::Unchanged) {
        let old = Path::new(&c.entry.bundle_dir);
        let base = old.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        groups.entry((base, c.entry.note.clone())).or_default().push(c);
    }
    let mut out = Vec::new();
    for ((base, note), group) in groups {
        let paths: Vec<PathBuf> = group.iter().map(|c| PathBuf::from(&c.entry.artifact_path)).collect();
        let progress: Vec<Progress> = group.iter().map(|_| Progress::new()).collect();
        let options = SignOptions {
            layout: Layout::FolderEach(Some(base)),
            note,
            zip: false,
            existing: Existing::NextFree,
            now,
        };
        let results = signer::sign(signer, &paths, options, history, &progress, |_, _| {});
        out.extend(group.into_iter().zip(results).map(|(candidate, result)| Resigned { candidate, result }));
    }
    out
}
