//! Reading a bundle back, from its folder or its zip, without trusting the names in it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::manifest::{self, BundleManifest, is_plain_file_name};
use super::{BundleError, read_small};

const MAX_MANIFEST_BYTES: u64 = 1 << 20;
const MAX_SIGNATURE_BYTES: u64 = 64 << 10;
const MAX_CERTIFICATE_BYTES: u64 = 1 << 20;
const MAX_ZIP_ENTRIES: usize = 64;

/// A bundle's parts, ready to verify.
#[derive(Debug)]
pub struct LoadedBundle {
    /// The bundle folder or zip it was loaded from.
    pub source: PathBuf,
    /// The manifest, its file names checked to be plain names.
    pub manifest: BundleManifest,
    /// Where the artifact's bytes are: in the bundle folder, or extracted from the zip into
    /// a temporary file that lives as long as this value.
    pub artifact_path: PathBuf,
    /// The signature file's bytes (at most 64 KiB), not yet decoded.
    pub signature: Vec<u8>,
    /// Where the signature came from, for messages: its path, or `bundle.zip!/name.sig`.
    pub signature_name: String,
    /// The certificate file's bytes and name, when the bundle has one.
    pub certificate: Option<(Vec<u8>, String)>,
    _extracted: Option<tempfile::TempPath>,
}

fn not_a_bundle(path: &Path, reason: impl Into<String>) -> BundleError {
    BundleError::NotABundle { path: path.to_path_buf(), reason: reason.into() }
}

fn parse_manifest(bytes: &[u8], path: &Path) -> Result<BundleManifest, BundleError> {
    let m: BundleManifest = serde_json::from_slice(bytes)
        .map_err(|e| not_a_bundle(path, format!("its manifest.json cannot be read ({e})")))?;
    if m.format != manifest::FORMAT {
        return Err(not_a_bundle(path, format!("its manifest.json is of format \"{}\"", m.format)));
    }
    if m.format_version > manifest::FORMAT_VERSION {
        return Err(not_a_bundle(
            path,
            format!(
                "its manifest is format version {}, newer than this Countersign reads ({}); update Countersign",
                m.format_version,
                manifest::FORMAT_VERSION
            ),
        ));
    }
    let mut names = vec![m.artifact.file_name.as_str(), m.signature.file.as_str()];
    names.extend(m.certificate.as_ref().map(|c| c.file.as_str()));
    if let Some(bad) = names.into_iter().find(|n| !is_plain_file_name(n)) {
        return Err(not_a_bundle(
            path,
            format!("its manifest names the file \"{}\", which is not a plain file name", bad.escape_debug()),
        ));
    }
    Ok(m)
}

/// Loads a bundle from a folder (holding `manifest.json`) or a `-signed.zip`.
pub fn load_bundle(path: &Path) -> Result<LoadedBundle, BundleError> {
    let meta =
        std::fs::metadata(path).map_err(|source| BundleError::Read { path: path.to_path_buf(), source })?;
    if meta.is_dir() { load_folder(path) } else { load_zip(path) }
}

fn load_folder(dir: &Path) -> Result<LoadedBundle, BundleError> {
    let manifest_path = dir.join(manifest::FILE_NAME);
    if !manifest_path.is_file() {
        return Err(BundleError::NoManifest(dir.to_path_buf()));
    }
    let manifest = parse_manifest(&read_small(&manifest_path, MAX_MANIFEST_BYTES)?, dir)?;
    let artifact_path = dir.join(&manifest.artifact.file_name);
    if !artifact_path.is_file() {
        return Err(BundleError::AppNotInBundle {
            dir: dir.to_path_buf(),
            app: manifest.artifact.file_name,
            signature: manifest.signature.file,
        });
    }
    let signature = read_small(&dir.join(&manifest.signature.file), MAX_SIGNATURE_BYTES)?;
    let certificate = match &manifest.certificate {
        Some(c) => Some((
            read_small(&dir.join(&c.file), MAX_CERTIFICATE_BYTES)?,
            dir.join(&c.file).display().to_string(),
        )),
        None => None,
    };
    Ok(LoadedBundle {
        source: dir.to_path_buf(),
        signature_name: dir.join(&manifest.signature.file).display().to_string(),
        manifest,
        artifact_path,
        signature,
        certificate,
        _extracted: None,
    })
}

fn load_zip(path: &Path) -> Result<LoadedBundle, BundleError> {
    let file = File::open(path).map_err(|source| BundleError::Read { path: path.to_path_buf(), source })?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| not_a_bundle(path, format!("it is neither a bundle folder nor a readable zip ({e})")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(not_a_bundle(path, format!("it has {} entries; a bundle has a handful", zip.len())));
    }
    let mut read_member = |name: &str, limit: u64| -> Result<Vec<u8>, BundleError> {
        let mut entry = zip.by_name(name).map_err(|_| not_a_bundle(path, format!("it has no {name}")))?;
        let mut out = Vec::new();
        entry
            .by_ref()
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| not_a_bundle(path, format!("{name} inside it cannot be read ({e})")))?;
        if out.len() as u64 > limit {
            return Err(not_a_bundle(path, format!("{name} inside it is larger than {limit} bytes")));
        }
        Ok(out)
    };
    let manifest = parse_manifest(&read_member(manifest::FILE_NAME, MAX_MANIFEST_BYTES)?, path)?;
    let signature = read_member(&manifest.signature.file, MAX_SIGNATURE_BYTES)?;
    let certificate = match &manifest.certificate {
        Some(c) => {
            Some((read_member(&c.file, MAX_CERTIFICATE_BYTES)?, format!("{}!/{}", path.display(), c.file)))
        }
        None => None,
    };
    // The artifact may be large: stream it into a temporary file, no further than the size
    // the manifest states (plus one byte, to notice a longer one).
    let mut temp = tempfile::NamedTempFile::new()
        .map_err(|source| BundleError::Read { path: path.to_path_buf(), source })?;
    {
        let name = &manifest.artifact.file_name;
        let mut entry = zip.by_name(name).map_err(|_| not_a_bundle(path, format!("it has no {name}")))?;
        io::copy(&mut entry.by_ref().take(manifest.artifact.size.saturating_add(1)), temp.as_file_mut())
            .map_err(|e| not_a_bundle(path, format!("{name} inside it cannot be read ({e})")))?;
    }
    let temp_path = temp.into_temp_path();
    Ok(LoadedBundle {
        source: path.to_path_buf(),
        signature_name: format!("{}!/{}", path.display(), manifest.signature.file),
        artifact_path: temp_path.to_path_buf(),
        manifest,
        signature,
        certificate,
        _extracted: Some(temp_path),
    })
}
