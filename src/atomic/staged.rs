//! A group of files staged in one folder and placed together, and who may read them. Apart
//! from the one-file helpers in the module root, which stage a group of one.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{WriteError, check_free, sweep_leftovers, sync_dir, temp_prefix};
use crate::progress::Progress;

/// Who may read the files written (on Unix, their mode; Windows gives a new file the
/// folder's inherited permissions whatever is asked, as every Windows program's files get).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Whoever the user's umask lets read a new file: the mode `cp`, an editor or a compiler
    /// gives what it creates (0666 without the umask's bits, 0644 under the usual 022). For
    /// everything meant to be handed on: bundles, certificates, requests, public keys,
    /// exports. A customer's service user can then read what a support engineer copied.
    Shared,
    /// The owner alone (0600), whatever the umask: a key backup, and the data folder's own
    /// files (the key list, the replacement progress).
    OwnerOnly,
}

/// A group of files written together: all of them appear, or none does.
#[derive(Debug)]
pub struct StagedFiles {
    dir: PathBuf,
    // Windows gives a new file the folder's inherited permissions whatever is asked.
    #[cfg_attr(not(unix), allow(dead_code))]
    access: Access,
    staged: Vec<Staged>,
    /// Flushes of large files started as soon as they were written, so that their data goes
    /// to the disk while other work runs; [`commit`](Self::commit) waits for them.
    early_syncs: Vec<(PathBuf, std::thread::JoinHandle<io::Result<()>>)>,
}

/// One file of a group, under its temporary name until the group is placed.
#[derive(Debug)]
struct Staged {
    /// Where it goes.
    path: PathBuf,
    temp: NamedTempFile,
    /// The permissions it gets once placed, where they differ from its temporary ones.
    placed_mode: Option<std::fs::Permissions>,
}

/// A staged file, and the permissions it gets once placed (see [`Staged`]).
type TempFile = (NamedTempFile, Option<std::fs::Permissions>);

impl StagedFiles {
    /// Stages files for the folder `dir`, which must exist, readable as [`Access::Shared`]
    /// says. Temporary files that a killed Countersign left there are cleared first (see
    /// [`sweep_leftovers`]).
    pub fn new(dir: &Path) -> Result<Self, WriteError> {
        Self::with_access(dir, Access::Shared)
    }

    /// [`new`](Self::new), the files readable as `access` says.
    pub fn with_access(dir: &Path, access: Access) -> Result<Self, WriteError> {
        if !dir.is_dir() {
            return Err(WriteError::NoFolder(dir.to_path_buf()));
        }
        sweep_leftovers(dir);
        Ok(Self { dir: dir.to_path_buf(), access, staged: Vec::new(), early_syncs: Vec::new() })
    }

    /// A new temporary file in the folder, the owner's alone (0600) while it is written, and
    /// the permissions it gets once placed, as its [`Access`] asks: nobody else can change
    /// or read a staged file, whatever the umask or the folder allow.
    fn temp_file(&self, path: &Path) -> Result<TempFile, WriteError> {
        let io_err = |e| WriteError::from_io(path, e);
        let prefix = temp_prefix();
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Given to open(2), so the kernel takes the umask's bits away (and a folder's
            // default ACL applies) exactly as for any program's new file: what a shared file
            // gets once placed.
            let mode = match self.access {
                Access::Shared => 0o666,
                Access::OwnerOnly => 0o600,
            };
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        let temp = builder.tempfile_in(&self.dir).map_err(io_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let created = temp.as_file().metadata().map_err(io_err)?.permissions();
            // Exactly 0600 meanwhile; an owner-only file stays so (an odd umask, 0277 say,
            // must not leave the owner unable to read their own backup).
            temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
            let placed =
                (self.access == Access::Shared && created.mode() & 0o7777 != 0o600).then_some(created);
            Ok((temp, placed))
        }
        #[cfg(not(unix))]
        Ok((temp, None))
    }

    /// The folder the files are staged in and placed into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The final paths, in the order they will be renamed into place.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.staged.iter().map(|f| f.path.as_path())
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
        let (mut temp, placed_mode) = self.temp_file(&path)?;
        fill(temp.as_file_mut())
            .and_then(|()| temp.as_file_mut().flush())
            .map_err(|e| WriteError::from_io(&path, e))?;
        self.staged.push(Staged { path: path.clone(), temp, placed_mode });
        Ok(path)
    }

    /// Stages an empty file named `name` and returns it, open for writing (a copy that the
    /// caller fills as it reads the original, say). See [`flush_in_background`](Self::flush_in_background).
    pub fn add_open(&mut self, name: &str) -> Result<File, WriteError> {
        let path = self.dir.join(name);
        let (temp, placed_mode) = self.temp_file(&path)?;
        let file = temp.as_file().try_clone().map_err(|e| WriteError::from_io(&path, e))?;
        self.staged.push(Staged { path, temp, placed_mode });
        Ok(file)
    }

    /// Starts flushing a staged file's data to disk (`file`, a handle on the file staged as
    /// `name`) on a thread of its own, so that it runs while other work does; [`commit`]
    /// waits for it. For a large file, whose flush would otherwise hold up the commit.
    ///
    /// [`commit`]: Self::commit
    pub fn flush_in_background(&mut self, name: &str, file: &File) -> Result<(), WriteError> {
        let path = self.dir.join(name);
        let syncing = file.try_clone().map_err(|e| WriteError::from_io(&path, e))?;
        self.early_syncs.push((path, std::thread::spawn(move || syncing.sync_data())));
        Ok(())
    }

    /// Stages a copy of `source` (open at its start; `source_path` is where it was opened)
    /// named `name`, made by the system without reading it through this process, where the
    /// system can; `None` where it cannot, and nothing is staged: the caller then writes the
    /// copy itself. Its flush to disk starts at once
    /// ([`flush_in_background`](Self::flush_in_background)). Returns the copy, open.
    ///
    /// - Linux: a clone (`FICLONE`), which shares the blocks and takes no time, on Btrfs,
    ///   XFS and the like. Elsewhere (ext4, tmpfs) `None`: a copy in the kernel
    ///   (`copy_file_range`) measured slower than writing the copy while hashing (see
    ///   `bundle::sign_artifact`).
    /// - macOS and Windows: `std::fs::copy`, which clones on APFS and ReFS and copies in the
    ///   kernel elsewhere (`fcopyfile`, `CopyFileExW`), in one call that a cancel cannot
    ///   interrupt. Where it fails (the app locked by another program, a full disk), `None`:
    ///   the caller's own copy then says which file was at fault.
    pub fn add_system_copy(
        &mut self,
        name: &str,
        source_path: &Path,
        source: &File,
        progress: &Progress,
    ) -> Result<Option<File>, WriteError> {
        let path = self.dir.join(name);
        let io_err = |e| WriteError::from_io(&path, e);
        progress.check().map_err(|_| WriteError::Cancelled)?;
        let Some((temp, placed_mode)) = self.system_copy(&path, source_path, source)? else {
            return Ok(None);
        };
        progress.advance(source.metadata().map_err(io_err)?.len());
        let copy = temp.as_file().try_clone().map_err(io_err)?;
        self.staged.push(Staged { path, temp, placed_mode });
        self.flush_in_background(name, &copy)?;
        Ok(Some(copy))
    }

    /// Linux: `FICLONE` into a temporary file made as any other; `None` where the file
    /// system cannot clone (or the two are on different file systems).
    #[cfg(target_os = "linux")]
    fn system_copy(
        &self,
        path: &Path,
        _source_path: &Path,
        source: &File,
    ) -> Result<Option<TempFile>, WriteError> {
        let (temp, placed_mode) = self.temp_file(path)?;
        Ok(rustix::fs::ioctl_ficlone(temp.as_file(), source).is_ok().then_some((temp, placed_mode)))
    }

    /// macOS and Windows: `std::fs::copy` clones or copies in the kernel, but only into a
    /// path it creates itself, and it gives the copy the app's permissions (a read-only app,
    /// a read-only copy). So it copies to a fresh temporary name, and the copy then gets the
    /// permissions of a temporary file of this group (0600 on a Mac; on Windows, without a
    /// read-only mark), before it is opened for writing.
    #[cfg(not(target_os = "linux"))]
    fn system_copy(
        &self,
        path: &Path,
        source_path: &Path,
        _source: &File,
    ) -> Result<Option<TempFile>, WriteError> {
        let io_err = |e| WriteError::from_io(path, e);
        let (permissions, placed_mode) = {
            let (probe, placed_mode) = self.temp_file(path)?;
            (probe.as_file().metadata().map_err(io_err)?.permissions(), placed_mode)
        };
        let copied = tempfile::Builder::new().prefix(&temp_prefix()).rand_bytes(12).make_in(&self.dir, |p| {
            // A copy cut short is not left under its temporary name.
            std::fs::copy(source_path, p)
                .and_then(|_| std::fs::set_permissions(p, permissions.clone()))
                .and_then(|()| File::options().read(true).write(true).open(p))
                .inspect_err(|_| drop(std::fs::remove_file(p)))
        });
        Ok(copied.ok().map(|temp| (temp, placed_mode)))
    }

    /// Fails with [`WriteError::AlreadyExists`] for the first staged name already taken.
    pub fn check_free(&self) -> Result<(), WriteError> {
        check_free(self.paths())
    }

    /// Renames every staged file into place, in the order staged. Unless `overwrite`, an
    /// existing file is never replaced: the group is then rolled back and nothing remains.
    pub fn commit(mut self, overwrite: bool) -> Result<Vec<PathBuf>, WriteError> {
        if !overwrite {
            self.check_free()?;
        }
        for (path, syncing) in self.early_syncs.drain(..) {
            match syncing.join() {
                Ok(synced) => synced.map_err(|e| WriteError::from_io(&path, e))?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        // Every file's bytes reach the disk before any name does, and with its permissions
        // for once it is placed. Synced here, together, rather than each as it is written:
        // the first sync flushes the others' data with it on most file systems, so a bundle
        // costs about one disk flush instead of four.
        for Staged { path, temp, placed_mode } in &self.staged {
            if let Some(mode) = placed_mode {
                temp.as_file().set_permissions(mode.clone()).map_err(|e| WriteError::from_io(path, e))?;
            }
            temp.as_file().sync_all().map_err(|e| WriteError::from_io(path, e))?;
        }
        let mut placed: Vec<PathBuf> = Vec::new();
        for Staged { path, temp, .. } in self.staged {
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
