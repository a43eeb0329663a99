//! Reading a file for a signing pass: in chunks, on a second thread that also takes the
//! SHA-256, with progress and cancellation. Apart from the signing itself, which only sees
//! the pieces this hands over.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::sync_channel;

use sha2::{Digest, Sha256};

use super::SignError;
use crate::progress::Progress;

/// Bytes read per step. Small enough that the hashing thread starts on the first piece almost
/// at once (with 1 MiB pieces a 1 MB jar was read and its SHA-256 taken before SHA-512 could
/// start: no overlap at all), large enough that handing pieces over costs nothing measurable
/// on a 256 MB jar; small enough for flat memory and prompt cancellation.
pub(super) const CHUNK: usize = 64 << 10;

/// Buffers in flight between the reading thread and the hashing one: enough to keep both
/// busy, few enough that memory stays flat.
const QUEUE: usize = 16;

/// What one pass over a file read: its SHA-256 (when asked for) and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pass {
    pub(super) sha256: Option<[u8; 32]>,
    pub(super) size: u64,
}

/// Reads `file` from its start in chunks, feeding each to `sink`, reporting into `progress`
/// and stopping when it is cancelled. With `sha256`, also takes the SHA-256 of what was
/// read. `path` is only for messages.
///
/// A second thread reads the file (and takes the SHA-256) while this one runs `sink` (the
/// signature's SHA-512, the slow part), so neither reading nor the extra digest adds to the
/// wall time on a machine with two cores.
pub(super) fn stream_file(
    file: &File,
    path: &Path,
    progress: &Progress,
    sha256: bool,
    sink: impl FnMut(&[u8]),
) -> Result<Pass, SignError> {
    stream_file_to(file, None, path, progress, sha256, sink)
}

/// [`stream_file`], the reading thread also writing every piece to `copy` (from its start).
pub(super) fn stream_file_to(
    file: &File,
    copy: Option<&File>,
    path: &Path,
    progress: &Progress,
    sha256: bool,
    mut sink: impl FnMut(&[u8]),
) -> Result<Pass, SignError> {
    let read_err = |source| SignError::Read { path: path.to_path_buf(), source };
    let copy_err = |source| SignError::Copy { path: path.to_path_buf(), source };
    let mut reader = file;
    reader.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut copy = copy;
    if let Some(copy) = copy.as_mut() {
        copy.seek(SeekFrom::Start(0)).map_err(copy_err)?;
    }
    // Buffers travel as (buffer, bytes filled) and keep their full length, so a recycled
    // one needs no clearing.
    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(QUEUE);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(QUEUE + 2);
    std::thread::scope(|scope| {
        let read = scope.spawn(move || -> Result<Pass, SignError> {
            let mut sha = sha256.then(Sha256::new);
            let mut size = 0u64;
            loop {
                let mut buf = empty_rx.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
                let n = read_full(&mut reader, &mut buf).map_err(read_err)?;
                if n == 0 {
                    break;
                }
                if let Some(sha) = sha.as_mut() {
                    sha.update(&buf[..n]);
                }
                if let Some(copy) = copy.as_mut() {
                    copy.write_all(&buf[..n]).map_err(copy_err)?;
                }
                size += n as u64;
                if full_tx.send((buf, n)).is_err() {
                    break; // the hashing side stopped (cancelled); its error is reported there
                }
            }
            Ok(Pass { sha256: sha.map(|s| s.finalize().into()), size })
        });
        let mut cancelled = false;
        for (buf, n) in full_rx.iter() {
            if progress.is_cancelled() {
                cancelled = true;
                break;
            }
            sink(&buf[..n]);
            progress.advance(n as u64);
            let _ = empty_tx.try_send(buf);
        }
        drop(full_rx); // unblocks the reader if it is waiting to send
        let pass = match read.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if cancelled {
            return Err(SignError::Cancelled);
        }
        pass
    })
}

/// Fills `buf` as far as the file allows; returns how much was read (less only at the end).
fn read_full(file: &mut &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(super) fn open(path: &Path) -> Result<(File, u64), SignError> {
    let read_err = |source| SignError::Read { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    Ok((file, len))
}
