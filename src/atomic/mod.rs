//! Files that appear whole or not at all.
//!
//! Every file the app writes is first written to a hidden temporary file in the target
//! folder, flushed to disk, and then renamed over its final name. A group of files (a
//! signature bundle) is staged completely before the first rename, so a failure while
//! writing leaves nothing behind, and the renames happen in the order given, so the file
//! that marks a group as complete can be written last.
//!
//! Who may read a file is decided when its temporary file is created ([`Access`]): a file
//! meant for others gets the mode any new file gets under the user's umask, a secret one
//! its owner alone.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

mod staged;

pub use staged::{Access, StagedFiles};

/// Prefix of the temporary files, so a leftover from a killed process is recognisable.
pub const TEMP_PREFIX: &str = ".countersign-partial-";

/// Why a file or a group of files could not be written; nothing is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and overwriting was not asked for.
    #[error(
        "{} already exists. Countersign never overwrites files silently: move it away, choose another output folder, or choose to replace it.",
        .0.display()
    )]
    AlreadyExists(PathBuf),
    /// The folder to write into does not exist (or is not a folder).
    #[error("The output folder {} does not exist. Create it first or choose another one.", .0.display())]
    NoFolder(PathBuf),
    /// The OS refused to write into the folder: no permission, or a read-only file system.
    #[error("Countersign may not write into {}: permission denied. Choose a folder you can write to.", .0.display())]
    PermissionDenied(PathBuf),
    /// The work was cancelled through its [`Progress`] while the file was being written.
    #[error("Cancelled; nothing was written.")]
    Cancelled,
    /// Any other I/O failure while creating, filling, syncing or renaming the file.
    #[error("Could not write {}: {source}. Check free space and that the folder is writable; nothing was left behind.", .path.display())]
    Io {
        /// The final path of the file being written.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

impl WriteError {
    /// The error for an I/O failure writing the file at `path`, told apart by kind (no
    /// permission, a file in the way, anything else).
    pub fn from_io(path: &Path, source: io::Error) -> Self {
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

/// The prefix of this process's temporary files: [`TEMP_PREFIX`], then the process id, so
/// that a later run can tell a dead process's leftovers from a live one's work.
pub fn temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// How old a leftover must be before it is cleared: a live writer touches its file far more
/// often, so this only guards against a process this one cannot see (another container).
const LEFTOVER_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(60);
/// Where it cannot be seen whether the writing process lives: no signing takes a day.
#[cfg(not(target_os = "linux"))]
const LEFTOVER_MIN_AGE_UNSEEN: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes temporary files in `dir` that a Countersign killed mid-write left behind (their
/// writer is gone and they are not fresh). They never looked like finished files, but a
/// killed signing of a large app leaves one as large as the app. Failures are ignored: this
/// only tidies.
pub fn sweep_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let age = meta.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
        let writer = rest.split_once('-').and_then(|(pid, _)| pid.parse::<u32>().ok());
        if writer_is_gone(writer, age) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(target_os = "linux")]
fn writer_is_gone(writer: Option<u32>, age: std::time::Duration) -> bool {
    let Some(pid) = writer else { return false };
    pid != std::process::id()
        && age >= LEFTOVER_MIN_AGE
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(not(target_os = "linux"))]
fn writer_is_gone(writer: Option<u32>, age: std::time::Duration) -> bool {
    writer.is_some_and(|pid| pid != std::process::id())
        && age >= LEFTOVER_MIN_AGE_UNSEEN.max(LEFTOVER_MIN_AGE)
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
        .prefix(&temp_prefix())
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| WriteError::from_io(&dir.join("x"), e))
}

/// Writes one file atomically, readable as [`Access::Shared`] says (a file for others);
/// see [`StagedFiles`].
pub fn write_file(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    write_file_with(path, bytes, overwrite, Access::Shared)
}

/// Writes one file atomically, readable by its owner alone ([`Access::OwnerOnly`]): a key
/// backup, the data folder's files.
pub fn write_owner_only(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    write_file_with(path, bytes, overwrite, Access::OwnerOnly)
}

fn write_file_with(path: &Path, bytes: &[u8], overwrite: bool, access: Access) -> Result<(), WriteError> {
    let (dir, name) = split(path)?;
    if !overwrite {
        check_free([path])?;
    }
    let mut staged = StagedFiles::with_access(&dir, access)?;
    staged.add_bytes(&name, bytes)?;
    staged.commit(overwrite).map(drop)
}

fn split(path: &Path) -> Result<(PathBuf, String), WriteError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| WriteError::Io {
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

/// The names a new file or folder may take in `dir` without replacing anything, in order:
/// `stem` + `ext`, then `stem-2` + `ext` up to `stem-999` + `ext`.
pub fn numbered_names<'a>(dir: &'a Path, stem: &'a str, ext: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
    (1..1000).map(move |n| match n {
        1 => dir.join(format!("{stem}{ext}")),
        n => dir.join(format!("{stem}-{n}{ext}")),
    })
}

/// The first of [`numbered_names`] that nothing exists at (the last one if all are taken,
/// which a write then refuses rather than replaces).
pub fn free_name(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut last = dir.join(format!("{stem}{ext}"));
    for path in numbered_names(dir, stem, ext) {
        if !path.exists() {
            return path;
        }
        last = path;
    }
    last
}

/// Reads a small file whole, refusing one larger than `limit` (no certificate, signature,
/// manifest or key index is large; a large one is not what it claims to be) and a folder.
pub fn read_small(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    if std::fs::metadata(path)?.is_dir() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a folder, not a file"));
    }
    let mut bytes = Vec::new();
    File::open(path)?.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("it is larger than {limit} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Progress;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Leftovers of a dead writer go; a live writer's file, a fresh one and anything not
    /// ours stay.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_killed_writers_leftovers_are_swept_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
        let make = |name: &str, modified: std::time::SystemTime| {
            let f = File::create(dir.path().join(name)).unwrap();
            f.set_modified(modified).unwrap();
        };
        let dead = 4_000_000_000u32; // above any Linux pid_max
        make(&format!("{TEMP_PREFIX}{dead}-old"), old);
        make(&format!("{TEMP_PREFIX}{dead}-fresh"), std::time::SystemTime::now());
        make(&format!("{}mine", temp_prefix()), old);
        make(&format!("{TEMP_PREFIX}1-init"), old); // pid 1 lives
        make(&format!("{TEMP_PREFIX}no-pid"), old);
        make("notes.txt", old);
        let mut staged = StagedFiles::new(dir.path()).unwrap();
        staged.add_bytes("a.txt", b"a").unwrap();
        staged.commit(false).unwrap();
        let mut expected = vec![
            format!("{TEMP_PREFIX}{dead}-fresh"),
            format!("{TEMP_PREFIX}1-init"),
            format!("{TEMP_PREFIX}no-pid"),
            format!("{}mine", temp_prefix()),
            "a.txt".to_owned(),
            "notes.txt".to_owned(),
        ];
        expected.sort();
        assert_eq!(names(dir.path()), expected);
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

    /// This process's umask, as the kernel reports it (tests must not change it: it is the
    /// whole process's, and other tests create files meanwhile).
    #[cfg(target_os = "linux")]
    fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:")).unwrap();
        u32::from_str_radix(line.trim(), 8).unwrap()
    }

    #[cfg(target_os = "linux")]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Files for others get the mode the umask gives any new file; an owner-only one 0600.
    /// (tests/integration/file_modes.rs runs every writer under umask 022 and 077.)
    #[cfg(target_os = "linux")]
    #[test]
    fn files_for_others_follow_the_umask_and_owner_only_ones_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        // While staged, a file is its owner's alone, whatever it becomes once placed.
        let mut staged = StagedFiles::new(dir.path()).unwrap();
        staged.add_bytes("staged.crt", b"cert").unwrap();
        let temp = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        assert_eq!(mode(&temp), 0o600, "{}", temp.display());
        staged.commit(false).unwrap();
        assert_eq!(mode(&dir.path().join("staged.crt")), 0o666 & !umask());
        let shared = dir.path().join("vendor.crt");
        write_file(&shared, b"cert", false).unwrap();
        assert_eq!(mode(&shared), 0o666 & !umask());
        let secret = dir.path().join("key.backup.pem");
        write_owner_only(&secret, b"secret", false).unwrap();
        assert_eq!(mode(&secret), 0o600);
        // Replacing keeps the rule of the writer, not the old file's mode.
        write_owner_only(&shared, b"now secret", true).unwrap();
        assert_eq!(mode(&shared), 0o600);
    }

    /// A file staged open, filled by the caller and flushed in the background, is placed
    /// with the group; a system copy is the source's bytes, or where the system cannot make
    /// one (no clone on this file system), nothing at all.
    #[test]
    fn an_open_file_and_a_system_copy_are_staged_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let source_path = dir.path().join("app.jar");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| i.to_le_bytes()[0] ^ 0x5a).collect();
        std::fs::write(&source_path, &bytes).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();

        let mut staged = StagedFiles::new(&out).unwrap();
        let mut open = staged.add_open("app.jar").unwrap();
        open.write_all(&bytes).unwrap();
        staged.flush_in_background("app.jar", &open).unwrap();
        staged.add_bytes("app.jar.sig", b"sig").unwrap();
        assert!(names(&out).iter().all(|n| n.starts_with(TEMP_PREFIX)));
        staged.commit(false).unwrap();
        assert_eq!(names(&out), ["app.jar", "app.jar.sig"]);
        assert!(std::fs::read(out.join("app.jar")).unwrap() == bytes, "the placed file is what was written");
        #[cfg(target_os = "linux")]
        assert_eq!(mode(&out.join("app.jar")), 0o666 & !umask());

        let again = dir.path().join("again");
        std::fs::create_dir(&again).unwrap();
        let mut staged = StagedFiles::new(&again).unwrap();
        let progress = Progress::new();
        progress.start(bytes.len() as u64);
        let source = File::open(&source_path).unwrap();
        match staged.add_system_copy("app.jar", &source_path, &source, &progress).unwrap() {
            Some(mut copy) => {
                assert_eq!(progress.done(), bytes.len() as u64);
                std::io::Seek::seek(&mut copy, io::SeekFrom::Start(0)).unwrap();
                let mut read_back = Vec::new();
                copy.read_to_end(&mut read_back).unwrap();
                assert!(read_back == bytes, "the copy reads back as the source");
                staged.commit(false).unwrap();
                assert_eq!(names(&again), ["app.jar"]);
            }
            None => {
                assert_eq!(progress.done(), 0);
                assert!(names(&again).is_empty(), "no copy, no file: {:?}", names(&again));
            }
        }
        let cancelled = Progress::new();
        cancelled.cancel();
        let mut staged = StagedFiles::new(&again).unwrap();
        let err = staged.add_system_copy("other.jar", &source_path, &source, &cancelled).unwrap_err();
        assert!(matches!(err, WriteError::Cancelled), "{err}");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = StagedFiles::new(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }
}
