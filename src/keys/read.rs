//! Reading private keys: PKCS#8 files (PEM or DER, encrypted or not) and SEC1 EC keys,
//! with a refusal that names what a key of another kind is, and a ceiling on the work an
//! encrypted file may ask for. Apart, because reading untrusted files is where the care goes.

use der::Decode;
use der::asn1::ObjectIdentifier;
use pkcs8::{DecodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use super::{Algorithm, KeyError, PrivateKey};
use crate::pem;

/// Object identifiers of the key algorithms people are likely to hand us, so a refusal
/// can say what the key is.
mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const ED25519: Oid = crate::keys::ED25519_OID;
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
pub(super) fn classify(
    algorithm: ObjectIdentifier,
    curve: Option<ObjectIdentifier>,
) -> Result<Algorithm, String> {
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
