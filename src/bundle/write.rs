//! Putting a bundle on disk: the staged copy of the app that is signed, and the bundle's files
//! (and zip) staged to appear together. Apart from `sign_artifact`, which decides what goes
//! in; this only writes it, whole or not at all.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{BundleError, BundleNames, SignRequest};
use crate::atomic::{StagedFiles, WriteError};
use crate::progress::Progress;
use crate::signing::{self, SignError};

/// Which version of a file is at a path: its size and modification time. A build writing
/// the app, or replacing it, changes one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Version {
    pub(super) size: u64,
    pub(super) modified: Option<std::time::SystemTime>,
}

impl Version {
    /// `None` when the file cannot be looked at; reading it then fails with its own reason.
    pub(super) fn of(path: &Path) -> Option<Version> {
        std::fs::metadata(path).ok().map(|m| Version { size: m.len(), modified: m.modified().ok() })
    }
}

/// Stages the bundle's copy of the app and signs it: what the customer gets, the signature
/// and the manifest's SHA-256 are then the same bytes (each pass's SHA-256 is compared with
/// the first's, and a staged file is its owner's alone until it is placed).
///
/// Where the system can clone the app (Btrfs, XFS, APFS, ReFS) or copy it in the kernel
/// (macOS, Windows), it does, and both passes read the copy. Otherwise (ext4, tmpfs) the
/// first pass writes the copy as it reads the app, and the second reads the copy: one read
/// of the app, and no copy phase of its own (on Linux, `copy_file_range` first and then two
/// passes over the copy measured 1.09 s for 256 MiB, the copy written during the first pass
/// 1.00 s, in place 1.08 s, medians of 10 rounds taken in turns).
///
/// The app must be the one looked into before (`seen`) once it is copied: a build still
/// writing it would otherwise leave a torn copy, signed and verifying.
pub(super) fn copy_and_sign(
    req: &SignRequest<'_>,
    file_name: &str,
    seen: Option<&Version>,
    staged: &mut StagedFiles,
    progress: &Progress,
) -> Result<(File, signing::Signed), BundleError> {
    let read_err = |source| SignError::Read { path: req.artifact.to_path_buf(), source };
    let write_err = |e: WriteError| match e {
        WriteError::Cancelled => BundleError::Sign(SignError::Cancelled),
        e => BundleError::Write(e),
    };
    let changed = || BundleError::ArtifactChanged(req.artifact.to_path_buf());
    let source = File::open(req.artifact).map_err(read_err)?;
    let size = source.metadata().map_err(read_err)?.len();
    progress.start(size.saturating_mul(1 + signing::passes(req.key)));
    if let Some(copy) =
        staged.add_system_copy(file_name, req.artifact, &source, progress).map_err(write_err)?
    {
        // By path: a file renamed over the app meanwhile counts as a change too.
        if Version::of(req.artifact).as_ref() != seen || copy.metadata().map_err(read_err)?.len() != size {
            return Err(changed());
        }
        let signed = signing::sign_open(&copy, req.artifact, req.key, progress)?;
        return Ok((copy, signed));
    }
    // The copy is written within the first pass: no phase of its own in the progress.
    progress.start(size.saturating_mul(signing::passes(req.key)));
    let copy = staged.add_open(file_name).map_err(write_err)?;
    let copy_path = staged.dir().join(file_name);
    let mut flush_failed = None;
    let signed = signing::sign_copying(
        &source,
        req.artifact,
        &copy,
        &mut || {
            staged.flush_in_background(file_name, &copy).map_err(|e| {
                let message = e.to_string();
                flush_failed = Some(e);
                SignError::Crypto(message)
            })
        },
        req.key,
        progress,
    );
    if let Some(e) = flush_failed {
        return Err(BundleError::Write(e));
    }
    let signed = signed.map_err(|e| match e {
        SignError::Copy { source, .. } => BundleError::Write(WriteError::from_io(&copy_path, source)),
        e => BundleError::Sign(e),
    })?;
    if Version::of(req.artifact).as_ref() != seen {
        return Err(changed());
    }
    Ok((copy, signed))
}
/// The bundle's text files, as they will be written.
pub(super) struct BundleText<'a> {
    pub(super) signature_base64: &'a str,
    pub(super) cert_pem: Option<&'a str>,
    pub(super) manifest_json: &'a str,
    pub(super) install_md: String,
}

/// Where the zip takes the signed app's bytes from; either way they are hashed again and
/// must be what was signed.
pub(super) enum SignedBytes<'a> {
    /// The bundle's own copy, which is what was signed (and the app it is a copy of).
    Copy(&'a File, &'a Path),
    /// The app itself, signed in place; it might have changed since.
    Artifact(&'a Path),
}

/// Stages the bundle's files in the order they appear, the manifest last; the optional zip
/// holds the app and all of them, and its copy of the app must hash as what was signed.
pub(super) fn stage_bundle(
    staged: &mut StagedFiles,
    signed_bytes: &SignedBytes<'_>,
    artifact_name: &str,
    names: &BundleNames,
    text: &BundleText<'_>,
    certificate_in_place: bool,
    signed_sha256: [u8; 32],
) -> Result<(), BundleError> {
    staged.add_bytes(&names.signature, text.signature_base64.as_bytes())?;
    if let (Some(name), Some(pem), false) = (&names.certificate, text.cert_pem, certificate_in_place) {
        staged.add_bytes(name, pem.as_bytes())?;
    }
    staged.add_bytes(&names.install, text.install_md.as_bytes())?;
    if let Some(zip_name) = &names.zip {
        let mut members: Vec<(&str, &[u8])> = vec![(&names.signature, text.signature_base64.as_bytes())];
        if let (Some(name), Some(pem)) = (&names.certificate, text.cert_pem) {
            members.push((name, pem.as_bytes()));
        }
        members.push((&names.install, text.install_md.as_bytes()));
        members.push((&names.manifest, text.manifest_json.as_bytes()));
        let mut copied_sha = None;
        staged.add_with(zip_name, |file| {
            copied_sha = Some(write_zip(file, signed_bytes, artifact_name, &members)?);
            Ok(())
        })?;
        if copied_sha != Some(signed_sha256) {
            let artifact = match signed_bytes {
                SignedBytes::Copy(_, artifact) | SignedBytes::Artifact(artifact) => artifact,
            };
            return Err(BundleError::ArtifactChanged(artifact.to_path_buf()));
        }
    }
    staged.add_bytes(&names.manifest, text.manifest_json.as_bytes())?;
    Ok(())
}

/// Writes the zip bundle: the app (stored, it is compressed already) and the small files
/// (deflated). The app's bytes are hashed on the way (SHA-256, returned), so the caller can
/// tell whether they are the bytes that were signed.
fn write_zip(
    file: &mut File,
    signed_bytes: &SignedBytes<'_>,
    artifact_name: &str,
    members: &[(&str, &[u8])],
) -> io::Result<[u8; 32]> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(&mut *file);
    let to_io = |e: zip::result::ZipError| io::Error::other(e.to_string());
    let mut source = match signed_bytes {
        SignedBytes::Copy(copy, _) => {
            let mut copy = *copy;
            copy.seek(io::SeekFrom::Start(0))?;
            copy.try_clone()?
        }
        SignedBytes::Artifact(path) => File::open(path)?,
    };
    let mut sha = Sha256::new();
    let len = source.metadata()?.len();
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(len >= u32::MAX as u64);
    zip.start_file(artifact_name, stored).map_err(to_io)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = source.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        zip.write_all(&buf[..n])?;
    }
    let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        zip.start_file(*name, deflated).map_err(to_io)?;
        zip.write_all(bytes)?;
    }
    zip.finish().map_err(to_io)?;
    Ok(sha.finalize().into())
}
