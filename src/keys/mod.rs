//! Vendor keys: the two algorithms, reading PKCS#8 files (PEM or DER, encrypted or not),
//! public keys and their fingerprints.
//!
//! Private key material lives only in types that zeroize on drop (the dalek and RustCrypto
//! key types do, and every buffer here is `Zeroizing`), and no `Debug` or error message
//! prints it.

use std::fmt;

use der::Decode;
use der::asn1::ObjectIdentifier;
use pkcs8::{DecodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use sha2::{Digest, Sha256};
use spki::{DecodePublicKey, EncodePublicKey, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::pem;

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

/// Object identifiers of the key algorithms people are likely to hand us, so a refusal
/// can say what the key is.
mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const ED25519: Oid = super::ED25519_OID;
    pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    pub const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    pub const X448: Oid = Oid::new_unwrap("1.3.101.111");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
    pub const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
}

/// What kind of key an algorithm identifier names, or a phrase for the refusal.
fn classify(algorithm: ObjectIdentifier, curve: Option<ObjectIdentifier>) -> Result<Algorithm, String> {
    match algorithm {
        a if a == oid::ED25519 => Ok(Algorithm::Ed25519),
        a if a == oid::EC_PUBLIC_KEY => match curve {
            Some(c) if c == oid::SECP384R1 => Ok(Algorithm::EcdsaP384),
            Some(c) if c == oid::SECP256R1 => Err("an ECDSA P-256".into()),
            Some(c) if c == oid::SECP521R1 => Err("an ECDSA P-521".into()),
            Some(c) if c == oid::SECP256K1 => Err("an ECDSA secp256k1".into()),
            Some(c) => Err(format!("an elliptic-curve key on curve {c}, which is not a supported")),
            None => Err("an elliptic-curve key without a named curve, which is not a supported".into()),
        },
        a if a == oid::RSA || a == oid::RSA_PSS => Err("an RSA".into()),
        a if a == oid::ED448 => Err("an Ed448".into()),
        a if a == oid::X25519 => Err("an X25519 (key agreement, not signing)".into()),
        a if a == oid::X448 => Err("an X448 (key agreement, not signing)".into()),
        a if a == oid::DSA => Err("a DSA".into()),
        other => Err(format!("a key of algorithm {other}, which is not a supported")),
    }
}

/// True when `der` starts like a SEC1 EC private key: a SEQUENCE whose first two members
/// are INTEGER 1 and an OCTET STRING.
fn looks_like_sec1_der(der: &[u8]) -> bool {
    let body = match der {
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, 0x82, _, _, rest @ ..] => rest,
        _ => return false,
    };
    body.starts_with(&[0x02, 0x01, 0x01, 0x04])
}

/// The most PBKDF2 rounds an imported key may ask for: 16 times the 600,000 Countersign's own
/// backups use, a few seconds of work. The count comes from the file, so without a ceiling a
/// key file of 300 bytes can ask for four billion rounds and hold the app for hours.
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// The most memory an imported key's scrypt may ask for (128 * r * N bytes): 256 MiB, eight
/// times what `openssl pkcs8 -scrypt` uses. scrypt allocates it up front, so a file asking for
/// N = 2^40 would end the process rather than fail.
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;

/// The most scrypt work (N * r * p) an imported key may ask for, for the same reason.
const MAX_SCRYPT_WORK: u64 = 1 << 24;

/// Refuses, before any passphrase is asked for, an encrypted key whose key-derivation
/// parameters (which the file chooses) would take hours, exhaust memory, or are degenerate.
fn refuse_runaway_kdf(scheme: &pkcs8::pkcs5::EncryptionScheme, source_name: &str) -> Result<(), KeyError> {
    let Some(pbes2) = scheme.pbes2() else { return Ok(()) };
    let problem = if let Some(p) = pbes2.kdf.pbkdf2() {
        match p.iteration_count {
            0 => Some("PBKDF2 with zero rounds".to_owned()),
            n if n > MAX_PBKDF2_ROUNDS => {
                Some(format!("PBKDF2 with {n} rounds (at most {MAX_PBKDF2_ROUNDS} are accepted)"))
            }
            _ => None,
        }
    } else if let Some(s) = pbes2.kdf.scrypt() {
        let (n, r, p) = (s.cost_parameter, u64::from(s.block_size), u64::from(s.parallelization));
        let memory = n.checked_mul(r).and_then(|v| v.checked_mul(128));
        let work = n.checked_mul(r).and_then(|v| v.checked_mul(p));
        if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
            Some(format!("scrypt with N={n}, r={r}, p={p}, which is not a valid setting"))
        } else if memory.is_none_or(|m| m > MAX_SCRYPT_MEMORY) || work.is_none_or(|w| w > MAX_SCRYPT_WORK) {
            Some(format!(
                "scrypt with N={n}, r={r}, p={p}, more memory or time than a key needs (at most 256 MiB)"
            ))
        } else {
            None
        }
    } else {
        None
    };
    match problem {
        Some(what) => Err(KeyError::Malformed {
            source_name: source_name.to_owned(),
            detail: format!(
                "its encryption asks for {what}; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
            ),
        }),
        None => Ok(()),
    }
}

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

    /// Reads a private key file (at most 1 MiB, into memory that is wiped), asking
    /// `passphrase` only if the key is encrypted. The file's path names it in errors.
    pub fn from_file(
        path: &std::path::Path,
        passphrase: impl FnOnce() -> Result<Zeroizing<String>, KeyError>,
    ) -> Result<Self, KeyError> {
        Self::from_file_bytes(&read_key_file(path)?, &path.display().to_string(), passphrase)
    }

    /// Reads a private key from the bytes of a file: PKCS#8 (PEM `PRIVATE KEY` or
    /// `ENCRYPTED PRIVATE KEY`, or DER), or a SEC1 `EC PRIVATE KEY`. `passphrase` is asked
    /// only when the key is encrypted. `source_name` names the file in errors.
    pub fn from_file_bytes(
        bytes: &[u8],
        source_name: &str,
        passphrase: impl FnOnce() -> Result<Zeroizing<String>, KeyError>,
    ) -> Result<Self, KeyError> {
        let malformed = |detail: String| KeyError::Malformed { source_name: source_name.to_owned(), detail };
        if bytes.is_empty() {
            return Err(malformed("the file is empty".into()));
        }
        if pem::looks_like_pem(bytes) {
            let blocks = pem::blocks(bytes).map_err(malformed)?;
            let chosen = blocks.iter().find(|b| {
                matches!(b.label.as_str(), "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" | "EC PRIVATE KEY")
            });
            let Some(block) = chosen else {
                let found = match blocks.first().map(|b| b.label.as_str()) {
                    Some("CERTIFICATE") | Some("TRUSTED CERTIFICATE") => "a certificate".to_owned(),
                    Some("PUBLIC KEY") => "a public key".to_owned(),
                    Some("CERTIFICATE REQUEST") | Some("NEW CERTIFICATE REQUEST") => {
                        "a certificate signing request".to_owned()
                    }
                    Some("RSA PRIVATE KEY") => {
                        return Err(KeyError::Unsupported {
                            source_name: source_name.to_owned(),
                            algorithm: "an RSA".into(),
                        });
                    }
                    Some(other) => format!("a PEM \"{other}\" document"),
                    None => "PEM text without any block".to_owned(),
                };
                return Err(KeyError::NotAPrivateKey { source_name: source_name.to_owned(), found });
            };
            return match block.label.as_str() {
                "ENCRYPTED PRIVATE KEY" => Self::from_encrypted_der(&block.der, source_name, passphrase),
                "EC PRIVATE KEY" => Self::from_sec1_der(&block.der, source_name),
                _ => Self::from_pkcs8_der(&block.der, source_name),
            };
        }
        if PrivateKeyInfoRef::from_der(bytes).is_ok() {
            return Self::from_pkcs8_der(bytes, source_name);
        }
        if EncryptedPrivateKeyInfoRef::from_der(bytes).is_ok() {
            return Self::from_encrypted_der(bytes, source_name, passphrase);
        }
        if x509_cert::Certificate::from_der(bytes).is_ok() {
            return Err(KeyError::NotAPrivateKey {
                source_name: source_name.to_owned(),
                found: "a certificate".into(),
            });
        }
        if SubjectPublicKeyInfoRef::from_der(bytes).is_ok() {
            return Err(KeyError::NotAPrivateKey {
                source_name: source_name.to_owned(),
                found: "a public key".into(),
            });
        }
        // SEC1 ("traditional") DER, which `openssl pkey -outform DER` writes for EC keys:
        // SEQUENCE { INTEGER 1, OCTET STRING ... }.
        if looks_like_sec1_der(bytes) {
            return Self::from_sec1_der(bytes, source_name);
        }
        Err(malformed("it is neither PEM text nor a DER-encoded PKCS#8 key".into()))
    }

    /// Reads an unencrypted PKCS#8 DER document.
    pub fn from_pkcs8_der(der: &[u8], source_name: &str) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed {
            source_name: source_name.to_owned(),
            detail: format!("not PKCS#8: {e}"),
        })?;
        let (alg, curve) = info.algorithm.oids().map_err(|e| KeyError::Malformed {
            source_name: source_name.to_owned(),
            detail: e.to_string(),
        })?;
        let algorithm = classify(alg, curve)
            .map_err(|algorithm| KeyError::Unsupported { source_name: source_name.to_owned(), algorithm })?;
        let bad = |e: pkcs8::Error| KeyError::Malformed {
            source_name: source_name.to_owned(),
            detail: e.to_string(),
        };
        match algorithm {
            Algorithm::Ed25519 => {
                Ok(PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(bad)?))
            }
            Algorithm::EcdsaP384 => {
                let secret = p384::SecretKey::from_pkcs8_der(der).map_err(bad)?;
                Ok(PrivateKey::EcdsaP384(p384::ecdsa::SigningKey::from(secret)))
            }
        }
    }

    fn from_sec1_der(der: &[u8], source_name: &str) -> Result<Self, KeyError> {
        let secret = p384::SecretKey::from_sec1_der(der).map_err(|_| KeyError::Unsupported {
            source_name: source_name.to_owned(),
            algorithm: "an elliptic-curve key that is not on P-384, or a damaged SEC1".into(),
        })?;
        Ok(PrivateKey::EcdsaP384(p384::ecdsa::SigningKey::from(secret)))
    }

    fn from_encrypted_der(
        der: &[u8],
        source_name: &str,
        passphrase: impl FnOnce() -> Result<Zeroizing<String>, KeyError>,
    ) -> Result<Self, KeyError> {
        let info = EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed {
            source_name: source_name.to_owned(),
            detail: format!("not an encrypted PKCS#8 key: {e}"),
        })?;
        refuse_runaway_kdf(&info.encryption_algorithm, source_name)?;
        let pass = passphrase()?;
        // A wrong passphrase shows up as bad padding or as garbage that is not PKCS#8.
        let plain = info.decrypt(pass.as_bytes()).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
                KeyError::WrongPassphrase { source_name: source_name.to_owned() }
            }
            pkcs8::Error::EncryptedPrivateKey(other) => KeyError::Malformed {
                source_name: source_name.to_owned(),
                detail: format!("its encryption is not supported: {other}; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"),
            },
            other => KeyError::Malformed { source_name: source_name.to_owned(), detail: other.to_string() },
        })?;
        match PrivateKeyInfoRef::from_der(plain.as_bytes()) {
            Ok(_) => Self::from_pkcs8_der(plain.as_bytes(), source_name),
            Err(_) => Err(KeyError::WrongPassphrase { source_name: source_name.to_owned() }),
        }
    }

    /// Unencrypted PKCS#8 DER. Ed25519 keys are written in the version-1 form that
    /// `openssl genpkey` writes (OpenSSL 3.0 refuses the version-2 form with the public key).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match self {
            PrivateKey::Ed25519(k) => {
                const PREFIX: [u8; 16] = [
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
                    0x20,
                ];
                let mut der = Zeroizing::new(Vec::with_capacity(48));
                der.extend_from_slice(&PREFIX);
                der.extend_from_slice(k.as_bytes());
                Ok(der)
            }
            PrivateKey::EcdsaP384(k) => {
                use pkcs8::EncodePrivateKey;
                let secret = p384::SecretKey::from(k.as_nonzero_scalar());
                let doc = secret.to_pkcs8_der().map_err(|e| KeyError::Encoding(e.to_string()))?;
                Ok(Zeroizing::new(doc.as_bytes().to_vec()))
            }
        }
    }
}

/// Reads a key file (at most 1 MiB) into memory that is wiped, for a caller that reads more
/// than the key from it (the certificates a backup carries after the key).
pub fn read_key_file(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use std::io::Read as _;
    const MAX_KEY_FILE: u64 = 1 << 20;
    let unreadable = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => KeyError::KeyFileMissing(path.to_path_buf()),
        _ => KeyError::KeyFileUnreadable { path: path.to_path_buf(), source },
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(KeyError::KeyFileIsFolder(path.to_path_buf()));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // Sized up front, so that a growing buffer never leaves copies of the key behind.
    let size = usize::try_from(meta.len().min(MAX_KEY_FILE)).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(size + 1));
    file.take(MAX_KEY_FILE).read_to_end(&mut bytes).map_err(unreadable)?;
    Ok(bytes)
}

/// PBKDF2 rounds for backups: OWASP's 2023 figure for PBKDF2-HMAC-SHA256. With AES-256-CBC
/// this is the scheme both `openssl pkey` and the JDK open (scrypt, the pkcs8 crate's
/// default, the JDK cannot).
pub const BACKUP_PBKDF2_ROUNDS: u32 = 600_000;

/// Shortest passphrase accepted for a backup.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

impl PrivateKey {
    /// Passphrase-encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`), as
    /// `openssl pkey -in FILE -passin ...` reads it.
    pub fn to_encrypted_pem(&self, passphrase: &str) -> Result<Zeroizing<String>, KeyError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeyError::Encoding(format!(
                "the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
            )));
        }
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut salt)
            .and_then(|()| getrandom::fill(&mut iv))
            .map_err(|e| KeyError::Random(e.to_string()))?;
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            BACKUP_PBKDF2_ROUNDS,
            &salt,
            iv,
        )
        .map_err(|e| KeyError::Encoding(e.to_string()))?;
        let der = self.to_pkcs8_der()?;
        let info = PrivateKeyInfoRef::from_der(&der).map_err(|e| KeyError::Encoding(e.to_string()))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase.as_bytes())
            .map_err(|e| KeyError::Encoding(e.to_string()))?;
        let pem = encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| KeyError::Encoding(e.to_string()))?;
        Ok(Zeroizing::new(pem.to_string()))
    }

    /// Unencrypted PKCS#8 PEM, for the keychain (which encrypts it itself).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        Ok(Zeroizing::new(pem::encode("PRIVATE KEY", &self.to_pkcs8_der()?)))
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
