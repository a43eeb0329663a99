//! What goes wrong, as the window holds it (`Failure`, the core's typed errors side by side),
//! and how the window explains it: the core says what went wrong and what to do in words that
//! fit any face; here the doing gets the window's own buttons and views.

use countersign::archive::ArchiveError;
use countersign::atomic::WriteError;
use countersign::batch::BatchError;
use countersign::bundle::BundleError;
use countersign::certs::CertError;
use countersign::history::HistoryError;
use countersign::keys::KeyError;
use countersign::keystore::KeyStoreError;
use countersign::signer::SignerError;
use countersign::signing::SignError;
use countersign::truststore::Remedy;
use countersign::truststore::{PackageError, TrustStoreError};

/// Why something the window asked of the core failed: the core's own error, shown in its
/// own words.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// There is no key store (no data folder, no keychain), in the words of whoever opened
    /// the window.
    #[error("{0}")]
    NoKeyStore(String),
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error(transparent)]
    Signer(#[from] countersign::signer::SignerError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Certificate(#[from] CertError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    TrustStore(#[from] TrustStoreError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Rotation(#[from] countersign::rotation::RotationError),
    /// One file of a batch failed: the batch only lends its error while it reports the
    /// result, so its sentence is what is kept.
    #[error("{0}")]
    BatchItem(String),
    /// No file dialog could be shown; the path is to be typed.
    #[error(transparent)]
    NoDialog(#[from] super::desktop::NoDialog),
    #[error("Verification was cancelled.")]
    VerificationCancelled,
}

/// The error's own sentence, then the window's way to act on it, where there is one.
pub fn explain(failure: &Failure) -> String {
    match hint(failure) {
        Some(hint) => format!("{failure} {hint}"),
        None => failure.to_string(),
    }
}

fn hint(failure: &Failure) -> Option<String> {
    match failure {
        Failure::KeyStore(e) | Failure::Signer(SignerError::Store(e)) => key_store(e),
        Failure::Key(e) => key(e),
        Failure::Bundle(e) => bundle(e),
        Failure::Write(e) => write(e),
        _ => None,
    }
}

fn key_store(e: &KeyStoreError) -> Option<String> {
    match e {
        KeyStoreError::NoSuchKey(_) => Some("The Keys view lists the keys there are.".into()),
        KeyStoreError::SecretMissing { .. } => Some(
            "In Keys: Delete… this key, then Import key with its backup file under the same name.".into(),
        ),
        KeyStoreError::CertificateForOtherKey { .. } => {
            Some("In Certificates: Save certificate request (CSR)… for this key.".into())
        }
        KeyStoreError::NoCertificate(_) => Some("In Certificates: Make self-signed certificate.".into()),
        KeyStoreError::Key(e) => key(e),
        KeyStoreError::Write(e) => write(e),
        _ => None,
    }
}

fn key(e: &KeyError) -> Option<String> {
    match e {
        KeyError::Unsupported { .. } => Some("Generate key in the Keys view makes one.".into()),
        _ => None,
    }
}

fn bundle(e: &BundleError) -> Option<String> {
    match e {
        BundleError::Write(e) => write(e),
        BundleError::NoManifest(_) | BundleError::AppNotInBundle { .. } => {
            Some("Choose the app itself, with its .sig and certificate beside it.".into())
        }
        _ => None,
    }
}

fn write(e: &WriteError) -> Option<String> {
    match e {
        WriteError::AlreadyExists(_) => Some("Choose another output folder, or move the file away.".into()),
        _ => None,
    }
}

/// The window's words for a failed file of a signing batch.
pub fn batch_item(e: &BatchError) -> String {
    let hint = match e {
        BatchError::Bundle(e) => bundle(e),
        _ => None,
    };
    match hint {
        Some(hint) => format!("{e} {hint}"),
        None => e.to_string(),
    }
}

/// The window's way to follow a trust-store finding's remedy, where it has one.
pub fn for_remedy(remedy: Remedy) -> Option<&'static str> {
    match remedy {
        Remedy::IncludeAtlassianCas => Some(
            "(Tick \"Also include Atlassian's Marketplace CA certificates\" and Make trust-store package….)",
        ),
        // The window checks as the user it runs as; the command line can name another.
        Remedy::CheckAsProductUser => None,
    }
}
