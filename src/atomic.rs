//! Files that appear whole or not at all.
//!
//! Every file the app writes is first written to a hidden temporary file in the target
//! folder, flushed to disk, and then renamed over its final name. A group of files (a
//! signature bundle) is staged completely before the first rename, so a failure while
//! writing leaves nothing behind, and the renames happen in the order given, so the file
//! that marks a group as complete can be written last.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Prefix of the temporary files, so a leftover from a killed process is recognisable.
pub const TEMP_PREFIX: &str = ".countersign-partial-";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{} already exists. Countersign never overwrites files silently: move it away, choose another output folder, or ask for overwriting explicitly (--overwrite).",
        .0.display()
    )]
    AlreadyExists(PathBuf),
    #[error("The output folder {} does not exist. Create it first or choose another one.", .0.display())]
    NoFolder(PathBuf),
    #[error("Countersign may not write into {}: permission denied. Choose a folder you can write to.", .0.display())]
    PermissionDenied(PathBuf),
    #[error("Could not write {}: {source}. Check free space and that the folder is writable; nothing was left behind.", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl WriteError {
    fn from_io(path: &Path, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                let folder = path.parent().unwrap_or(path).to_path_buf();
                WriteError::PermissionDenied(folder)
            }
            io::ErrorKind::AlreadyExists => WriteError::AlreadyExists(path.to_path_buf()),
            _ => WriteError::Io { path: path.to_path_buf(), source },
        }
    }
}

/// A group of files written together: all of them appear, or none does.
#[derive(Debug)]
pub struct StagedFiles {
    dir: PathBuf,
    staged: Vec<(PathBuf, NamedTempFile)>,
}

impl StagedFiles {
    /// Stages files for the folder `dir`, which must exist.
    pub fn new(dir: &Path) -> Result<Self, WriteError> {
        if !dir.is_dir() {
            return Err(WriteError::NoFolder(dir.to_path_buf()));
        }
        Ok(Self { dir: dir.to_path_buf(), staged: Vec::new() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The final paths, in the order they will be renamed into place.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.staged.iter().map(|(p, _)| p.as_path())
    }

    /// Stages a file named `name` in the folder with the given content.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
        self.add_with(name, |f| f.write_all(bytes))
    }

    /// Stages a file named `name` whose content `fill` writes.
    pub fn add_with(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<PathBuf, WriteError> {
        let path = self.dir.join(name);
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(|e| WriteError::from_io(&path, e))?;
        fill(temp.as_file_mut())
            .and_then(|()| temp.as_file_mut().flush())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| WriteError::from_io(&path, e))?;
        self.staged.push((path.clone(), temp));
        Ok(path)
    }

    /// Fails with [`WriteError::AlreadyExists`] for the first staged name already taken.
    pub fn check_free(&self) -> Result<(), WriteError> {
        check_free(self.paths())
    }

    /// Renames every staged file into place, in the order staged. Unless `overwrite`, an
    /// existing file is never replaced: the group is then rolled back and nothing remains.
    pub fn commit(self, overwrite: bool) -> Result<Vec<PathBuf>, WriteError> {
        if !overwrite {
            self.check_free()?;
        }
        let mut placed: Vec<PathBuf> = Vec::new();
        for (path, temp) in self.staged {
            let result = if overwrite {
                temp.persist(&path).map(drop)
            } else {
                temp.persist_noclobber(&path).map(drop)
            };
            if let Err(e) = result {
                for done in &placed {
                    let _ = std::fs::remove_file(done);
                }
                return Err(WriteError::from_io(&path, e.error));
            }
            placed.push(path);
        }
        sync_dir(&self.dir);
        Ok(placed)
    }
}

/// Fails for the first path that already exists.
pub fn check_free<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), WriteError> {
    for path in paths {
        if path.symlink_metadata().is_ok() {
            return Err(WriteError::AlreadyExists(path.to_path_buf()));
        }
    }
    Ok(())
}

/// Fails unless a file can be created in `dir` (checked by creating and removing a
/// temporary one), so that long work is not done only to fail at the end.
pub fn check_writable(dir: &Path) -> Result<(), WriteError> {
    if !dir.is_dir() {
        return Err(WriteError::NoFolder(dir.to_path_buf()));
    }
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| WriteError::from_io(&dir.join("x"), e))
}

/// Writes one file atomically; see [`StagedFiles`].
pub fn write_file(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    let (dir, name) = split(path)?;
    if !overwrite {
        check_free([path])?;
    }
    let mut staged = StagedFiles::new(&dir)?;
    staged.add_bytes(&name, bytes)?;
    staged.commit(overwrite).map(drop)
}

fn split(path: &Path) -> Result<(PathBuf, String), WriteError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| WriteError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Makes the renames themselves durable; failure only weakens durability, so it is ignored.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_group_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StagedFiles::new(dir.path()).unwrap();
        s.add_bytes("a.txt", b"A").unwrap();
        s.add_bytes("b.txt", b"B").unwrap();
        assert!(names(dir.path()).iter().all(|n| n.starts_with(TEMP_PREFIX)));
        s.commit(false).unwrap();
        assert_eq!(names(dir.path()), ["a.txt", "b.txt"]);
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"B");
    }

    #[test]
    fn an_existing_file_stops_the_whole_group_and_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), b"user's").unwrap();
        let mut s = StagedFiles::new(dir.path()).unwrap();
        s.add_bytes("a.txt", b"A").unwrap();
        s.add_bytes("b.txt", b"B").unwrap();
        let err = s.commit(false).unwrap_err();
        assert!(matches!(err, WriteError::AlreadyExists(ref p) if p.ends_with("b.txt")));
        assert_eq!(names(dir.path()), ["b.txt"]);
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"user's");
    }

    #[test]
    fn dropping_a_staged_group_removes_its_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StagedFiles::new(dir.path()).unwrap();
        s.add_bytes("a.txt", b"A").unwrap();
        drop(s);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn overwrite_replaces_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        write_file(&p, b"1", false).unwrap();
        assert!(matches!(write_file(&p, b"2", false), Err(WriteError::AlreadyExists(_))));
        write_file(&p, b"3", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"3");
        assert_eq!(names(dir.path()), ["x"]);
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = StagedFiles::new(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }
}
