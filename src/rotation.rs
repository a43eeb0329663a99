//! How far the replacement of a key has gone, step by step, kept in the data folder so that
//! the person doing it (often under pressure, after a leak) can stop and pick it up again,
//! in another session or another window.
//!
//! The four steps are those of the README's "If your key is lost or stolen":
//! 1. the key is replaced ([`KeyStore::replace`](crate::keystore::KeyStore::replace)): read
//!    from the key index itself, never stored twice;
//! 2. the customers who got apps signed with it are known (reviewed, perhaps exported);
//! 3. their swap kit is made ([`crate::truststore::package_swap`]);
//! 4. what they have is signed again with the new key ([`crate::resign`]).
//!
//! Steps 2 to 4 are recorded here, per old key (by its keychain id, which a rename keeps).
//! Nothing secret is: counts, times, and the paths the person chose.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::keystore::KeyRecord;

/// The progress file in the data folder.
pub const FILE_NAME: &str = "replacements.json";
/// Held while the progress file is read and written again, so that two windows (or a window
/// and a script) cannot lose each other's step.
const LOCK_FILE: &str = "replacements.lock";
/// A progress file larger than this is not one Countersign wrote.
const MAX_BYTES: u64 = 4 << 20;

/// Why the progress of a replacement could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The file (or its lock) could not be opened, read or locked.
    #[error("Could not read or keep how far key replacements have got, in {}: {source}. Check that the data folder is readable and writable, or set COUNTERSIGN_HOME to another folder.", .path.display())]
    Read {
        /// The progress file or its lock.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is there but is not progress Countersign wrote.
    #[error("{} does not read as Countersign's record of key replacements ({reason}). Move it away: the steps then show as not done, and nothing else is lost.", .path.display())]
    Damaged {
        /// The progress file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
}

/// Step 2: the customers who must hear of the replacement were looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// When (whole seconds, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How many customers there were (distinct notes; "no note" counts as one).
    pub customers: usize,
    /// How many signings with the old key there were.
    pub signings: usize,
    /// The CSV the list was exported to, if it was.
    pub exported: Option<PathBuf>,
}

/// Step 3: the customers' swap kit was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitMade {
    /// When (whole seconds, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The kit's folder.
    pub folder: PathBuf,
}

/// Step 4: what the old key signed was signed again with the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resigned {
    /// When (whole seconds, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Apps signed again, each into a new bundle.
    pub signed: usize,
    /// Apps that were not where the history says.
    pub missing: usize,
    /// Apps whose file changed since (another SHA-256), or that could not be read.
    pub changed: usize,
    /// Apps whose signing failed.
    pub failed: usize,
}

/// Steps 2 to 4 of replacing one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    /// The old key's keychain id ([`KeyRecord::id`]).
    pub key_id: String,
    /// Step 2, when done.
    pub told: Option<Told>,
    /// Step 3, when done.
    pub kit: Option<KitMade>,
    /// Step 4, when done.
    pub resigned: Option<Resigned>,
}

/// One step of replacing a key, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A new key takes the old one's place; the old one is retired or marked compromised.
    Replace,
    /// The customers who got apps signed with the old key are known.
    Tell,
    /// Their swap kit is made.
    Kit,
    /// What they have is signed again with the new key.
    Resign,
}

impl Step {
    /// The four steps in the order they are taken.
    pub const ALL: [Step; 4] = [Step::Replace, Step::Tell, Step::Kit, Step::Resign];
}

impl Steps {
    /// Whether `step` is done for `old` (the old key's record, whose status says whether it
    /// was replaced).
    pub fn is_done(&self, old: &KeyRecord, step: Step) -> bool {
        match step {
            Step::Replace => old.status.replaced().is_some(),
            Step::Tell => self.told.is_some(),
            Step::Kit => self.kit.is_some(),
            Step::Resign => self.resigned.is_some(),
        }
    }

    /// How many of the four steps are done.
    pub fn done_count(&self, old: &KeyRecord) -> usize {
        Step::ALL.iter().filter(|s| self.is_done(old, **s)).count()
    }

    /// The first step not done yet; `None` when all four are.
    pub fn next(&self, old: &KeyRecord) -> Option<Step> {
        Step::ALL.into_iter().find(|s| !self.is_done(old, *s))
    }
}

/// The format of the progress file this version writes; a newer one is not rewritten, so
/// that what a newer Countersign recorded is not lost.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct FileContents {
    format_version: u32,
    replacements: Vec<Steps>,
}

impl Default for FileContents {
    fn default() -> Self {
        FileContents { format_version: FORMAT, replacements: Vec::new() }
    }
}

/// The progress of every key replacement, in the data folder.
#[derive(Debug, Clone)]
pub struct Replacements {
    home: PathBuf,
}

impl Replacements {
    /// The progress kept in the data folder `home`.
    pub fn in_home(home: &Path) -> Self {
        Replacements { home: home.to_path_buf() }
    }

    /// The progress file's path (which need not exist yet).
    pub fn path(&self) -> PathBuf {
        self.home.join(FILE_NAME)
    }

    /// The steps recorded for the key with keychain id `key_id` (none done when nothing is
    /// recorded).
    pub fn get(&self, key_id: &str) -> Result<Steps, RotationError> {
        let contents = self.read()?;
        Ok(contents
            .replacements
            .into_iter()
            .find(|s| s.key_id == key_id)
            .unwrap_or_else(|| Steps { key_id: key_id.to_owned(), ..Steps::default() }))
    }

    /// Changes the steps of key `key_id` with `change`, under a lock, and writes the file again
    /// whole (temporary file, then rename). Returns the steps as written.
    pub fn update(&self, key_id: &str, change: impl FnOnce(&mut Steps)) -> Result<Steps, RotationError> {
        std::fs::create_dir_all(&self.home)
            .map_err(|source| RotationError::Read { path: self.home.clone(), source })?;
        let lock_path = self.home.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| RotationError::Read { path: lock_path.clone(), source })?;
        lock.lock().map_err(|source| RotationError::Read { path: lock_path, source })?;
        let mut contents = self.read()?;
        let index = match contents.replacements.iter().position(|s| s.key_id == key_id) {
            Some(i) => i,
            None => {
                contents.replacements.push(Steps { key_id: key_id.to_owned(), ..Steps::default() });
                contents.replacements.len() - 1
            }
        };
        change(&mut contents.replacements[index]);
        contents.replacements[index].key_id = key_id.to_owned();
        let steps = contents.replacements[index].clone();
        let mut bytes = serde_json::to_vec_pretty(&contents)
            .map_err(|e| RotationError::Damaged { path: self.path(), reason: e.to_string() })?;
        bytes.push(b'\n');
        crate::atomic::write_owner_only(&self.path(), &bytes, true)?;
        Ok(steps)
    }

    fn read(&self) -> Result<FileContents, RotationError> {
        let path = self.path();
        let bytes = match crate::atomic::read_small(&path, MAX_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileContents::default()),
            // Larger than any file Countersign writes.
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(RotationError::Damaged { path, reason: e.to_string() });
            }
            Err(source) => return Err(RotationError::Read { path, source }),
        };
        let contents: FileContents = serde_json::from_slice(&bytes)
            .map_err(|e| RotationError::Damaged { path: path.clone(), reason: e.to_string() })?;
        if contents.format_version > FORMAT {
            return Err(RotationError::Damaged {
                path,
                reason: format!(
                    "it is format {}, newer than this Countersign reads; update Countersign",
                    contents.format_version
                ),
            });
        }
        Ok(contents)
    }
}

/// The current time without its fraction of a second, as the progress file keeps times.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000 + seconds).unwrap()
    }

    #[test]
    fn steps_are_kept_per_key_and_read_back_by_a_second_reader() {
        let dir = tempfile::tempdir().unwrap();
        let first = Replacements::in_home(dir.path());
        assert_eq!(first.get("k1").unwrap(), Steps { key_id: "k1".into(), ..Steps::default() });
        first
            .update("k1", |s| {
                s.told = Some(Told { at: at(0), customers: 2, signings: 3, exported: None });
            })
            .unwrap();
        first.update("k2", |s| s.kit = Some(KitMade { at: at(1), folder: dir.path().join("kit") })).unwrap();
        first
            .update("k1", |s| {
                s.resigned = Some(Resigned { at: at(2), signed: 1, missing: 1, changed: 1, failed: 0 });
            })
            .unwrap();

        // Another window, later: the same steps.
        let again = Replacements::in_home(dir.path());
        let k1 = again.get("k1").unwrap();
        assert_eq!(k1.told.as_ref().map(|t| (t.customers, t.signings)), Some((2, 3)));
        assert_eq!(k1.kit, None);
        assert_eq!(k1.resigned.as_ref().map(|r| r.signed), Some(1));
        assert_eq!(again.get("k2").unwrap().kit.map(|k| k.folder), Some(dir.path().join("kit")));
        // Nothing left beside it but the lock.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [FILE_NAME, LOCK_FILE]);
    }

    #[test]
    fn a_damaged_file_says_so_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let r = Replacements::in_home(dir.path());
        std::fs::write(r.path(), b"{ not json").unwrap();
        let e = r.get("k1").unwrap_err();
        assert!(matches!(e, RotationError::Damaged { .. }), "{e:?}");
        assert!(e.to_string().contains("Move it away"), "{e}");
        assert!(r.update("k1", |s| s.told = None).is_err());
        assert_eq!(std::fs::read(r.path()).unwrap(), b"{ not json");
    }

    #[test]
    fn a_newer_format_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let r = Replacements::in_home(dir.path());
        let newer = br#"{"format_version": 9, "replacements": [], "more": "from a newer Countersign"}"#;
        std::fs::write(r.path(), newer).unwrap();
        let e = r.update("k1", |s| s.told = None).unwrap_err();
        assert!(e.to_string().contains("newer than this Countersign reads"), "{e}");
        assert_eq!(std::fs::read(r.path()).unwrap(), newer);
        std::fs::write(r.path(), vec![b' '; usize::try_from(MAX_BYTES + 1).unwrap()]).unwrap();
        assert!(matches!(r.get("k1"), Err(RotationError::Damaged { .. })));
    }

    #[test]
    fn concurrent_updates_of_different_steps_all_land() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            for i in 0..8 {
                let r = Replacements::in_home(dir.path());
                s.spawn(move || {
                    r.update(&format!("k{i}"), |s| {
                        s.kit = Some(KitMade { at: at(i), folder: PathBuf::from(format!("kit{i}")) });
                    })
                    .unwrap();
                });
            }
        });
        let r = Replacements::in_home(dir.path());
        for i in 0..8 {
            assert_eq!(
                r.get(&format!("k{i}")).unwrap().kit.map(|k| k.folder),
                Some(PathBuf::from(format!("kit{i}")))
            );
        }
    }
}
