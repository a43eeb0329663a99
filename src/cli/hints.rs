//! What the command line adds to the core's errors: the core says what went wrong and what to
//! do in words that fit any face; here the doing gets its flags and commands.

use countersign::atomic::WriteError;
use countersign::batch::BatchError;
use countersign::bundle::BundleError;
use countersign::history::HistoryError;
use countersign::keys::KeyError;
use countersign::keystore::KeyStoreError;
use countersign::signer::SignerError;
use countersign::truststore::{PackageError, Remedy, TrustStoreError};

/// The command-line way to act on an error, where there is one.
pub trait Hint {
    /// A sentence to append to the error's own, naming the flag or command that does it.
    fn hint(&self) -> Option<String>;
}

/// The error's sentence, then the command line's hint for it.
pub fn explain(e: &(impl std::fmt::Display + Hint)) -> String {
    match e.hint() {
        Some(hint) => format!("{e} {hint}"),
        None => e.to_string(),
    }
}

impl Hint for WriteError {
    fn hint(&self) -> Option<String> {
        match self {
            WriteError::AlreadyExists(_) => Some("--overwrite replaces it.".into()),
            _ => None,
        }
    }
}

impl Hint for KeyError {
    fn hint(&self) -> Option<String> {
        match self {
            KeyError::Unsupported { .. } => Some("`countersign keys generate` makes one.".into()),
            _ => None,
        }
    }
}

impl Hint for KeyStoreError {
    fn hint(&self) -> Option<String> {
        match self {
            KeyStoreError::Keychain { .. } => Some("--key-file FILE signs with a key file.".into()),
            KeyStoreError::NoSuchKey(_) => Some("`countersign keys list` shows the keys there are.".into()),
            KeyStoreError::SecretMissing { name } => Some(format!(
                "Run `countersign keys delete {name} --yes`, then `countersign keys restore BACKUP --name {name}`."
            )),
            KeyStoreError::NoSuchEntry(_) => Some("`countersign keys list` names them.".into()),
            KeyStoreError::AlreadyStored { name } => {
                Some(format!("`countersign keys delete {name}` deletes it, asking first."))
            }
            KeyStoreError::CertificateNotForKey { .. } => {
                Some("`countersign cert import NAME CERT` keeps a certificate with a stored key.".into())
            }
            KeyStoreError::NoCertificate(name) => {
                Some(format!("`countersign cert self-sign {name}` makes one."))
            }
            KeyStoreError::NoCertificateToReplace(name) => Some(format!(
                "`countersign cert self-sign {name}` makes one; `countersign keys generate --name NEW` makes a key without one."
            )),
            KeyStoreError::CertificateForOtherKey { name, .. } => {
                Some(format!("`countersign cert request {name}` writes the request."))
            }
            KeyStoreError::Key(e) => e.hint(),
            KeyStoreError::Write(e) => e.hint(),
            _ => None,
        }
    }
}

impl Hint for BundleError {
    fn hint(&self) -> Option<String> {
        match self {
            BundleError::Write(e) => e.hint(),
            BundleError::OutNotAFolder(_) => Some("--out DIR names the bundle folder.".into()),
            BundleError::NoManifest(_) => {
                Some("Run `countersign verify APP --sig APP.sig --cert CERT`.".into())
            }
            BundleError::AppNotInBundle { app, signature, .. } => {
                Some(format!("Run `countersign verify {app} --sig {signature}`."))
            }
            BundleError::NoSignature(_) => Some("Pass it with --sig.".into()),
            BundleError::NothingToCheckAgainst(_) => Some("Pass --cert or --truststore.".into()),
            BundleError::SeveralCertificates { .. } => Some("Pass it with --cert.".into()),
            _ => None,
        }
    }
}

impl Hint for BatchError {
    fn hint(&self) -> Option<String> {
        match self {
            BatchError::BundleExists(_) => Some("--overwrite replaces it.".into()),
            BatchError::OneFolderForMany { .. } => Some("--out DIR gives one.".into()),
            BatchError::Bundle(e) => e.hint(),
            _ => None,
        }
    }
}

impl Hint for SignerError {
    fn hint(&self) -> Option<String> {
        match self {
            SignerError::Store(e) => e.hint(),
            SignerError::Certificate(_) => None,
            SignerError::Compromised { name, .. } => Some(format!(
                "`countersign keys delete {name}` deletes it. Only if you must, --i-know signs with it anyway, and the history records that."
            )),
            SignerError::CompromisedKeyFile { replaced_by, .. } => Some(format!(
                "--key {replaced_by} signs with the new key. A key file is never signed with past the refusal; sign from the keychain with --key and --i-know if you must."
            )),
        }
    }
}

impl Hint for HistoryError {
    fn hint(&self) -> Option<String> {
        match self {
            HistoryError::Write(e) => e.hint(),
            _ => None,
        }
    }
}

impl Hint for TrustStoreError {
    fn hint(&self) -> Option<String> {
        None
    }
}

impl Hint for PackageError {
    fn hint(&self) -> Option<String> {
        match self {
            PackageError::Write(e) => e.hint(),
            PackageError::RemovesAdded { .. } => {
                Some("--cert takes the new certificate, --remove the old one.".into())
            }
            PackageError::Exists(_) => Some("Give --out a path that does not exist yet.".into()),
            _ => None,
        }
    }
}

/// The command-line way to follow a verification check's fix, by the check's id.
pub fn for_check(id: &str) -> Option<&'static str> {
    match id {
        "certificate" => Some("(--cert FILE or --truststore DIR)"),
        "certificate-key" => Some("(`countersign keys generate`)"),
        _ => None,
    }
}

/// The command-line way to follow a trust-store finding's remedy.
pub fn for_remedy(remedy: Remedy) -> &'static str {
    match remedy {
        Remedy::IncludeAtlassianCas => "(`countersign truststore package --include-atlassian-cas`)",
        Remedy::CheckAsProductUser => "(--product-user USER)",
    }
}
