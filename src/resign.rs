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
    // Each file is read once, however many customers it was signed for.
    let mut looked: BTreeMap<(&str, &str), Found> = BTreeMap::new();
    let mut out = Vec::new();
    for e in entries {
        let key = (e.artifact_path.as_str(), e.sha256.as_str(), e.note.as_deref());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let found = looked
            .entry((e.artifact_path.as_str(), e.sha256.as_str()))
            .or_insert_with(|| look_at(Path::new(&e.artifact_path), &e.sha256))
            .clone();
        out.push(Candidate { entry: (*e).clone(), found });
    }
    out
}

/// Splits `candidates` into those still to sign and those already signed again with the key
/// of public key SHA-256 `new_fingerprint`: `entries` (the whole history) holds a signing of
/// the same file (SHA-256) for the same note by that key, so signing it once more would only
/// make another bundle (a second run after one that was cancelled or partly failed).
pub fn split_already_resigned(
    candidates: Vec<Candidate>,
    entries: &[Entry],
    new_fingerprint: &str,
) -> (Vec<Candidate>, Vec<Candidate>) {
    let note = |n: &Option<String>| n.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    candidates.into_iter().partition(|c| {
        !entries.iter().any(|e| {
            e.key_fingerprint.eq_ignore_ascii_case(new_fingerprint)
                && e.sha256 == c.entry.sha256
                && note(&e.note) == note(&c.entry.note)
        })
    })
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
///
/// `progress` has one handle per candidate, in the same order (those not signed are left
/// alone): each reports its file's hashing, and cancelling one stops that file.
pub fn resign<'a>(
    signer: &Signer,
    candidates: &'a [Candidate],
    history: &Result<History, HistoryError>,
    now: OffsetDateTime,
    progress: &[Progress],
) -> Vec<Resigned<'a>> {
    // One batch per (folder, note): a batch has one note and one place for its bundles.
    type Batch<'c> = Vec<(&'c Candidate, Progress)>;
    let mut groups: BTreeMap<(PathBuf, Option<String>), Batch> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate().filter(|(_, c)| c.found == Found::Unchanged) {
        let old = Path::new(&c.entry.bundle_dir);
        let base = old.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let handle = progress.get(i).cloned().unwrap_or_default();
        groups.entry((base, c.entry.note.clone())).or_default().push((c, handle));
    }
    let mut out = Vec::new();
    for ((base, note), group) in groups {
        let paths: Vec<PathBuf> = group.iter().map(|(c, _)| PathBuf::from(&c.entry.artifact_path)).collect();
        let handles: Vec<Progress> = group.iter().map(|(_, p)| p.clone()).collect();
        let options = SignOptions {
            layout: Layout::FolderEach(Some(base)),
            note,
            zip: false,
            existing: Existing::NextFree,
            now,
        };
        let results = signer::sign(signer, &paths, options, history, &handles, |_, _| {});
        out.extend(
            group.into_iter().zip(results).map(|((candidate, _), result)| Resigned { candidate, result }),
        );
    }
    out
}

/// What became of one candidate, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signed again into this new bundle.
    Signed {
        /// The new bundle's folder.
        bundle: PathBuf,
    },
    /// It was there unchanged, but signing failed (why).
    Failed(String),
    /// Nothing is at its recorded path any more.
    Missing,
    /// Another file is at its path (its SHA-256 now).
    Changed {
        /// The SHA-256 of what is there now.
        sha256: String,
    },
    /// It could not be read (why).
    Unreadable(String),
}

impl Outcome {
    /// One word for it, as `history --resign-with --json` writes it.
    pub fn state(&self) -> &'static str {
        match self {
            Outcome::Signed { .. } => "signed",
            Outcome::Failed(_) => "failed",
            Outcome::Missing => "missing",
            Outcome::Changed { .. } => "changed",
            Outcome::Unreadable(_) => "unreadable",
        }
    }

    /// What happened, in a sentence (the new bundle's folder when signed).
    pub fn detail(&self) -> String {
        match self {
            Outcome::Signed { bundle } => bundle.display().to_string(),
            Outcome::Failed(why) | Outcome::Unreadable(why) => why.clone(),
            Outcome::Missing => "nothing is at this path any more".to_owned(),
            Outcome::Changed { sha256 } => format!("another file is there now (SHA-256 {sha256})"),
        }
    }
}

/// One candidate and what became of it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The latest signing of it with the old key.
    pub entry: Entry,
    /// What became of it.
    pub outcome: Outcome,
}

/// Every candidate, in order, with what became of it in `done` (from [`resign`]).
pub fn report(candidates: &[Candidate], done: &[Resigned]) -> Vec<Report> {
    candidates
        .iter()
        .map(|c| {
            let signed = done.iter().find(|d| std::ptr::eq(d.candidate, c)).map(|d| &d.result);
            let outcome = match (&c.found, signed) {
                (Found::Unchanged, Some(Ok(s))) => Outcome::Signed { bundle: s.bundle.dir.clone() },
                (Found::Unchanged, Some(Err(e))) => Outcome::Failed(e.to_string()),
                (Found::Unchanged, None) => Outcome::Failed("it was not signed".to_owned()),
                (Found::Missing, _) => Outcome::Missing,
                (Found::Changed { sha256 }, _) => Outcome::Changed { sha256: sha256.clone() },
                (Found::Unreadable(why), _) => Outcome::Unreadable(why.clone()),
            };
            Report { entry: c.entry.clone(), outcome }
        })
        .collect()
}
