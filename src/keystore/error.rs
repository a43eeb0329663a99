//! The key store's one error type. It sits apart because it is long (every refusal carries
//! its own advice) and every part of the store returns it.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::certs::CertError;
use crate::keys::KeyError;

use super::{KeychainProblem, ReplaceReason};

/// Why the key store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The keychain could not be reached, or refused the request.
    #[error("The system keychain is not available: {}. A pipeline without a keychain can sign with a key file instead (an encrypted backup, its passphrase in COUNTERSIGN_PASSPHRASE). (Keychain said: {detail})", .problem.explain())]
    Keychain {
        /// Which way the keychain failed; the message explains it and how to fix it.
        problem: KeychainProblem,
        /// The keychain's own words.
        detail: String,
    },
    /// No key of that name is listed.
    #[error("There is no key named \"{0}\".")]
    NoSuchKey(String),

    /// `COUNTERSIGN_KEYCHAIN` names no keychain Countersign knows.
    #[error(
        "COUNTERSIGN_KEYCHAIN is \"{0}\", which names no keychain Countersign knows. Leave it unset for the system keychain, or set it to \"kernel\" (Linux only) for the kernel's session keyring."
    )]
    UnknownKeychain(String),
    /// Another key has that name already (names are compared ignoring ASCII case).
    #[error("A key named \"{0}\" exists already. Choose another name, or rename the existing key first.")]
    NameTaken(String),
    /// The name is empty, longer than 64 characters, has leading or trailing spaces, or
    /// control characters.
    #[error(
        "\"{0}\" cannot be a key name: use 1 to 64 characters, without control characters or leading and trailing spaces."
    )]
    BadName(String),
    /// The index lists the key, but the keychain has no entry for it.
    #[error(
        "The key \"{name}\" is listed, but its private key is missing from the keychain (deleted outside Countersign, or this index came from another machine). Delete it, then restore it from a backup under the same name."
    )]
    SecretMissing {
        /// The key's name.
        name: String,
    },
    /// The key's keychain entry holds another key than the one the index records.
    #[error(
        "The keychain entry of key \"{name}\" holds a different key than the index records (public key {found} instead of {expected}). Countersign will not sign with it; restore the key from a backup."
    )]
    SecretMismatch {
        /// The key's name.
        name: String,
        /// The public key fingerprint the index records.
        expected: String,
        /// The public key fingerprint of the key in the keychain entry.
        found: String,
    },
    /// The key to import or restore is stored already (the same public key), under `name`.
    #[error(
        "This key is already stored as \"{name}\"; nothing was imported. Use that key, or delete it first to import it again."
    )]
    AlreadyStored {
        /// The name of the stored key with the same public key.
        name: String,
    },
    /// A key file (a backup, say) carries a certificate after the key that is not for that
    /// key: the first certificate, the signer's, carries another public key.
    #[error("{} holds a certificate for another key (public key {cert_key}) than its private key (public key {key}); nothing was imported. Import the key from a copy of the file without its CERTIFICATE blocks, then import the certificate made for it.", .path.display())]
    CertificateNotForKey {
        /// The key file.
        path: PathBuf,
        /// The fingerprint of the file's private key's public key.
        key: String,
        /// The fingerprint of the certificate's public key.
        cert_key: String,
    },
    /// The keychain has no Countersign entry with that id (to adopt).
    #[error(
        "The keychain holds no Countersign entry {0}; the list of keys names the entries that no key lists."
    )]
    NoSuchEntry(String),
    /// The keychain entry to adopt is listed already, as another key.
    #[error("Keychain entry {id} is already the key \"{name}\"; rename that key instead.")]
    EntryListed {
        /// The keychain entry's id.
        id: String,
        /// The name of the key that lists it.
        name: String,
    },
    /// The key index cannot be read, does not parse, is of a newer format, or cannot be encoded.
    #[error("The key index {} is damaged ({detail}). Your private keys are untouched in the keychain; move the file away and restore keys from backups, or restore the file from a backup.", .path.display())]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// What is wrong, as a phrase.
        detail: String,
    },
    /// The data folder, or the index's lock file in it, could not be made, opened or locked.
    #[error("Could not use the data folder {}: {source}. Check that it is writable, or set COUNTERSIGN_HOME to another folder.", .path.display())]
    Io {
        /// The data folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither `COUNTERSIGN_HOME` nor the platform names a data folder for this user.
    #[error(
        "No data folder could be found for this user. Set COUNTERSIGN_HOME to a folder for Countersign's key index."
    )]
    NoHome,
    /// A certificate to keep with a key does not carry that key's public key (or is no certificate).
    #[error("That certificate is for another key (public key {cert_key}{}), not for key \"{name}\". Import it for the key it was made for, or request a certificate for \"{name}\".", .owner.as_ref().map(|o| format!(", which is stored key \"{o}\"")).unwrap_or_default())]
    CertificateForOtherKey {
        /// The name of the key it was to be kept with.
        name: String,
        /// The fingerprint of the certificate's public key; `nothing` for an empty chain.
        cert_key: String,
        /// The stored key whose public key the certificate carries; `None` when no stored key's.
        owner: Option<String>,
    },
    /// A certificate file to import could not be read.
    #[error("Could not read the certificate {}: {source}.", .path.display())]
    ReadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key to replace has been replaced already (retired or marked compromised).
    #[error("Key \"{name}\" was already {} on {} and replaced by \"{replaced_by}\"; nothing was changed. Replace \"{replaced_by}\" instead, if it is the one to replace now.", .reason.marked(), crate::certs::day(*since))]
    AlreadyReplaced {
        /// The key's name.
        name: String,
        /// Why it was replaced then.
        reason: ReplaceReason,
        /// When.
        since: OffsetDateTime,
        /// The name its replacement had then.
        replaced_by: String,
    },
    /// The key to replace has no certificate, so there is no subject for its successor's.
    #[error(
        "Key \"{0}\" has no certificate, so there is no subject to give its replacement; nothing was changed. Make a certificate for \"{0}\" first, or make a new key and its certificate from scratch."
    )]
    NoCertificateToReplace(String),
    /// A certificate was to be renewed for a key that has none yet.
    #[error("Key \"{0}\" has no certificate to renew yet. Make a self-signed one first.")]
    NoCertificate(String),
    /// A self-signed certificate was asked for with a validity outside 1 to
    /// [`MAX_VALIDITY_DAYS`](crate::certs::MAX_VALIDITY_DAYS) days.
    #[error("A certificate cannot be valid for {0} days: choose between 1 and {max} (ten years).", max = crate::certs::MAX_VALIDITY_DAYS)]
    BadValidity(u32),
    /// A certificate could not be read or made.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// A key could not be made, read or encoded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The index could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
}
