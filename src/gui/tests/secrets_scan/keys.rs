//! What a private key looks like, in every form a leak could take (raw, hex, Base64 in all
//! alignments, decimal, DER, the Ed25519 expanded secret), and the keys read with openssl,
//! without writing plaintext keys anywhere the scan looks.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;
use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use countersign::keys::{Algorithm, PrivateKey};
use sha2::{Digest, Sha512};

/// One byte string to look for, and what it is (for the failure message).
pub(super) struct Needle {
    pub(super) what: String,
    pub(super) bytes: Vec<u8>,
}

/// The secret byte strings of one private key.
pub(super) struct KeySecrets {
    pub(super) name: String,
    /// (what, bytes): the raw seed or scalar, DER forms, derived secrets.
    pub(super) forms: Vec<(String, Vec<u8>)>,
}

fn upper_hex(b: &[u8]) -> String {
    countersign::hex::lower(b).to_uppercase()
}

/// Big-endian bytes as a decimal number (how a scalar might be printed by a bignum's Display).
fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && *digits.last().unwrap() == 0 {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The Base64 characters that encode `secret` whatever bytes surround it, when it starts at
/// byte `align` (0, 1 or 2) of a 3-byte group: a leak inside a longer Base64 text (a PEM body,
/// a JSON field) shows exactly these.
fn base64_core(secret: &[u8], align: usize, url: bool) -> String {
    let mut padded = vec![0u8; align];
    padded.extend_from_slice(secret);
    let text =
        if url { Base64UrlUnpadded::encode_string(&padded) } else { Base64Unpadded::encode_string(&padded) };
    let first = (8 * align).div_ceil(6);
    let last = (8 * (align + secret.len())) / 6; // exclusive
    text[first..last].to_owned()
}

impl KeySecrets {
    pub(super) fn from_pkcs8(
        name: &str,
        pkcs8_der_from_openssl: &[u8],
        sec1_der_from_openssl: Option<&[u8]>,
    ) -> Self {
        let key = PrivateKey::from_pkcs8_der(pkcs8_der_from_openssl, name).unwrap();
        let ours = key.to_pkcs8_der().unwrap().to_vec();
        let mut forms = vec![
            ("PKCS#8 DER (openssl's)".to_owned(), pkcs8_der_from_openssl.to_vec()),
            ("PKCS#8 DER (Countersign's)".to_owned(), ours),
        ];
        match &key {
            PrivateKey::Ed25519(k) => {
                let seed = k.to_bytes().to_vec();
                assert!(
                    pkcs8_der_from_openssl.ends_with(&seed),
                    "{name}: openssl's PKCS#8 does not end with the seed Countersign read from it"
                );
                let h = Sha512::digest(&seed);
                let mut clamped = h[..32].to_vec();
                clamped[0] &= 248;
                clamped[31] &= 127;
                clamped[31] |= 64;
                let mut keypair = seed.clone();
                keypair.extend_from_slice(k.verifying_key().as_bytes());
                forms.push(("Ed25519 seed".into(), seed));
                forms.push(("Ed25519 expanded secret (SHA-512 of the seed)".into(), h.to_vec()));
                forms.push(("Ed25519 secret scalar (clamped)".into(), clamped));
                forms.push(("Ed25519 secret scalar (unclamped)".into(), h[..32].to_vec()));
                forms.push(("Ed25519 nonce prefix".into(), h[32..].to_vec()));
                forms.push(("Ed25519 seed||public key".into(), keypair));
            }
            PrivateKey::EcdsaP384(k) => {
                let scalar = k.to_bytes().to_vec();
                assert_eq!(scalar.len(), 48);
                assert!(
                    pkcs8_der_from_openssl.windows(48).any(|w| w == scalar.as_slice()),
                    "{name}: openssl's PKCS#8 does not hold the scalar Countersign read from it"
                );
                let mut reversed = scalar.clone();
                reversed.reverse();
                forms.push(("P-384 scalar".into(), scalar));
                forms.push(("P-384 scalar, little-endian".into(), reversed));
                if let Some(sec1) = sec1_der_from_openssl {
                    forms.push(("SEC1 EC PRIVATE KEY DER (openssl's)".into(), sec1.to_vec()));
                }
            }
        }
        KeySecrets { name: name.to_owned(), forms }
    }

    pub(super) fn needles(&self) -> Vec<Needle> {
        let mut out = Vec::new();
        let mut push =
            |what: String, bytes: Vec<u8>| out.push(Needle { what: format!("{}: {what}", self.name), bytes });
        for (form, bytes) in &self.forms {
            push(format!("{form}, raw"), bytes.clone());
            push(format!("{form}, hex"), countersign::hex::lower(bytes).into_bytes());
            push(format!("{form}, HEX"), upper_hex(bytes).into_bytes());
            push(format!("{form}, Base64"), Base64::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64 unpadded"), Base64Unpadded::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64url"), Base64Url::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64url unpadded"), Base64UrlUnpadded::encode_string(bytes).into_bytes());
            for align in 0..3 {
                push(
                    format!("{form}, Base64 at alignment {align}"),
                    base64_core(bytes, align, false).into_bytes(),
                );
                push(
                    format!("{form}, Base64url at alignment {align}"),
                    base64_core(bytes, align, true).into_bytes(),
                );
            }
            if bytes.len() <= 64 {
                push(format!("{form}, decimal"), decimal(bytes).into_bytes());
            }
        }
        out
    }
}

fn openssl_stdin(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The key in a key file (plain, encrypted or a backup), as openssl reads it.
pub(super) fn key_from_file(name: &str, file: &Path, passphrase: Option<&str>) -> KeySecrets {
    let pass_arg = format!("pass:{}", passphrase.unwrap_or(""));
    // `pkcs8 -topk8 -nocrypt`, not `pkey`: for EC keys `pkey -outform DER` writes SEC1.
    let mut args = vec!["pkcs8", "-topk8", "-nocrypt", "-in", file.to_str().unwrap(), "-outform", "DER"];
    if passphrase.is_some() {
        args.extend(["-passin", &pass_arg]);
    }
    let pkcs8 = openssl(&args, Path::new("."));
    let is_ec = PrivateKey::from_pkcs8_der(&pkcs8, name).unwrap().algorithm() == Algorithm::EcdsaP384;
    let sec1 = is_ec.then(|| openssl_stdin(&["ec", "-inform", "DER", "-outform", "DER"], &pkcs8));
    KeySecrets::from_pkcs8(name, &pkcs8, sec1.as_deref())
}
