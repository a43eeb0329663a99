//! Making and checking signatures over whole files, streaming, with flat memory.
//!
//! Ed25519 here is pure EdDSA over the exact bytes of the file, which reads the message
//! twice (once for the nonce, once for the challenge); both passes read the file again
//! rather than holding it. The result is byte-identical to
//! `openssl pkeyutl -sign -rawin`. ECDSA P-384 hashes the file once with SHA-384 and signs
//! the digest (RFC 6979), giving the DER signature `openssl dgst -sha384 -verify` accepts.
//!
//! Every pass also computes the SHA-256 of what it read, on the reading thread (the first
//! pass's goes into the manifest). The two Ed25519 passes compare theirs, so a change
//! between them is reported instead of producing a signature that matches neither version
//! and, worse, gives away the key (see `sign_passes`). The second pass may read a copy the
//! first one wrote ([`sign_copying`]): the bundle's own copy of the app.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};

use p384::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
// SHA-512 is the speed of Ed25519 signing (two passes over the file) and verifying (one).
// The sha2 crate (pure Rust; AVX2 with BMI2 chosen at run time since 0.11.3) needs no system
// library or C compiler. Measured on an Intel Xeon (Sapphire Rapids, 2 vCPUs) in December
// 2026, 64 MiB in memory, median of 10 runs' best: sha2 0.11.0 439 MB/s, 0.11.3 464, 0.11.3
// soft backend with target-cpu=native 454, sha2 0.10 with its asm feature (C compiler) 462,
// ring (C compiler) 498, OpenSSL 3.0's libcrypto 503. On an AMD EPYC, sha2 0.11.0 did
// 430-530 and ring 420-460 against libcrypto's 757. See the README's benchmark table.
use sha2::{Digest, Sha384, Sha512};

use crate::keys::{Algorithm, PrivateKey, PublicKey};
use crate::progress::Progress;

mod stream;
#[cfg(test)]
mod tests;

use stream::{Pass, open, stream_file, stream_file_to};

/// Why a file could not be signed, hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The file could not be opened or read.
    #[error("Could not read {}: {source}.", .path.display())]
    Read {
        /// The file being read.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The work was cancelled through its [`Progress`].
    #[error("Signing was cancelled; nothing was written.")]
    Cancelled,
    /// The file's bytes differed between the two passes of an Ed25519 signing.
    #[error("{} changed while it was being signed. Wait until it is completely written (a build still running?) and sign again.", .0.display())]
    Changed(PathBuf),
    /// Writing the copy of the file, as it was read, failed (see [`sign_copying`]).
    #[error("Could not write the copy of {}: {source}.", .path.display())]
    Copy {
        /// The file being copied.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The signature primitive failed (not expected with a valid key).
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

/// Why a `.sig` file's content is not a signature; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SignatureTextError {
    /// The content is empty, or only whitespace.
    #[error("{0} is empty; it should hold the Base64 text of the signature.")]
    Empty(String),
    /// The content is neither Base64 text nor a plausible raw signature.
    #[error("{0} is not a signature: it is neither Base64 text nor a raw 64-byte Ed25519 signature.")]
    NotASignature(String),
}

impl Signature {
    /// The raw bytes: 64 of them for an Ed25519 signature, DER for an ECDSA P-384 one.
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
        let is_base64_text =
            compact.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if is_base64_text
            && let Ok(bytes) = Base64::decode_vec(std::str::from_utf8(&compact).unwrap_or_default())
        {
            return Ok(Signature(bytes));
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
    /// The signature over the file's exact bytes.
    pub signature: Signature,
    /// The algorithm of the key that signed.
    pub algorithm: Algorithm,
    /// SHA-256 of the bytes that were signed.
    pub sha256: [u8; 32],
    /// How many bytes were signed.
    pub size: u64,
}

/// What checking a signature found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The signature matches the file under the key.
    pub valid: bool,
    /// Why not, when `valid` is false.
    pub reason: Option<String>,
    /// SHA-256 of the bytes that were read.
    pub sha256: [u8; 32],
    /// How many bytes were read.
    pub size: u64,
}

/// The SHA-256 and length of the file at `path` (what the window shows on a drop), reading
/// it as signing does: in chunks, with progress, cancellable.
pub fn sha256_file(path: &Path, progress: &Progress) -> Result<([u8; 32], u64), SignError> {
    let (file, len) = open(path)?;
    progress.start(len);
    let pass = stream_file(&file, path, progress, true, |_| {})?;
    Ok((pass.sha256.unwrap_or_default(), pass.size))
}

/// Signs the exact bytes of the file at `path`.
pub fn sign_file(path: &Path, key: &PrivateKey, progress: &Progress) -> Result<Signed, SignError> {
    let (file, len) = open(path)?;
    progress.start(len.saturating_mul(passes(key)));
    sign_open(&file, path, key, progress)
}

/// How many times signing with `key` reads the whole file: twice for Ed25519 (the nonce,
/// then the challenge), once for ECDSA P-384.
pub fn passes(key: &PrivateKey) -> u64 {
    match key {
        PrivateKey::Ed25519(_) => 2,
        PrivateKey::EcdsaP384(_) => 1,
    }
}

/// Signs the exact bytes of `file` (open; read from its start), `path` naming it in
/// messages, advancing `progress` by the file's length per pass (see [`passes`]; the caller
/// starts the phase, which may hold more work). Both Ed25519 passes read this one open
/// file, so a file renamed over `path` meanwhile (as build tools do) does not mix two
/// versions.
pub fn sign_open(
    file: &File,
    path: &Path,
    key: &PrivateKey,
    progress: &Progress,
) -> Result<Signed, SignError> {
    sign_passes(file, None, &mut || Ok(()), path, key, progress)
}

/// Signs the exact bytes of `file` (read from its start) and writes them into `copy` on the
/// way, in one read: the first pass hashes, takes the SHA-256 and writes the copy together.
/// `between` runs once the copy is whole (to start flushing it, say). Ed25519's second pass
/// then reads the copy, which is what the signature is meant for: it holds the bytes the
/// first pass read, whatever happens to `file` meanwhile, and its SHA-256 must be the first
/// pass's. Progress as [`sign_open`]'s.
pub fn sign_copying(
    file: &File,
    path: &Path,
    copy: &File,
    between: &mut dyn FnMut() -> Result<(), SignError>,
    key: &PrivateKey,
    progress: &Progress,
) -> Result<Signed, SignError> {
    sign_passes(file, Some(copy), between, path, key, progress)
}

fn sign_passes(
    file: &File,
    copy: Option<&File>,
    between: &mut dyn FnMut() -> Result<(), SignError>,
    path: &Path,
    key: &PrivateKey,
    progress: &Progress,
) -> Result<Signed, SignError> {
    let (signature, algorithm, passes) = match key {
        PrivateKey::Ed25519(k) => {
            let expanded = ExpandedSecretKey::from(k.as_bytes());
            let passes: RefCell<Vec<Pass>> = RefCell::new(Vec::with_capacity(2));
            let failure: RefCell<Option<SignError>> = RefCell::new(None);
            let between = RefCell::new(between);
            let result = raw_sign_byupdate::<Sha512, _>(
                &expanded,
                |hash: &mut Sha512| {
                    let first = passes.borrow().is_empty();
                    let pass = if first {
                        // The manifest's SHA-256, and the copy, come from the first pass.
                        stream_file_to(file, copy, path, progress, true, |chunk| hash.update(chunk))
                    } else {
                        // Its SHA-256 again, always: two passes over different bytes give a
                        // signature from which, with any other signature of the first bytes,
                        // the private key follows (the nonce comes from the first pass, the
                        // challenge from the second). The file may have changed; a copy may
                        // have been written by another member of a group-writable folder,
                        // or read back wrong.
                        let again = copy.unwrap_or(file);
                        (between.borrow_mut())().and_then(|()| {
                            stream_file(again, path, progress, true, |chunk| hash.update(chunk))
                        })
                    };
                    match pass {
                        Ok(pass) => {
                            passes.borrow_mut().push(pass);
                            Ok(())
                        }
                        Err(e) => {
                            *failure.borrow_mut() = Some(e);
                            Err(ed25519_dalek::SignatureError::new())
                        }
                    }
                },
                &k.verifying_key(),
            );
            if let Some(e) = failure.into_inner() {
                return Err(e);
            }
            let signature = result.map_err(|e| SignError::Crypto(e.to_string()))?;
            (signature.to_bytes().to_vec(), Algorithm::Ed25519, passes.into_inner())
        }
        PrivateKey::EcdsaP384(k) => {
            let mut sha384 = Sha384::new();
            let pass = stream_file_to(file, copy, path, progress, true, |chunk| sha384.update(chunk))?;
            between()?;
            let digest = sha384.finalize();
            let sig: p384::ecdsa::Signature =
                k.sign_prehash(&digest).map_err(|e| SignError::Crypto(e.to_string()))?;
            (sig.to_der().as_bytes().to_vec(), Algorithm::EcdsaP384, vec![pass])
        }
    };
    let Some(&Pass { sha256: Some(sha256), size }) = passes.first() else {
        return Err(SignError::Crypto("the file was not read".into()));
    };
    let same = passes.iter().skip(1).all(|again| again.sha256 == Some(sha256) && again.size == size);
    if !same {
        return Err(SignError::Changed(path.to_path_buf()));
    }
    Ok(Signed { signature: Signature(signature), algorithm, sha256, size })
}

/// Checks `signature` over the exact bytes of the file at `path` under `key`.
pub fn verify_file(
    path: &Path,
    key: &PublicKey,
    signature: &Signature,
    progress: &Progress,
) -> Result<Checked, SignError> {
    let (file, len) = open(path)?;
    progress.start(len);
    let stream = |sink: &mut dyn FnMut(&[u8])| {
        stream_file(&file, path, progress, true, sink).map(|p| (p.sha256.unwrap_or_default(), p.size))
    };
    match key {
        PublicKey::Ed25519(k) => {
            let Ok(sig) = <[u8; 64]>::try_from(signature.as_bytes()) else {
                let (sha256, size) = stream(&mut |_| {})?;
                let reason = format!(
                    "the signature is {} bytes long; an Ed25519 signature is 64 bytes",
                    signature.as_bytes().len()
                );
                return Ok(Checked { valid: false, reason: Some(reason), sha256, size });
            };
            // ed25519-dalek's streaming verifier: the cofactorless check `[s]B = R + [k]A`
            // with `s` canonical, over `k = SHA-512(R || A || M)` fed chunk by chunk.
            let Ok(mut verifier) = k.verify_stream(&ed25519_dalek::Signature::from_bytes(&sig)) else {
                let (sha256, size) = stream(&mut |_| {})?;
                let reason = "the signature is malformed (its S value is out of range)".to_owned();
                return Ok(Checked { valid: false, reason: Some(reason), sha256, size });
            };
            let (sha256, size) = stream(&mut |chunk| verifier.update(chunk))?;
            let outcome = verifier.finalize_and_verify().map_err(|_| mismatch());
            Ok(Checked { valid: outcome.is_ok(), reason: outcome.err(), sha256, size })
        }
        PublicKey::EcdsaP384(k) => {
            let mut sha384 = Sha384::new();
            let (sha256, size) = stream(&mut |chunk| sha384.update(chunk))?;
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
