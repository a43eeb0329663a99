//! Why a bundle could not be written, read back or verified: one error type for every part
//! of the module, apart because each refusal carries its own advice.

use std::io;
use std::path::PathBuf;

use crate::archive::ArchiveError;
use crate::atomic::WriteError;
use crate::certs::{CertError, ValidityState};
use crate::signing::SignError;

/// Why a bundle could not be written, read back or verified.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The artifact could not be inspected (missing, not a zip, damaged, too large).
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// Reading or signing the artifact failed, or was cancelled.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The bundle's files could not be written; none of them was left behind.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A certificate could not be read, or its key cannot be used.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The certificate given carries another public key than the signing key's.
    #[error(
        "The certificate {cert_file} is for another key (public key {cert_key}), not for this signing key (public key {signing_key}). Use the certificate that was made for this key."
    )]
    CertificateMismatch {
        /// Where the certificate came from: a file path, or a stored key's certificate.
        cert_file: String,
        /// The fingerprint of the certificate's public key (see [`crate::keys::PublicKey::fingerprint`]).
        cert_key: String,
        /// The fingerprint of the signing key's public key.
        signing_key: String,
    },
    /// The certificate has expired, or is not valid yet, at the signing time.
    #[error(
        "The certificate {cert_file} is {state}; UPM refuses installs under it, so Countersign does not sign with it. Renew the certificate (same key) and sign again."
    )]
    CertificateNotUsable {
        /// Where the certificate came from: a file path, or a stored key's certificate.
        cert_file: String,
        /// Where it stands at the signing time: [`ValidityState::Expired`] or [`ValidityState::NotYetValid`].
        state: ValidityState,
    },
    /// The output folder exists, but as a file.
    #[error("The output folder {} is not a folder. Choose a folder.", .0.display())]
    OutNotAFolder(PathBuf),
    /// The artifact's bytes, copied into the bundle or its zip, are not the bytes that were signed.
    #[error("{} changed while the bundle was being written. Wait until it is completely written and sign again.", .0.display())]
    ArtifactChanged(PathBuf),
    /// A folder or zip meant as a bundle has no manifest.
    #[error(
        "{} is not a signature bundle: it has no manifest.json. Give the app with its signature and certificate instead.",
        .0.display()
    )]
    NoManifest(PathBuf),
    /// A bundle's manifest names an app that is not in the folder (sent separately, say).
    #[error(
        "{} is not a signature bundle: the app {app} is not in the folder. Put it next to manifest.json, or give the app and its signature ({signature}) separately.",
        .dir.display()
    )]
    AppNotInBundle {
        /// The bundle folder.
        dir: PathBuf,
        /// The app's file name, as the manifest records it.
        app: String,
        /// The signature's file name in the bundle.
        signature: String,
    },
    /// A folder or zip is not a bundle Countersign can read (its manifest is missing, damaged,
    /// of a newer format, or names unsafe files), or a manifest could not be written.
    #[error("{} is not a signature bundle: {reason}.", .path.display())]
    NotABundle {
        /// The bundle folder or zip; when writing, the output folder.
        path: PathBuf,
        /// What is wrong, as a phrase.
        reason: String,
    },
    /// A file could not be read, is a folder, or is larger than such a file can be.
    #[error("Could not read {}: {source}.", .path.display())]
    Read {
        /// The file or bundle being read.
        path: PathBuf,
        /// The I/O error, or why the file was refused (`InvalidData` for one too large).
        source: io::Error,
    },
    /// The path given to verify does not exist.
    #[error("{} does not exist. Give a bundle folder or zip, or the signed .jar/.obr.", .0.display())]
    NotFound(PathBuf),
    /// The path given to verify, with a signature or certificate file, is a folder.
    #[error("{} is a folder without a bundle manifest. Give a bundle folder, or the .jar/.obr with its .sig.", .0.display())]
    FolderWithoutManifest(PathBuf),
    /// The `.sig` of an artifact to verify (given, or the artifact's name plus `.sig`) does not exist.
    #[error("The signature file {} does not exist. Give the .sig that came with the app.", .0.display())]
    NoSignature(PathBuf),
    /// An artifact to verify came with neither a certificate nor a trust store, and no
    /// certificate beside it is named like it or verifies its signature.
    #[error("No certificate to check {} against: none beside it is named like it or verifies its signature. Give the signer's certificate or a trust-store folder.", .0.display())]
    NothingToCheckAgainst(PathBuf),
    /// No certificate was given for an artifact, and several different certificates beside
    /// it verify its signature (a renewed certificate beside the old one, say).
    #[error(
        "Several certificates beside {} verify its signature: {}. Give the one to check against.",
        .artifact.display(),
        .files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    SeveralCertificates {
        /// The artifact to verify.
        artifact: PathBuf,
        /// The certificate files beside it whose key verifies the signature, in name order.
        files: Vec<PathBuf>,
    },
}

impl BundleError {
    /// True when the input was fine but a check refused it (exit status 1 rather than 2).
    pub fn is_rejection(&self) -> bool {
        matches!(self, BundleError::CertificateNotUsable { .. })
    }
}
