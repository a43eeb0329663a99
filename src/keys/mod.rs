//! Vendor keys: the two algorithms, reading PKCS#8 files (PEM or DER, encrypted or not),
//! public keys and their fingerprints.
//!
//! Private key material lives only in types that zeroize on drop (the dalek and RustCrypto
//! key types do, and every buffer here is `Zeroizing`), and no `Debug` or error message
//! prints it.

use std::fmt;

use der::Decode;
use sha2::{Digest, Sha256};
use spki::{DecodePublicKey, EncodePublicKey, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::pem;

mod encode;
mod read;

pub use encode::{BACKUP_PBKDF2_ROUNDS, MIN_PASSPHRASE_CHARS};
use read::classify;
pub use read::read_key_file;

/// The signature algorithms Countersign makes keys for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    /// Pure Ed25519 (RFC 8032): the only algorithm UPM accepts.
    #[serde(rename = "Ed25519")]
    Ed25519,
    /// ECDSA over NIST P-384 with SHA-384, DER-encoded signatures. UPM refuses it.
    #[serde(rename = "ECDSA-P384-SHA384")]
    EcdsaP384,
}

impl Algorithm {
    /// Short name used in manifests and `--json` output.
    pub fn id(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::EcdsaP384 => "ECDSA-P384-SHA384",
        }
    }

    /// Whether Atlassian's UPM accepts signatures made with this algorithm.
    pub fn upm_accepts(self) -> bool {
        self == Algorithm::Ed25519
    }

    /// The sentence shown wherever a P-384 key is chosen.
    pub const UPM_WARNING: &'static str = "UPM accepts Ed25519 signatures only: a customer's UPM will refuse an app signed with an ECDSA P-384 key. Use it only where a policy or CA asks for NIST curves.";
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::EcdsaP384 => "ECDSA P-384 (SHA-384)",
        })
    }
}

/// Why a key could not be read, made or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file holds something else: a certificate, a public key, a signing request, other PEM.
    #[error(
        "{source_name} is {found}, not a private key. Give the private key file (PKCS#8, as made by `openssl genpkey -algorithm ed25519`)."
    )]
    NotAPrivateKey {
        /// Names the key file (or other source) in messages.
        source_name: String,
        /// What it holds instead, as a phrase: `a certificate`, `a public key`, ...
        found: String,
    },
    /// The key is of an algorithm Countersign does not sign with (RSA, ECDSA P-256, Ed448, ...).
    #[error(
        "{source_name} holds {algorithm} key. Countersign signs with Ed25519 (what UPM requires) or ECDSA P-384 only; make an Ed25519 key with `openssl genpkey -algorithm ed25519`, or let Countersign generate one."
    )]
    Unsupported {
        /// Names the key file (or other source) in messages.
        source_name: String,
        /// The kind of key, as a phrase that reads before "key": `an RSA`, `an ECDSA P-256`, ...
        algorithm: String,
    },
    /// The file is not a readable private key: empty, damaged, neither PEM nor DER, or
    /// encrypted in a way that is not supported or would take far too long to open.
    #[error("{source_name} is not a readable private key ({detail}). Give a PKCS#8 key in PEM or DER form.")]
    Malformed {
        /// Names the key file (or other source) in messages.
        source_name: String,
        /// What is wrong, as a phrase.
        detail: String,
    },
    /// The passphrase does not decrypt the encrypted key.
    #[error("The passphrase for {source_name} is wrong. Try again, or check COUNTERSIGN_PASSPHRASE.")]
    WrongPassphrase {
        /// Names the key file (or other source) in messages.
        source_name: String,
    },
    /// The key is encrypted, and the caller's passphrase source had none to give.
    #[error(
        "{source_name} is encrypted and no passphrase was given. Set COUNTERSIGN_PASSPHRASE or run from a terminal to be asked."
    )]
    NoPassphrase {
        /// Names the key file (or other source) in messages.
        source_name: String,
    },
    /// A public key (a file, or a certificate's) does not parse.
    #[error("{source_name} is not a readable public key ({detail}).")]
    BadPublicKey {
        /// Names the key file (or other source) in messages.
        source_name: String,
        /// What is wrong, as a phrase.
        detail: String,
    },
    /// A key file does not exist.
    #[error("The key file {} does not exist. Check its path.", .0.display())]
    KeyFileMissing(std::path::PathBuf),
    /// A key file's path is a folder.
    #[error("{} is a folder, not a key file. Give the private key file.", .0.display())]
    KeyFileIsFolder(std::path::PathBuf),
    /// A key file could not be read.
    #[error("Could not read the key file {}: {source}.", .path.display())]
    KeyFileUnreadable {
        /// The key file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The operating system's random number generator failed; nothing was made.
    #[error("The operating system's random number generator failed ({0}); no key was made.")]
    Random(String),
    /// A key could not be encoded or encrypted, or a backup's passphrase is too short.
    #[error("The key could not be encoded ({0}).")]
    Encoding(String),
}

/// A private signing key. Zeroized on drop; `Debug` shows only the public fingerprint.
pub enum PrivateKey {
    /// An Ed25519 key: the only kind whose signatures UPM accepts.
    Ed25519(ed25519_dalek::SigningKey),
    /// An ECDSA key on NIST P-384, signing SHA-384 digests.
    EcdsaP384(p384::ecdsa::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, public {})", self.algorithm(), self.public_key().fingerprint())
    }
}

/// A public key for verifying signatures.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 public key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An ECDSA public key on NIST P-384.
    EcdsaP384(p384::ecdsa::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.algorithm(), self.fingerprint())
    }
}

/// Ed25519's object identifier (RFC 8410): the key algorithm, and the signature algorithm of
/// a certificate signed with an Ed25519 key.
pub const ED25519_OID: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");

impl PrivateKey {
    /// Makes a new key from the operating system's random number generator.
    pub fn generate(algorithm: Algorithm) -> Result<Self, KeyError> {
        match algorithm {
            Algorithm::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                getrandom::fill(&mut seed[..]).map_err(|e| KeyError::Random(e.to_string()))?;
                Ok(PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
            Algorithm::EcdsaP384 => loop {
                // A random 48-byte string is a valid scalar except with negligible
                // probability; draw again in that case.
                let mut bytes = Zeroizing::new([0u8; 48]);
                getrandom::fill(&mut bytes[..]).map_err(|e| KeyError::Random(e.to_string()))?;
                if let Ok(secret) = p384::SecretKey::from_slice(&bytes[..]) {
                    return Ok(PrivateKey::EcdsaP384(p384::ecdsa::SigningKey::from(secret)));
                }
            },
        }
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Ed25519(_) => Algorithm::Ed25519,
            PrivateKey::EcdsaP384(_) => Algorithm::EcdsaP384,
        }
    }

    /// The public half of the key, which verifies its signatures.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::EcdsaP384(k) => PublicKey::EcdsaP384(*k.verifying_key()),
        }
    }
}

impl PublicKey {
    /// The algorithm of the signatures the key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::EcdsaP384(_) => Algorithm::EcdsaP384,
        }
    }

    /// Reads a DER SubjectPublicKeyInfo, refusing algorithms we do not sign with by name.
    pub fn from_spki_der(der: &[u8], source_name: &str) -> Result<Self, KeyError> {
        let bad = |detail: String| KeyError::BadPublicKey { source_name: source_name.to_owned(), detail };
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| bad(e.to_string()))?;
        let (alg, curve) = spki.algorithm.oids().map_err(|e| bad(e.to_string()))?;
        let algorithm = classify(alg, curve)
            .map_err(|algorithm| KeyError::Unsupported { source_name: source_name.to_owned(), algorithm })?;
        match algorithm {
            Algorithm::Ed25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::Ed25519)
                .map_err(|e| bad(e.to_string())),
            Algorithm::EcdsaP384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::EcdsaP384)
                .map_err(|e| bad(e.to_string())),
        }
    }

    /// Reads a public key file: PEM `PUBLIC KEY` or DER SubjectPublicKeyInfo.
    pub fn from_file_bytes(bytes: &[u8], source_name: &str) -> Result<Self, KeyError> {
        if pem::looks_like_pem(bytes) {
            let blocks = pem::blocks(bytes)
                .map_err(|detail| KeyError::BadPublicKey { source_name: source_name.to_owned(), detail })?;
            let block =
                blocks.iter().find(|b| b.label == "PUBLIC KEY").ok_or_else(|| KeyError::BadPublicKey {
                    source_name: source_name.to_owned(),
                    detail: "it has no PUBLIC KEY block".into(),
                })?;
            return Self::from_spki_der(&block.der, source_name);
        }
        Self::from_spki_der(bytes, source_name)
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::EcdsaP384(k) => k.to_public_key_der(),
        };
        // Encoding a valid in-memory key into a small buffer cannot fail.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// PEM `PUBLIC KEY`, as `openssl pkey -pubout` writes it.
    pub fn to_spki_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.to_spki_der())
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex: the key's identity, the same
    /// as `openssl pkey -pubin -outform DER | sha256sum`.
    pub fn fingerprint(&self) -> String {
        crate::hex::lower(&Sha256::digest(self.to_spki_der()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_pass() -> Result<Zeroizing<String>, KeyError> {
        panic!("passphrase must not be asked for an unencrypted key")
    }

    #[test]
    fn generated_keys_round_trip_through_pkcs8() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
            let k = PrivateKey::generate(alg).unwrap();
            let der = k.to_pkcs8_der().unwrap();
            let back = PrivateKey::from_file_bytes(&der, "mem", no_pass).unwrap();
            assert_eq!(back.public_key(), k.public_key());
            let pem_text = pem::encode("PRIVATE KEY", &der);
            let back = PrivateKey::from_file_bytes(pem_text.as_bytes(), "mem", no_pass).unwrap();
            assert_eq!(back.algorithm(), alg);
        }
    }

    #[test]
    fn ed25519_pkcs8_is_the_version_1_form() {
        let k = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let der = k.to_pkcs8_der().unwrap();
        assert_eq!(der.len(), 48);
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let k = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let PrivateKey::Ed25519(inner) = &k else { unreachable!() };
        let seed_hex = crate::hex::lower(inner.as_bytes());
        let shown = format!("{k:?}");
        assert!(!shown.contains(&seed_hex));
        assert!(shown.contains(&k.public_key().fingerprint()));
    }

    #[test]
    fn a_public_key_file_is_not_a_private_key() {
        let k = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let err = PrivateKey::from_file_bytes(k.public_key().to_spki_pem().as_bytes(), "pub.pem", no_pass)
            .unwrap_err();
        assert!(err.to_string().contains("pub.pem is a public key"), "{err}");
        let err = PrivateKey::from_file_bytes(&k.public_key().to_spki_der(), "pub.der", no_pass).unwrap_err();
        assert!(err.to_string().contains("is a public key"), "{err}");
    }

    #[test]
    fn public_keys_round_trip_and_fingerprints_are_stable() {
        let k = PrivateKey::generate(Algorithm::EcdsaP384).unwrap();
        let p = k.public_key();
        let back = PublicKey::from_file_bytes(p.to_spki_pem().as_bytes(), "p").unwrap();
        assert_eq!(back, p);
        assert_eq!(back.fingerprint(), p.fingerprint());
        assert_eq!(p.fingerprint().len(), 64);
    }

    #[test]
    fn encrypted_backups_open_with_the_passphrase_only() {
        let k = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let pem_text = k.to_encrypted_pem("correct horse battery").unwrap();
        assert!(pem_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = PrivateKey::from_file_bytes(pem_text.as_bytes(), "b", || {
            Ok(Zeroizing::new("correct horse battery".into()))
        })
        .unwrap();
        assert_eq!(back.public_key(), k.public_key());
        let wrong = PrivateKey::from_file_bytes(pem_text.as_bytes(), "b", || {
            Ok(Zeroizing::new("wrong horse battery".into()))
        });
        assert!(matches!(wrong, Err(KeyError::WrongPassphrase { .. })));
        assert!(k.to_encrypted_pem("short").is_err());
    }

    #[test]
    fn garbage_and_empty_are_malformed() {
        assert!(matches!(PrivateKey::from_file_bytes(b"", "k", no_pass), Err(KeyError::Malformed { .. })));
        assert!(matches!(
            PrivateKey::from_file_bytes(b"hello", "k", no_pass),
            Err(KeyError::Malformed { .. })
        ));
    }
}
