//! Writing private keys out: unencrypted PKCS#8 for the keychain, and the passphrase-encrypted
//! form of backups. Apart from reading, whose formats are wider than the ones written.

use der::Decode;
use pkcs8::PrivateKeyInfoRef;
use zeroize::Zeroizing;

use super::{KeyError, PrivateKey};
use crate::pem;

/// PBKDF2 rounds for backups: OWASP's 2023 figure for PBKDF2-HMAC-SHA256. With AES-256-CBC
/// this is the scheme both `openssl pkey` and the JDK open (scrypt, the pkcs8 crate's
/// default, the JDK cannot).
pub const BACKUP_PBKDF2_ROUNDS: u32 = 600_000;

/// Shortest passphrase accepted for a backup.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

impl PrivateKey {
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
