//! Making certificates with one of our keys: self-signed ones, and signing requests for a CA.
//! Apart from reading certificates, which needs none of rcgen.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{CertError, Certificate, Subject};
use crate::keys::{PrivateKey, PublicKey};

/// An rcgen signing key backed by one of our keys.
struct RcgenKey<'a> {
    key: &'a PrivateKey,
    public_bits: Vec<u8>,
}

impl<'a> RcgenKey<'a> {
    fn new(key: &'a PrivateKey) -> Self {
        let public_bits = match key.public_key() {
            PublicKey::Ed25519(k) => k.to_bytes().to_vec(),
            PublicKey::EcdsaP384(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        };
        RcgenKey { key, public_bits }
    }
}

impl rcgen::PublicKeyData for RcgenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public_bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.key {
            PrivateKey::Ed25519(_) => &rcgen::PKCS_ED25519,
            PrivateKey::EcdsaP384(_) => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

impl rcgen::SigningKey for RcgenKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        match self.key {
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
            PrivateKey::EcdsaP384(k) => {
                use p384::ecdsa::signature::Signer;
                let sig: p384::ecdsa::Signature = k.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

/// Makes a self-signed certificate for `key`, valid from `not_before` to `not_after`.
pub fn self_signed(
    key: &PrivateKey,
    subject: &Subject,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, CertError> {
    use rcgen::CertificateParams;
    if subject.common_name.trim().is_empty() {
        return Err(CertError::Create("a common name is required".into()));
    }
    if not_after <= not_before {
        return Err(CertError::Create("the certificate must end after it starts".into()));
    }
    let signer = RcgenKey::new(key);
    let dn = distinguished_name(subject)?;
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| CertError::Create(e.to_string()))?;
    serial[0] &= 0x7f; // positive
    serial[0] |= 0x01; // and of full length, so no leading-zero rules apply
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    apply_profile(&mut params, &signer);
    let made = params.self_signed(&signer).map_err(|e| CertError::Create(e.to_string()))?;
    Certificate::from_der(made.der(), "new certificate")
}

/// A certificate signing request (PKCS#10, PEM) for `key` with the given subject, signed by
/// the key, as a CA expects it.
pub fn signing_request(key: &PrivateKey, subject: &Subject) -> Result<String, CertError> {
    if subject.common_name.trim().is_empty() {
        return Err(CertError::Create("a common name is required".into()));
    }
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = distinguished_name(subject)?;
    let csr = params.serialize_request(&RcgenKey::new(key)).map_err(|e| CertError::Create(e.to_string()))?;
    csr.pem().map_err(|e| CertError::Create(e.to_string()))
}

fn distinguished_name(subject: &Subject) -> Result<rcgen::DistinguishedName, CertError> {
    use rcgen::{DistinguishedName, DnType};
    let mut dn = DistinguishedName::new();
    if let Some(c) = subject.country.as_deref().filter(|s| !s.is_empty()) {
        dn.push(DnType::CountryName, c);
    }
    if let Some(o) = subject.organization.as_deref().filter(|s| !s.is_empty()) {
        dn.push(DnType::OrganizationName, o);
    }
    if let Some(ou) = subject.organizational_unit.as_deref().filter(|s| !s.is_empty()) {
        dn.push(DnType::OrganizationalUnitName, ou);
    }
    dn.push(DnType::CommonName, subject.common_name.trim());
    if let Some(e) = subject.email.as_deref().filter(|s| !s.is_empty()) {
        dn.push(
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            rcgen::DnValue::Ia5String(
                e.try_into()
                    .map_err(|_| CertError::Create(format!("the e-mail address {e} is not plain ASCII")))?,
            ),
        );
    }
    Ok(dn)
}

fn apply_profile(params: &mut rcgen::CertificateParams, signer: &RcgenKey<'_>) {
    use rcgen::{BasicConstraints, IsCa, KeyIdMethod};
    // The profile of `openssl req -x509 -new`, which Atlassian documents and UPM is known to
    // accept: v3 with subject and authority key identifiers and a critical
    // basicConstraints CA:TRUE (a pinned self-signed certificate is its own anchor), and
    // no keyUsage.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.use_authority_key_identifier_extension = true;
    // RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the public key bits.
    params.key_identifier_method =
        KeyIdMethod::PreSpecified(Sha256::digest(&signer.public_bits)[..20].to_vec());
}
