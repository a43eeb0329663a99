//! Making and checking signatures over whole files, streaming, with flat memory.
//!
//! Ed25519 here is pure EdDSA over the exact bytes of the file, which reads the message
//! twice (once for the nonce, once for the challenge); both passes read the file again
//! rather than holding it. The result is byte-identical to
//! `openssl pkeyutl -sign -rawin`. ECDSA P-384 hashes the file once with SHA-384 and signs
//! the digest (RFC 6979), giving the DER signature `openssl dgst -sha384 -verify` accepts.
//!
//! Every pass also computes the file's SHA-256 (for the manifest). The two Ed25519 passes
//! compare theirs, so a file that changes while it is being signed is reported instead of
//! producing a signature that matches neither version.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};

use p384::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::keys::{Algorithm, PrivateKey, PublicKey};
use crate::progress::Progress;

/// Bytes read per step: large enough for full disk speed, small enough for flat memory
/// and prompt cancellation.
const CHUNK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("Could not read {}: {source}.", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("Signing was cancelled; nothing was written.")]
    Cancelled,
    #[error("{} changed while it was being signed. Wait until it is completely written (a build still running?) and sign again.", .0.display())]
    Changed(PathBuf),
    #[error("The signature could not be made ({0}).")]
    Crypto(String),
}

/// The raw bytes of a signature: 64 bytes for Ed25519, DER for ECDSA.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(Vec<u8>);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignatureTextError {
    #[error("{0} is empty; it should hold the Base64 text of the signature.")]
    Empty(String),
    #[error("{0} is not a signature: it is neither Base64 text nor a raw 64-byte Ed25519 signature.")]
    NotASignature(String),
}

impl Signature {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Signature(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Standard Base64 with padding, one line: the form of a `.sig` file and of UPM's
    /// Signature field.
    pub fn to_base64(&self) -> String {
        Base64::encode_string(&self.0)
    }

    /// Reads a `.sig` file's content: Base64 text (surrounding whitespace and wrapped
    /// lines allowed), or the raw binary signature that `openssl pkeyutl -sign` writes.
    pub fn decode(content: &[u8], source_name: &str) -> Result<Self, SignatureTextError> {
        let compact: Vec<u8> = content.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        if compact.is_empty() {
            return Err(SignatureTextError::Empty(source_name.to_owned()));
        }
        let is_base64_text = compact.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if is_base64_text {
            if let Ok(bytes) = Base64::decode_vec(std::str::from_utf8(&compact).unwrap_or_default()) {
                return Ok(Signature(bytes));
            }
        }
        // Raw binary: an Ed25519 signature is exactly 64 bytes, an ECDSA one a DER SEQUENCE.
        if content.len() == 64 || (content.first() == Some(&0x30) && content.len() < 128) {
            return Ok(Signature(content.to_vec()));
        }
        Err(SignatureTextError::NotASignature(source_name.to_owned()))
    }
}

/// What signing a file produced.
#[derive(Debug, Clone)]
pub struct Signed {
    pub signature: Signature,
    pub algorithm: Algorithm,
    /// SHA-256 of the bytes that were signed.
    pub sha256: [u8; 32],
    pub size: u64,
}

/// What checking a signature found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The signature matches the file under the key.
    pub valid: bool,
    /// Why not, when `valid` is false.
    pub reason: Option<String>,
    pub sha256: [u8; 32],
    pub size: u64,
}

/// Reads the file in chunks, feeding each to `sink`, reporting into `progress` and stopping
/// when it is cancelled. Returns the SHA-256 of what was read and its length.
fn stream_file(path: &Path, progress: &Progress, mut sink: impl FnMut(&[u8])) -> Result<([u8; 32], u64), SignError> {
    let read_err = |source| SignError::Read { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(read_err)?;
    let mut buf = vec![0u8; CHUNK];
    let mut sha = Sha256::new();
    let mut size = 0u64;
    loop {
        progress.check().map_err(|_| SignError::Cancelled)?;
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        sha.update(&buf[..n]);
        sink(&buf[..n]);
        size += n as u64;
        progress.advance(n as u64);
    }
    Ok((sha.finalize().into(), size))
}

fn file_len(path: &Path) -> Result<u64, SignError> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|source| SignError::Read { path: path.to_path_buf(), source })
}

/// Signs the exact bytes of the file at `path`.
pub fn sign_file(path: &Path, key: &PrivateKey, progress: &Progress) -> Result<Signed, SignError> {
    let len = file_len(path)?;
    match key {
        PrivateKey::Ed25519(k) => {
            progress.start(len.saturating_mul(2));
            let expanded = ExpandedSecretKey::from(k.as_bytes());
            let passes: RefCell<Vec<([u8; 32], u64)>> = RefCell::new(Vec::with_capacity(2));
            let failure: RefCell<Option<SignError>> = RefCell::new(None);
            let result = raw_sign_byupdate::<Sha512, _>(
                &expanded,
                |hash: &mut Sha512| match stream_file(path, progress, |chunk| hash.update(chunk)) {
                    Ok(pass) => {
                        passes.borrow_mut().push(pass);
                        Ok(())
                    }
                    Err(e) => {
                        *failure.borrow_mut() = Some(e);
                        Err(ed25519_dalek::SignatureError::new())
                    }
                },
                &k.verifying_key(),
            );
            if let Some(e) = failure.into_inner() {
                return Err(e);
            }
            let signature = result.map_err(|e| SignError::Crypto(e.to_string()))?;
            let passes = passes.into_inner();
            let first = passes.first().copied().ok_or_else(|| SignError::Crypto("the file was not read".into()))?;
            if passes.iter().any(|p| *p != first) {
                return Err(SignError::Changed(path.to_path_buf()));
            }
            Ok(Signed {
                signature: Signature(signature.to_bytes().to_vec()),
                algorithm: Algorithm::Ed25519,
                sha256: first.0,
                size: first.1,
            })
        }
        PrivateKey::EcdsaP384(k) => {
            progress.start(len);
            let mut sha384 = Sha384::new();
            let (sha256, size) = stream_file(path, progress, |chunk| sha384.update(chunk))?;
            let digest = sha384.finalize();
            let sig: p384::ecdsa::Signature = k.sign_prehash(&digest).map_err(|e| SignError::Crypto(e.to_string()))?;
            Ok(Signed {
                signature: Signature(sig.to_der().as_bytes().to_vec()),
                algorithm: Algorithm::EcdsaP384,
                sha256,
                size,
            })
        }
    }
}

/// Checks `signature` over the exact bytes of the file at `path` under `key`.
pub fn verify_file(path: &Path, key: &PublicKey, signature: &Signature, progress: &Progress) -> Result<Checked, SignError> {
    progress.start(file_len(path)?);
    match key {
        PublicKey::Ed25519(k) => {
            let parsed = <[u8; 64]>::try_from(signature.as_bytes())
                .ok()
                .map(|b| ed25519_dalek::Signature::from_bytes(&b));
            let Some(parsed) = parsed else {
                let (sha256, size) = stream_file(path, progress, |_| {})?;
                return Ok(Checked {
                    valid: false,
                    reason: Some(format!(
                        "the signature is {} bytes long; an Ed25519 signature is 64 bytes",
                        signature.as_bytes().len()
                    )),
                    sha256,
                    size,
                });
            };
            match k.verify_stream(&parsed) {
                Ok(mut verifier) => {
                    let (sha256, size) = stream_file(path, progress, |chunk| verifier.update(chunk))?;
                    let valid = verifier.finalize_and_verify().is_ok();
                    Ok(Checked { valid, reason: (!valid).then(mismatch), sha256, size })
                }
                Err(_) => {
                    let (sha256, size) = stream_file(path, progress, |_| {})?;
                    Ok(Checked { valid: false, reason: Some("the signature is malformed".into()), sha256, size })
                }
            }
        }
        PublicKey::EcdsaP384(k) => {
            let mut sha384 = Sha384::new();
            let (sha256, size) = stream_file(path, progress, |chunk| sha384.update(chunk))?;
            let digest = sha384.finalize();
            let outcome = match p384::ecdsa::Signature::from_der(signature.as_bytes()) {
                Err(_) => Err("the signature is not a DER-encoded ECDSA signature".to_owned()),
                Ok(sig) => k.verify_prehash(&digest, &sig).map_err(|_| mismatch()),
            };
            Ok(Checked { valid: outcome.is_ok(), reason: outcome.err(), sha256, size })
        }
    }
}

fn mismatch() -> String {
    "the signature does not match this file under this key: the file was changed after signing, or it was signed with another key".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn streaming_ed25519_equals_the_one_shot_signature() {
        use ed25519_dalek::Signer;
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i * 31 % 251) as u8).collect();
        let f = file_with(&data);
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let PrivateKey::Ed25519(inner) = &key else { unreachable!() };
        let signed = sign_file(f.path(), &key, &Progress::new()).unwrap();
        assert_eq!(signed.signature.as_bytes(), inner.sign(&data).to_bytes());
        assert_eq!(signed.size, data.len() as u64);
        assert_eq!(signed.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[test]
    fn both_algorithms_verify_their_own_and_reject_a_changed_file() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
            let key = PrivateKey::generate(alg).unwrap();
            let f = file_with(b"some jar bytes");
            let signed = sign_file(f.path(), &key, &Progress::new()).unwrap();
            let ok = verify_file(f.path(), &key.public_key(), &signed.signature, &Progress::new()).unwrap();
            assert!(ok.valid, "{alg}");
            let g = file_with(b"some jar bytez");
            let bad = verify_file(g.path(), &key.public_key(), &signed.signature, &Progress::new()).unwrap();
            assert!(!bad.valid && bad.reason.is_some(), "{alg}");
        }
    }

    #[test]
    fn a_cancelled_signing_stops_with_cancelled() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let f = file_with(&[0u8; 10]);
        let p = Progress::new();
        p.cancel();
        assert!(matches!(sign_file(f.path(), &key, &p), Err(SignError::Cancelled)));
    }

    #[test]
    fn progress_counts_both_ed25519_passes() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let f = file_with(&[1u8; 1000]);
        let p = Progress::new();
        sign_file(f.path(), &key, &p).unwrap();
        assert_eq!((p.done(), p.total()), (2000, 2000));
    }

    #[test]
    fn signature_text_is_decoded_leniently_and_garbage_is_refused() {
        let sig = Signature(vec![0xAB; 64]);
        let text = sig.to_base64();
        assert_eq!(text.len(), 88);
        let wrapped = format!("  {}\r\n{}\n", &text[..40], &text[40..]);
        assert_eq!(Signature::decode(wrapped.as_bytes(), "s").unwrap(), sig);
        assert_eq!(Signature::decode(&[0xAB; 64], "s").unwrap(), sig);
        assert!(matches!(Signature::decode(b" \n", "s"), Err(SignatureTextError::Empty(_))));
        assert!(Signature::decode(b"not a signature at all!", "s").is_err());
    }
}
