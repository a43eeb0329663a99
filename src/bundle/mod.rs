//! The signature bundle a customer receives: signing an artifact into one, reading one
//! back (folder or zip), and verifying it the way UPM will.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::archive::{self, AppInfo};
use crate::atomic::StagedFiles;
use crate::certs::{self, CertError, Certificate, ValidityState};
use crate::keys::{Algorithm, PrivateKey};
use crate::progress::Progress;
use crate::signing::{self, SignError};

mod error;
pub mod install;
pub mod manifest;
mod read;
mod verify;
mod write;

pub use error::BundleError;
pub use manifest::BundleManifest;
pub use read::{LoadedBundle, load_bundle};
pub use verify::{
    CertificateFrom, Check, Outcome, Replaced, Report, Verdict, VerifyInput, VerifyTarget, verify,
    verify_target,
};

use write::{BundleText, SignedBytes, Version, copy_and_sign, stage_bundle};

/// Everything needed to sign one artifact into a bundle.
pub struct SignRequest<'a> {
    /// The `.jar` or `.obr` to sign.
    pub artifact: &'a Path,
    /// The private key to sign with.
    pub key: &'a PrivateKey,
    /// The signer's certificate (and chain), if one goes into the bundle.
    pub certificate: Option<&'a CertificateInput>,
    /// Where the bundle goes; defaults to the artifact's folder.
    pub out_dir: Option<PathBuf>,
    /// Free text for the customer (who it is for, the ticket).
    pub note: Option<String>,
    /// Also put a copy of the artifact into `out_dir` (when it is not already there), so
    /// that the folder alone is the whole bundle. The copy is checked against the signed bytes.
    pub include_artifact: bool,
    /// Also write `<stem>-signed.zip` holding everything and the artifact.
    pub zip: bool,
    /// Replace bundle files that already exist (asked for explicitly).
    pub overwrite: bool,
    /// The signing time: the manifest records it, and the certificate must be valid at it.
    pub now: OffsetDateTime,
}

/// A certificate to ship in a bundle.
#[derive(Debug, Clone)]
pub struct CertificateInput {
    /// The signer's certificate first, then its issuers, if any.
    pub chain: Vec<Certificate>,
    /// Where it came from, for messages (a file path, or a stored key's name).
    pub source_name: String,
    /// The certificate file's name in the bundle, without `.crt`.
    pub bundle_stem: String,
}

impl CertificateInput {
    /// Reads a certificate file; the bundle names it after the file.
    pub fn from_file(path: &Path) -> Result<Self, BundleError> {
        let source_name = path.display().to_string();
        let bytes = read_small(path, 1 << 20)?;
        let chain = Certificate::all_from_file_bytes(&bytes, &source_name)?;
        let bundle_stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "certificate".into());
        Ok(CertificateInput { chain, source_name, bundle_stem })
    }

    /// The newest certificate kept with a stored key, to sign with it; `None` when the key
    /// has none yet.
    pub fn from_record(record: &crate::keystore::KeyRecord) -> Result<Option<Self>, CertError> {
        let Some(pem) = record.certificates.last() else { return Ok(None) };
        let source_name = format!("the certificate of key \"{}\"", record.name);
        let chain = Certificate::all_from_file_bytes(pem.as_bytes(), &source_name)?;
        Ok(Some(CertificateInput { chain, source_name, bundle_stem: record.file_stem() }))
    }

    /// The signer's own certificate, the chain's first; `None` when the chain is empty.
    pub fn signer(&self) -> Option<&Certificate> {
        self.chain.first()
    }
}

/// [`atomic::read_small`](crate::atomic::read_small), its failure a bundle error.
pub(crate) fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, BundleError> {
    crate::atomic::read_small(path, limit)
        .map_err(|source| BundleError::Read { path: path.to_path_buf(), source })
}

/// A bundle that was written.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    /// The folder the bundle is in.
    pub dir: PathBuf,
    /// The bundle's files, manifest last, including a certificate that was in place already.
    pub files: Vec<PathBuf>,
    /// The manifest, as written to `manifest.json`.
    pub manifest: BundleManifest,
    /// The signature as the `.sig` file holds it: one line of Base64.
    pub signature_base64: String,
    /// What the artifact was found to be.
    pub app: AppInfo,
    /// Things to tell the person who signed (P-384 key, expiring certificate, ...).
    pub warnings: Vec<String>,
}

/// The bundle's file names for an artifact, in the order they are written: the
/// manifest last, so that a bundle with a manifest is complete.
pub struct BundleNames {
    /// The signature file: the artifact's file name plus `.sig`.
    pub signature: String,
    /// The certificate file, `<stem>.crt`; `None` when the bundle has no certificate.
    pub certificate: Option<String>,
    /// The instructions for the customer's administrator: `INSTALL.md`.
    pub install: String,
    /// The zip of the whole bundle, `<stem>-signed.zip`; `None` unless one was asked for.
    pub zip: Option<String>,
    /// The manifest: `manifest.json`.
    pub manifest: String,
}

impl BundleNames {
    /// The names for the artifact `file_name`. The certificate is named after
    /// `certificate_stem`, else the artifact's stem; `with_cert` and `zip` say whether the
    /// certificate and the zip are written at all.
    pub fn for_artifact(file_name: &str, certificate_stem: Option<&str>, with_cert: bool, zip: bool) -> Self {
        let stem = Path::new(file_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file_name.to_owned());
        BundleNames {
            signature: format!("{file_name}.sig"),
            certificate: with_cert.then(|| format!("{}.crt", certificate_stem.unwrap_or(&stem))),
            install: manifest::INSTALL_FILE_NAME.to_owned(),
            zip: zip.then(|| format!("{stem}-signed.zip")),
            manifest: manifest::FILE_NAME.to_owned(),
        }
    }

    /// Every name, in the order the files are written (the manifest last).
    pub fn all(&self) -> Vec<&str> {
        let mut v = vec![self.signature.as_str()];
        v.extend(self.certificate.as_deref());
        v.push(&self.install);
        v.extend(self.zip.as_deref());
        v.push(&self.manifest);
        v
    }
}

/// Signs the artifact and writes its bundle. Checks that can fail (the archive, the
/// certificate, the output folder and names) run before the long signing pass; the files
/// appear together at the end, or not at all.
pub fn sign_artifact(req: &SignRequest<'_>, progress: &Progress) -> Result<SignedBundle, BundleError> {
    // The app as it was when it was looked into: what is signed must still be that file.
    let seen = Version::of(req.artifact);
    let app = archive::inspect(req.artifact)?;
    let signer_cert = req.certificate.and_then(CertificateInput::signer);
    let mut warnings = app.warnings.clone();
    warnings.extend(key_and_certificate_checks(req, signer_cert)?);

    let out_dir = output_folder(req)?;
    let names = BundleNames::for_artifact(
        &app.file_name,
        req.certificate.map(|c| c.bundle_stem.as_str()),
        signer_cert.is_some(),
        req.zip,
    );
    let chain = req.certificate.map(|c| c.chain.as_slice()).unwrap_or_default();
    let certificate_in_place = certificate_in_place(&out_dir, &names, chain);
    let copy_artifact = req.include_artifact && !same_file(&out_dir.join(&app.file_name), req.artifact);
    if !req.overwrite {
        let to_write: Vec<PathBuf> = names
            .all()
            .into_iter()
            .filter(|n| !(certificate_in_place && Some(*n) == names.certificate.as_deref()))
            .chain(copy_artifact.then_some(app.file_name.as_str()))
            .map(|n| out_dir.join(n))
            .collect();
        crate::atomic::check_free(to_write.iter().map(PathBuf::as_path))?;
    }
    // A missing or unwritable folder fails here, before the long pass.
    crate::atomic::check_writable(&out_dir)?;
    let mut staged = StagedFiles::new(&out_dir)?;

    // With a copy of the app in the bundle, the copy is what gets signed (see
    // `copy_and_sign`): the signature, the manifest and the app the customer gets are the
    // same bytes, each pass's SHA-256 checked against the first's. In place, the app itself
    // is read twice, and compared the same way.
    let (signed, copy) = if copy_artifact {
        let (copy, signed) = copy_and_sign(req, &app.file_name, seen.as_ref(), &mut staged, progress)?;
        (signed, Some(copy))
    } else {
        let signed = signing::sign_file(req.artifact, req.key, progress)?;
        if Version::of(req.artifact) != seen {
            return Err(BundleError::ArtifactChanged(req.artifact.to_path_buf()));
        }
        (signed, None)
    };
    let signature_base64 = signed.signature.to_base64();
    let cert_pem: Option<String> = signer_cert.map(|_| chain.iter().map(Certificate::to_pem).collect());
    let manifest =
        manifest_for(req, &app, &signed, &names, signer_cert.zip(names.certificate.as_ref()), chain);
    let manifest_json = serde_json::to_string_pretty(&manifest).map_err(|e| BundleError::NotABundle {
        path: out_dir.clone(),
        reason: format!("its manifest could not be written ({e})"),
    })? + "\n";
    let bundle = BundleText {
        signature_base64: &signature_base64,
        cert_pem: cert_pem.as_deref(),
        manifest_json: &manifest_json,
        install_md: install_text(
            &manifest,
            &names,
            &signature_base64,
            cert_pem.as_deref(),
            certificate_in_place.then_some(out_dir.as_path()),
            &manifest_json,
        ),
    };

    let signed_bytes = match &copy {
        Some(file) => SignedBytes::Copy(file, req.artifact),
        None => SignedBytes::Artifact(req.artifact),
    };
    stage_bundle(
        &mut staged,
        &signed_bytes,
        &app.file_name,
        &names,
        &bundle,
        certificate_in_place,
        signed.sha256,
    )?;
    progress.check().map_err(|_| SignError::Cancelled)?;
    let mut files = staged.commit(req.overwrite)?;
    if let (Some(name), true) = (&names.certificate, certificate_in_place) {
        files.insert(1, out_dir.join(name));
    }
    Ok(SignedBundle { dir: out_dir, files, manifest, signature_base64, app, warnings })
}

/// Before signing: the key's algorithm, and the certificate's key and validity. A
/// certificate for another key, or one UPM refuses now, stops the signing; the rest are
/// warnings to show beside the result.
fn key_and_certificate_checks(
    req: &SignRequest<'_>,
    signer_cert: Option<&Certificate>,
) -> Result<Vec<String>, BundleError> {
    let mut warnings = Vec::new();
    if !req.key.algorithm().upm_accepts() {
        warnings.push(Algorithm::UPM_WARNING.to_owned());
    }
    let (Some(input), Some(cert)) = (req.certificate, signer_cert) else {
        warnings.push("No certificate was given: the bundle has no .crt, and the customer needs your certificate in UPM's trust store to accept the signature.".into());
        return Ok(warnings);
    };
    let shown = input.source_name.clone();
    let cert_key = cert.public_key(&shown)?;
    let signing_key = req.key.public_key();
    if cert_key != signing_key {
        return Err(BundleError::CertificateMismatch {
            cert_file: shown,
            cert_key: cert_key.fingerprint(),
            signing_key: signing_key.fingerprint(),
        });
    }
    match cert.validity_at(req.now) {
        state @ (ValidityState::Expired { .. } | ValidityState::NotYetValid { .. }) => {
            return Err(BundleError::CertificateNotUsable { cert_file: shown, state });
        }
        ValidityState::ExpiringSoon { days_left } => warnings.push(format!(
            "The certificate expires in {days_left} days ({}). After that, UPM refuses to install apps signed under it: renew it (same key) and send customers the new certificate.",
            certs::day(cert.not_after())
        )),
        ValidityState::Valid { .. } => {}
    }
    Ok(warnings)
}

/// The folder the bundle goes into: the one asked for, or the artifact's own.
fn output_folder(req: &SignRequest<'_>) -> Result<PathBuf, BundleError> {
    let out_dir = match &req.out_dir {
        Some(d) => d.clone(),
        None => match req.artifact.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(BundleError::OutNotAFolder(out_dir));
    }
    Ok(out_dir)
}

/// Signing next to the certificate file (a common layout) finds that very certificate
/// already in place: it is the bundle's certificate, so it stays and is not rewritten.
fn certificate_in_place(out_dir: &Path, names: &BundleNames, chain: &[Certificate]) -> bool {
    names.certificate.as_ref().is_some_and(|name| {
        read_small(&out_dir.join(name), 1 << 20)
            .ok()
            .and_then(|bytes| Certificate::all_from_file_bytes(&bytes, name).ok())
            .is_some_and(|found| found == chain)
    })
}

/// The bundle's manifest: what was signed, with which key and certificate, when, by what.
fn manifest_for(
    req: &SignRequest<'_>,
    app: &AppInfo,
    signed: &signing::Signed,
    names: &BundleNames,
    signer_cert: Option<(&Certificate, &String)>,
    chain: &[Certificate],
) -> BundleManifest {
    let certificate = signer_cert.map(|(c, file)| manifest::CertificateEntry {
        file: file.clone(),
        sha256_fingerprint: c.fingerprint(),
        subject: c.subject(),
        issuer: c.issuer(),
        serial: c.serial_hex(),
        not_before: certs::rfc3339(c.not_before()),
        not_after: certs::rfc3339(c.not_after()),
        chain_length: chain.len(),
    });
    BundleManifest {
        format: manifest::FORMAT.into(),
        format_version: manifest::FORMAT_VERSION,
        artifact: manifest::ArtifactEntry {
            file_name: app.file_name.clone(),
            size: signed.size,
            sha256: crate::hex::lower(&signed.sha256),
            kind: match app.kind {
                archive::ArtifactKind::Jar => "jar".into(),
                archive::ArtifactKind::Obr => "obr".into(),
            },
            plugin_key: app.plugin_key().map(str::to_owned),
            name: app.name().map(str::to_owned),
            version: app.version().map(str::to_owned),
            vendor: app.vendor().map(str::to_owned),
        },
        algorithm: signed.algorithm.id().into(),
        signature: manifest::SignatureEntry { file: names.signature.clone(), encoding: "base64".into() },
        public_key_sha256: req.key.public_key().fingerprint(),
        certificate,
        signed_at: certs::rfc3339(req.now),
        note: req.note.clone().filter(|n| !n.trim().is_empty()),
        tool: manifest::ToolEntry { name: "countersign".into(), version: crate::VERSION.into() },
    }
}

/// `INSTALL.md`, listing every file the customer gets with its SHA-256. A certificate in
/// place already (`in_place_dir`) is listed as it is on disk.
fn install_text(
    manifest: &BundleManifest,
    names: &BundleNames,
    signature_base64: &str,
    cert_pem: Option<&str>,
    in_place_dir: Option<&Path>,
    manifest_json: &str,
) -> String {
    let mut listed: Vec<(String, &str, String)> = vec![
        (manifest.artifact.file_name.clone(), "the app", manifest.artifact.sha256.clone()),
        (names.signature.clone(), "its signature (Base64)", hex_sha(signature_base64.as_bytes())),
    ];
    if let (Some(name), Some(pem)) = (&names.certificate, cert_pem) {
        let in_place = in_place_dir.and_then(|dir| read_small(&dir.join(name), 1 << 20).ok());
        let sha = hex_sha(in_place.as_deref().unwrap_or(pem.as_bytes()));
        listed.push((name.clone(), "the vendor's certificate, for UPM's trust store", sha));
    }
    listed.push((
        names.manifest.clone(),
        "a machine-readable description of all this",
        hex_sha(manifest_json.as_bytes()),
    ));
    install::render(manifest, &listed, signature_base64)
}

/// True when both paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn hex_sha(bytes: &[u8]) -> String {
    crate::hex::lower(&Sha256::digest(bytes))
}
