//! From what a person points at (a bundle, or an artifact with its `.sig`) to a
//! [`VerifyInput`]: reading the files, and finding the signer's certificate beside an app.
//! Apart from the checks, which see only the bytes this gathers.

use std::path::Path;

use time::OffsetDateTime;

use super::{CertificateFrom, Replaced, Report, VerifyInput, verify};
use crate::bundle::BundleError;
use crate::certs::Certificate;
use crate::keys::PublicKey;
use crate::progress::Progress;
use crate::signing::{self, Signature};
use crate::truststore::TrustStore;

/// What a person points at to verify: a bundle (folder or zip), or a signed artifact with
/// its `.sig` (by default the artifact's name plus `.sig`) and the signer's certificate
/// (by default one found beside it, see [`verify_target`]).
#[derive(Debug, Clone, Default)]
pub struct VerifyTarget {
    /// A bundle folder or zip, or the signed `.jar` or `.obr`.
    pub path: std::path::PathBuf,
    /// The artifact's `.sig`; `None` for a bundle's own, or for the artifact's name plus `.sig`.
    pub signature: Option<std::path::PathBuf>,
    /// The signer's certificate file; `None` for a bundle's own, or to find the signer beside
    /// the artifact or in the trust store.
    pub certificate: Option<std::path::PathBuf>,
}

impl VerifyTarget {
    /// True when `path` is read as a bundle rather than as an artifact: a folder, or a zip
    /// holding a bundle manifest. A signature or certificate given too replaces the bundle's own.
    pub fn is_bundle(&self) -> bool {
        self.path.is_dir() || looks_like_bundle_zip(&self.path)
    }
}

/// A zip whose entries include our manifest is a bundle; a jar is not.
fn looks_like_bundle_zip(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| z.len() <= 64 && z.index_for_name(crate::bundle::manifest::FILE_NAME).is_some())
}

const MAX_SIGNATURE_FILE: u64 = 64 << 10;
const MAX_CERTIFICATE_FILE: u64 = 1 << 20;

/// Reads whatever `target` names and verifies it the way UPM will. The command line and the
/// window both come through here, so a bundle is judged the same whichever face is used.
///
/// A bundle's own signature and certificate are used unless `target` names others, which
/// then replace them (the report says whether they are the same). An artifact's signature is
/// `<artifact>.sig` unless named; its certificate, when neither one nor a trust store is
/// given, is looked for beside it: a certificate file named like it (`<artifact>.crt`,
/// `<artifact stem>.crt`, or `.pem`, `.cer`), else the only certificate file there whose key
/// verifies the signature. With a trust store and no certificate, the trust store's
/// certificates are tried, as UPM does. The report names the files used.
pub fn verify_target(
    target: &VerifyTarget,
    truststore: Option<&TrustStore>,
    now: OffsetDateTime,
    progress: &Progress,
) -> Result<Report, BundleError> {
    let path = &target.path;
    if !path.exists() {
        return Err(BundleError::NotFound(path.clone()));
    }
    let given_certificate = match &target.certificate {
        Some(c) => Some((crate::bundle::read_small(c, MAX_CERTIFICATE_FILE)?, c.display().to_string())),
        None => None,
    };
    let given = Given { certificate: given_certificate, truststore, now };
    if target.is_bundle() {
        return verify_bundle(target, given, progress);
    }
    verify_artifact(target, given, progress)
}

/// What [`verify_target`] was given besides the files to judge: the certificate read from
/// the file a person named (its bytes and name), the trust store, and the moment.
struct Given<'a> {
    certificate: Option<(Vec<u8>, String)>,
    truststore: Option<&'a TrustStore>,
    now: OffsetDateTime,
}

/// Reads the signature file a person named (its bytes and name); it must exist.
fn read_given_signature(sig_path: &Path) -> Result<(Vec<u8>, String), BundleError> {
    if !sig_path.is_file() {
        return Err(BundleError::NoSignature(sig_path.to_path_buf()));
    }
    Ok((crate::bundle::read_small(sig_path, MAX_SIGNATURE_FILE)?, sig_path.display().to_string()))
}

/// Verifies a bundle: its own signature and certificate, or those `target` names in their
/// place (then listed as replaced, so the report says whether they are the same).
fn verify_bundle(
    target: &VerifyTarget,
    given: Given<'_>,
    progress: &Progress,
) -> Result<Report, BundleError> {
    let path = &target.path;
    let given_certificate = &given.certificate;
    if path.is_dir()
        && !path.join(crate::bundle::manifest::FILE_NAME).is_file()
        && (target.signature.is_some() || target.certificate.is_some())
    {
        return Err(BundleError::FolderWithoutManifest(path.clone()));
    }
    let loaded = crate::bundle::load_bundle(path)?;
    let signature = target.signature.as_deref().map(read_given_signature).transpose()?;
    let mut replaced = Vec::new();
    if signature.is_some() {
        replaced.push(Replaced::Signature(&loaded.signature, loaded.signature_name.clone()));
    }
    if given_certificate.is_some() {
        replaced
            .push(Replaced::Certificate(loaded.certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone()))));
    }
    let (signature, signature_name) =
        signature.as_ref().map_or((loaded.signature.as_slice(), loaded.signature_name.clone()), |(b, n)| {
            (b.as_slice(), n.clone())
        });
    let (certificate, certificate_from) = match given_certificate {
        Some((b, n)) => (Some((b.as_slice(), n.clone())), CertificateFrom::Given),
        None => {
            (loaded.certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())), CertificateFrom::Bundle)
        }
    };
    let input = VerifyInput {
        artifact: &loaded.artifact_path,
        artifact_name: loaded.manifest.artifact.file_name.clone(),
        signature,
        signature_name,
        certificate,
        certificate_from,
        replaced,
        truststore: given.truststore,
        manifest: Some(&loaded.manifest),
        now: given.now,
    };
    verify(&input, progress)
}

/// Verifies a signed artifact: its `.sig` (named, or the artifact's name plus `.sig`), and
/// the certificate named, else the trust store's, else one found beside it.
fn verify_artifact(
    target: &VerifyTarget,
    given: Given<'_>,
    progress: &Progress,
) -> Result<Report, BundleError> {
    let path = &target.path;
    let truststore = given.truststore;
    let sig_path = target.signature.clone().unwrap_or_else(|| {
        let mut p = path.as_os_str().to_owned();
        p.push(".sig");
        std::path::PathBuf::from(p)
    });
    let (signature, signature_name) = read_given_signature(&sig_path)?;
    let (certificate, certificate_from) = match given.certificate {
        Some(c) => (Some(c), CertificateFrom::Given),
        None if truststore.is_some() => (None, CertificateFrom::TrustStore),
        None => match companion_certificate(path, &signature, progress)? {
            Some((file, bytes, from)) => (Some((bytes, file.display().to_string())), from),
            None => return Err(BundleError::NothingToCheckAgainst(path.clone())),
        },
    };
    let input = VerifyInput {
        artifact: path,
        artifact_name: path.display().to_string(),
        signature: &signature,
        signature_name,
        certificate: certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())),
        certificate_from,
        replaced: Vec::new(),
        truststore,
        manifest: None,
        now: given.now,
    };
    verify(&input, progress)
}

/// File name endings of certificate files looked for beside an app.
const CERTIFICATE_ENDINGS: [&str; 3] = ["crt", "pem", "cer"];

/// The signer's certificate beside `artifact`, when none was given: a certificate file named
/// like the artifact, else the only certificate file in its folder whose key verifies the
/// signature (several files of the same certificate count as one). `None` when there is no
/// such file; [`BundleError::SeveralCertificates`] when several different ones verify.
fn companion_certificate(
    artifact: &Path,
    signature: &[u8],
    progress: &Progress,
) -> Result<Option<(std::path::PathBuf, Vec<u8>, CertificateFrom)>, BundleError> {
    // An artifact named without a folder has its companions named without one too.
    let dir = artifact.parent().unwrap_or(Path::new("")).to_path_buf();
    let read_certificate = |path: &Path| -> Option<(Vec<u8>, Certificate)> {
        let bytes = crate::atomic::read_small(path, MAX_CERTIFICATE_FILE).ok()?;
        let cert =
            Certificate::all_from_file_bytes(&bytes, &path.display().to_string()).ok()?.into_iter().next()?;
        Some((bytes, cert))
    };
    let (Some(file_name), Some(stem)) = (artifact.file_name(), artifact.file_stem()) else { return Ok(None) };
    for base in [file_name, stem] {
        for ending in CERTIFICATE_ENDINGS {
            let mut name = base.to_owned();
            name.push(".");
            name.push(ending);
            let candidate = dir.join(name);
            if let Some((bytes, _)) = candidate.is_file().then(|| read_certificate(&candidate)).flatten() {
                return Ok(Some((candidate, bytes, CertificateFrom::NamedLikeApp)));
            }
        }
    }
    let Ok(sig) = Signature::decode(signature, "signature") else { return Ok(None) };
    let listed = if dir.as_os_str().is_empty() { Path::new(".") } else { dir.as_path() };
    let Ok(entries) = std::fs::read_dir(listed) else { return Ok(None) };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .filter(|p| {
            p.extension().is_some_and(|e| CERTIFICATE_ENDINGS.iter().any(|c| e.eq_ignore_ascii_case(c)))
                && p.is_file()
        })
        .collect();
    files.sort();
    // Each distinct key is tried once: a pass over the artifact per key.
    let mut tried: Vec<(PublicKey, bool)> = Vec::new();
    let mut verifying: Vec<(std::path::PathBuf, Vec<u8>, Certificate)> = Vec::new();
    for file in files {
        let Some((bytes, cert)) = read_certificate(&file) else { continue };
        let Ok(key) = cert.public_key(&file.display().to_string()) else { continue };
        let valid = match tried.iter().find(|(k, _)| *k == key) {
            Some((_, valid)) => *valid,
            None => {
                let valid = signing::verify_file(artifact, &key, &sig, progress)?.valid;
                tried.push((key, valid));
                valid
            }
        };
        if valid && !verifying.iter().any(|(_, _, c)| *c == cert) {
            verifying.push((file, bytes, cert));
        }
    }
    match verifying.len() {
        0 => Ok(None),
        1 => Ok(verifying.pop().map(|(file, bytes, _)| (file, bytes, CertificateFrom::OnlyOneBesideApp))),
        _ => Err(BundleError::SeveralCertificates {
            artifact: artifact.to_path_buf(),
            files: verifying.into_iter().map(|(f, _, _)| f).collect(),
        }),
    }
}
