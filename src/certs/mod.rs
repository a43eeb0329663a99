//! X.509 certificates: reading them (PEM or DER, one or a chain), what they say (subject,
//! validity, key, fingerprint), checking who issued them, and making self-signed ones.

use std::fmt;

use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384};
use time::OffsetDateTime;

use crate::keys::{KeyError, PublicKey};
use crate::pem;

mod make;

pub use make::{self_signed, signing_request};
/// Days before expiry from which a certificate is reported as expiring soon.
pub const EXPIRY_WARNING_DAYS: i64 = 60;

/// How long a new self-signed certificate is valid unless the person says otherwise: two years.
pub const DEFAULT_VALIDITY_DAYS: u32 = 730;

/// The longest validity Countersign gives a certificate: ten years.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

/// Why a certificate could not be read, used or made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The file holds something else: a private or public key, a signing request, other PEM or text.
    #[error(
        "{source_name} is {found}, not a certificate. Give the certificate file (.crt or .pem, starting with -----BEGIN CERTIFICATE-----)."
    )]
    NotACertificate {
        /// Names the file (or other source) in messages.
        source_name: String,
        /// What it holds instead, as a phrase: `a private key`, `a public key`, ...
        found: String,
    },
    /// The PEM is damaged, or the DER does not parse as a certificate.
    #[error("{source_name} is not a readable certificate ({detail}).")]
    Malformed {
        /// Names the file (or other source) in messages.
        source_name: String,
        /// What is wrong, as a phrase.
        detail: String,
    },
    /// The file is empty or holds only whitespace.
    #[error("{source_name} holds no certificate.")]
    Empty {
        /// Names the file (or other source) in messages.
        source_name: String,
    },
    /// The certificate's public key is of an algorithm Countersign cannot use (RSA, say), or unreadable.
    #[error("The certificate in {source_name} carries {detail}")]
    Key {
        /// Names the file (or other source) in messages.
        source_name: String,
        /// The rest of the sentence, full stop included: which key it is and why it is refused.
        detail: String,
    },
    /// A certificate or signing request could not be made (no common name, an end before the
    /// start, a non-ASCII e-mail address, a failing random number generator).
    #[error("The certificate could not be made ({0}).")]
    Create(String),
}

/// One parsed certificate, with the exact DER it came from.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({}, {})", self.subject(), self.fingerprint())
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

/// Where a certificate stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityState {
    /// The moment is before the certificate's start.
    NotYetValid {
        /// When it starts (its `notBefore`).
        starts: OffsetDateTime,
    },
    /// Valid, with [`EXPIRY_WARNING_DAYS`] or more to go.
    Valid {
        /// Whole days until it ends.
        days_left: i64,
    },
    /// Valid, but with fewer than [`EXPIRY_WARNING_DAYS`] to go.
    ExpiringSoon {
        /// Whole days until it ends.
        days_left: i64,
    },
    /// The moment is after the certificate's end.
    Expired {
        /// When it ended (its `notAfter`).
        ended: OffsetDateTime,
    },
}

impl fmt::Display for ValidityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidityState::NotYetValid { starts } => write!(f, "not valid before {}", day(*starts)),
            ValidityState::Valid { days_left } => write!(f, "valid, {days_left} days left"),
            ValidityState::ExpiringSoon { days_left } => write!(f, "expires in {days_left} days"),
            ValidityState::Expired { ended } => write!(f, "expired on {}", day(*ended)),
        }
    }
}

/// `2026-11-25`
pub fn day(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// RFC 3339 (`2026-11-25T06:26:53Z`), as manifests and `--json` output write times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Certificate {
    /// Parses one DER certificate; `source_name` names it in errors.
    pub fn from_der(der: &[u8], source_name: &str) -> Result<Self, CertError> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| CertError::Malformed {
            source_name: source_name.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Certificate { der: der.to_vec(), parsed })
    }

    /// Reads every certificate in a file: a PEM chain (in file order) or one DER certificate.
    pub fn all_from_file_bytes(bytes: &[u8], source_name: &str) -> Result<Vec<Self>, CertError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(CertError::Empty { source_name: source_name.to_owned() });
        }
        if pem::looks_like_pem(bytes) {
            let blocks = pem::blocks(bytes)
                .map_err(|detail| CertError::Malformed { source_name: source_name.to_owned(), detail })?;
            let certs: Vec<_> = blocks
                .iter()
                .filter(|b| b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE")
                .collect();
            if certs.is_empty() {
                let found = match blocks.first().map(|b| b.label.as_str()) {
                    Some(l) if l.contains("PRIVATE KEY") => "a private key".to_owned(),
                    Some("PUBLIC KEY") => "a public key".to_owned(),
                    Some(l) if l.contains("CERTIFICATE REQUEST") => {
                        "a certificate signing request".to_owned()
                    }
                    Some(other) => format!("a PEM \"{other}\" document"),
                    None => "PEM text without any block".to_owned(),
                };
                return Err(CertError::NotACertificate { source_name: source_name.to_owned(), found });
            }
            return certs.iter().map(|b| Self::from_der(&b.der, source_name)).collect();
        }
        match Self::from_der(bytes, source_name) {
            Ok(c) => Ok(vec![c]),
            Err(e) => {
                if pkcs8::PrivateKeyInfoRef::from_der(bytes).is_ok()
                    || pkcs8::EncryptedPrivateKeyInfoRef::from_der(bytes).is_ok()
                {
                    return Err(CertError::NotACertificate {
                        source_name: source_name.to_owned(),
                        found: "a private key".into(),
                    });
                }
                if std::str::from_utf8(bytes).is_ok() {
                    return Err(CertError::NotACertificate {
                        source_name: source_name.to_owned(),
                        found: "a text file without a PEM certificate".into(),
                    });
                }
                Err(e)
            }
        }
    }

    /// The exact DER bytes it was read from.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM, 64-column lines, trailing newline: the form of Atlassian's own `.crt` files.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    /// RFC 4514 form, e.g. `CN=Acme App Signing,O=Acme Ltd,C=DE`.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// The issuer's name, RFC 4514 form like [`subject`](Self::subject).
    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate().issuer().to_string()
    }

    /// The serial number in lower-case hex, byte for byte as encoded.
    pub fn serial_hex(&self) -> String {
        crate::hex::lower(self.parsed.tbs_certificate().serial_number().as_bytes())
    }

    /// SHA-256 of the DER, as `openssl x509 -noout -fingerprint -sha256` prints it.
    pub fn fingerprint(&self) -> String {
        crate::hex::colon_upper(&Sha256::digest(&self.der))
    }

    /// The start of its validity (`notBefore`), UTC.
    pub fn not_before(&self) -> OffsetDateTime {
        to_offset(self.parsed.tbs_certificate().validity().not_before)
    }

    /// The end of its validity (`notAfter`), UTC.
    pub fn not_after(&self) -> OffsetDateTime {
        to_offset(self.parsed.tbs_certificate().validity().not_after)
    }

    /// Where the certificate stands at `now`.
    pub fn validity_at(&self, now: OffsetDateTime) -> ValidityState {
        if now < self.not_before() {
            return ValidityState::NotYetValid { starts: self.not_before() };
        }
        if now > self.not_after() {
            return ValidityState::Expired { ended: self.not_after() };
        }
        let days_left = (self.not_after() - now).whole_days();
        if days_left < EXPIRY_WARNING_DAYS {
            ValidityState::ExpiringSoon { days_left }
        } else {
            ValidityState::Valid { days_left }
        }
    }

    /// The certificate's public key, or why Countersign cannot use it (an RSA key, say).
    pub fn public_key(&self, source_name: &str) -> Result<PublicKey, CertError> {
        let spki = self.parsed.tbs_certificate().subject_public_key_info().to_der().map_err(|e| {
            CertError::Malformed { source_name: source_name.to_owned(), detail: e.to_string() }
        })?;
        PublicKey::from_spki_der(&spki, source_name).map_err(|e| match e {
            KeyError::Unsupported { algorithm, .. } => CertError::Key {
                source_name: source_name.to_owned(),
                detail: format!("{algorithm} key; UPM accepts Ed25519 certificates only."),
            },
            other => CertError::Key {
                source_name: source_name.to_owned(),
                detail: format!("an unreadable key ({other})."),
            },
        })
    }

    /// True when both certificates carry the same public key (the same key, certified twice:
    /// a renewal, say), whatever the key's algorithm.
    pub fn same_public_key(&self, other: &Certificate) -> bool {
        self.parsed.tbs_certificate().subject_public_key_info()
            == other.parsed.tbs_certificate().subject_public_key_info()
    }

    /// True when both certificates name the same subject.
    pub fn same_subject(&self, other: &Certificate) -> bool {
        self.parsed.tbs_certificate().subject() == other.parsed.tbs_certificate().subject()
    }

    /// Subject and issuer are the same name (a self-signed certificate, or a root).
    pub fn is_self_issued(&self) -> bool {
        self.parsed.tbs_certificate().subject() == self.parsed.tbs_certificate().issuer()
    }

    /// The plain subject fields, to make a renewal with the same subject.
    pub fn subject_fields(&self) -> Subject {
        let mut out = Subject::default();
        for atv in self.parsed.tbs_certificate().subject().iter() {
            let Ok(text) = std::str::from_utf8(atv.value.value()) else { continue };
            let text = text.to_owned();
            match atv.oid.to_string().as_str() {
                "2.5.4.3" => out.common_name = text,
                "2.5.4.10" => out.organization = Some(text),
                "2.5.4.11" => out.organizational_unit = Some(text),
                "2.5.4.6" => out.country = Some(text),
                "1.2.840.113549.1.9.1" => out.email = Some(text),
                _ => {}
            }
        }
        out
    }

    /// True when the certificate says it was signed by its own key: subject and issuer
    /// names are equal, or its authority key identifier equals its subject key identifier.
    /// Such a certificate must verify under its own key; if it does not, it was altered.
    pub fn claims_self_signed(&self) -> bool {
        use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
        if self.is_self_issued() {
            return true;
        }
        let tbs = self.parsed.tbs_certificate();
        let ski = tbs.get_extension::<SubjectKeyIdentifier>().ok().flatten().map(|(_, s)| s.0);
        let aki =
            tbs.get_extension::<AuthorityKeyIdentifier>().ok().flatten().and_then(|(_, a)| a.key_identifier);
        matches!((ski, aki), (Some(s), Some(a)) if s == a)
    }

    /// Checks that `issuer` issued this certificate: names match and the signature over
    /// the to-be-signed part verifies under the issuer's key. `Err` says why not.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), String> {
        if self.parsed.tbs_certificate().issuer() != issuer.parsed.tbs_certificate().subject() {
            return Err(format!("it was issued by \"{}\", not by \"{}\"", self.issuer(), issuer.subject()));
        }
        let key = issuer.public_key("issuer").map_err(|e| e.to_string())?;
        let tbs = first_element(&self.der).ok_or("its to-be-signed part cannot be located")?;
        let sig = self.parsed.signature().as_bytes().ok_or("its signature is not a whole number of bytes")?;
        let alg = self.parsed.signature_algorithm().oid;
        let bad = || {
            "its signature does not verify under the issuer's key: the certificate was altered, or the issuer is a different key with the same name".to_owned()
        };
        match key {
            PublicKey::Ed25519(k) => {
                if alg != crate::keys::ED25519_OID {
                    return Err(format!(
                        "it is signed with algorithm {alg}, which does not fit the issuer's Ed25519 key"
                    ));
                }
                let sig = <[u8; 64]>::try_from(sig).map_err(|_| bad())?;
                k.verify_strict(tbs, &ed25519_dalek::Signature::from_bytes(&sig)).map_err(|_| bad())
            }
            PublicKey::EcdsaP384(k) => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                let digest = if alg == ECDSA_SHA384 {
                    Sha384::digest(tbs).to_vec()
                } else if alg == ECDSA_SHA256 {
                    Sha256::digest(tbs).to_vec()
                } else {
                    return Err(format!("it is signed with algorithm {alg}, which Countersign cannot check"));
                };
                let sig = p384::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                k.verify_prehash(&digest, &sig).map_err(|_| bad())
            }
        }
    }
}

const ECDSA_SHA384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

fn to_offset(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = t.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The complete first element (header and content) inside the outer DER SEQUENCE: for a
/// certificate, the exact to-be-signed bytes its signature covers. Taken from the original
/// encoding rather than re-encoded, so a non-canonical but signed encoding still checks.
fn first_element(der: &[u8]) -> Option<&[u8]> {
    fn header(bytes: &[u8]) -> Option<(usize, usize)> {
        let first_len = *bytes.get(1)?;
        if first_len < 0x80 {
            return Some((2, first_len as usize));
        }
        let n = (first_len & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *bytes.get(2 + i)? as usize;
        }
        Some((2 + n, len))
    }
    let (outer_header, _) = header(der)?;
    let inner = der.get(outer_header..)?;
    let (h, len) = header(inner)?;
    inner.get(..h.checked_add(len)?)
}

/// The plain fields a vendor fills in for a certificate's subject.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Subject {
    /// The common name (CN), such as `Acme App Signing`; required, and trimmed when used.
    pub common_name: String,
    /// The organisation (O); `None` or empty to leave it out.
    pub organization: Option<String>,
    /// The organisational unit (OU); `None` or empty to leave it out.
    pub organizational_unit: Option<String>,
    /// The country (C), a two-letter code such as `DE`; `None` or empty to leave it out.
    pub country: Option<String>,
    /// The e-mail address (emailAddress), plain ASCII; `None` or empty to leave it out.
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Algorithm, PrivateKey};
    use time::Duration;

    fn subject() -> Subject {
        Subject {
            common_name: "Acme App Signing".into(),
            organization: Some("Acme Ltd".into()),
            ..Default::default()
        }
    }

    #[test]
    fn self_signed_certificates_carry_the_key_and_verify_themselves() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
            let key = PrivateKey::generate(alg).unwrap();
            let now = OffsetDateTime::now_utc();
            let cert = self_signed(&key, &subject(), now, now + Duration::days(730)).unwrap();
            assert_eq!(cert.public_key("c").unwrap(), key.public_key());
            assert!(cert.is_self_issued());
            cert.verify_issued_by(&cert).unwrap();
            assert!(cert.subject().contains("CN=Acme App Signing"));
            assert!(matches!(cert.validity_at(now), ValidityState::Valid { days_left: 729 | 730 }));
            let again = Certificate::all_from_file_bytes(cert.to_pem().as_bytes(), "c").unwrap();
            assert_eq!(again, vec![cert]);
        }
    }

    #[test]
    fn a_flipped_bit_in_the_signed_part_breaks_the_self_signature() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let now = OffsetDateTime::now_utc();
        let cert = self_signed(&key, &subject(), now, now + Duration::days(1)).unwrap();
        let mut der = cert.der().to_vec();
        let pos = der.windows(4).position(|w| w == b"Acme").unwrap();
        der[pos] ^= 0x01;
        let altered = Certificate::from_der(&der, "c").unwrap();
        assert!(altered.verify_issued_by(&altered).is_err());
    }

    #[test]
    fn subject_fields_round_trip() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let now = OffsetDateTime::now_utc();
        let subject = Subject {
            common_name: "Acme App Signing".into(),
            organization: Some("Acme Ltd".into()),
            organizational_unit: Some("Tools".into()),
            country: Some("DE".into()),
            email: Some("signing@acme.example".into()),
        };
        let cert = self_signed(&key, &subject, now, now + Duration::days(1)).unwrap();
        let back = cert.subject_fields();
        assert_eq!(back.common_name, "Acme App Signing");
        assert_eq!(back.organization.as_deref(), Some("Acme Ltd"));
        assert_eq!(back.organizational_unit.as_deref(), Some("Tools"));
        assert_eq!(back.country.as_deref(), Some("DE"));
        assert_eq!(back.email.as_deref(), Some("signing@acme.example"));
    }

    #[test]
    fn validity_states_follow_the_clock() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let start = OffsetDateTime::now_utc();
        let cert = self_signed(&key, &subject(), start, start + Duration::days(100)).unwrap();
        assert!(matches!(cert.validity_at(start - Duration::days(1)), ValidityState::NotYetValid { .. }));
        assert!(matches!(
            cert.validity_at(start + Duration::days(50)),
            ValidityState::ExpiringSoon { days_left: 49 | 50 }
        ));
        assert!(matches!(cert.validity_at(start + Duration::days(101)), ValidityState::Expired { .. }));
    }

    #[test]
    fn key_files_and_text_are_not_certificates() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let key_pem = crate::pem::encode("PRIVATE KEY", &key.to_pkcs8_der().unwrap());
        let err = Certificate::all_from_file_bytes(key_pem.as_bytes(), "k.pem").unwrap_err();
        assert!(err.to_string().starts_with("k.pem is a private key, not a certificate"), "{err}");
        assert!(!err.to_string().contains(&key_pem[28..60]));
        let err = Certificate::all_from_file_bytes(b"hello", "t.txt").unwrap_err();
        assert!(matches!(err, CertError::NotACertificate { .. }));
        assert!(matches!(Certificate::all_from_file_bytes(b"\n", "e"), Err(CertError::Empty { .. })));
    }
}
