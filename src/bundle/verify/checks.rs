//! The checks that need no trust store: the signature file, the certificate that came with
//! it (its validity and integrity), the signature against the artifact, the parts a person
//! gave in place of a bundle's own, and the bundle's manifest. Apart from the flow in the
//! module root that runs them in order.

use time::OffsetDateTime;

use super::{CertificateFrom, Checklist, Outcome, Replaced, VerifyInput};
use crate::bundle::manifest::BundleManifest;
use crate::certs::{self, CertError, Certificate, ValidityState};
use crate::keys::{Algorithm, PublicKey};
use crate::signing::Signature;

/// What verification learned about the signer on the way.
#[derive(Default)]
pub(super) struct Found {
    /// The signing certificate and its issuers, signer first; empty while none is known.
    pub(super) chain: Vec<Certificate>,
    /// Where the chain came from, for messages.
    pub(super) chain_name: String,
    /// The trust-store file that vouches for the signer, once one does.
    pub(super) trusted_by: Option<String>,
    /// The signature check's result, once it was made.
    pub(super) signature_result: Option<Result<(), String>>,
    /// The artifact's SHA-256, once it was read.
    pub(super) artifact_sha256: Option<String>,
}

/// The signature file must decode (one line of Base64 of the raw signature).
pub(super) fn decode_signature(list: &mut Checklist, input: &VerifyInput<'_>) -> Option<Signature> {
    let title = "Signature decodes";
    match Signature::decode(input.signature, &input.signature_name) {
        Ok(s) => {
            let detail = format!("{} bytes from {}", s.as_bytes().len(), input.signature_name);
            list.push("signature-format", title, Outcome::Pass, detail, None);
            Some(s)
        }
        Err(e) => {
            list.push(
                "signature-format",
                title,
                Outcome::Fail,
                e.to_string(),
                Some("Send the .sig file again exactly as Countersign wrote it (one line of Base64)."),
            );
            None
        }
    }
}

/// The certificate that came with the signature, if any, must parse.
pub(super) fn given_chain(list: &mut Checklist, input: &VerifyInput<'_>) -> Found {
    let mut found = Found::default();
    let Some((bytes, name)) = &input.certificate else { return found };
    match Certificate::all_from_file_bytes(bytes, name) {
        Ok(c) => {
            let whence = match input.certificate_from {
                CertificateFrom::NamedLikeApp => ", found beside the app and named like it",
                CertificateFrom::OnlyOneBesideApp => {
                    ", found beside the app: the only certificate there whose key verifies the signature"
                }
                _ => "",
            };
            let detail = format!("{} ({name}{whence})", c[0].subject());
            list.push("certificate", "Certificate parses", Outcome::Pass, detail, None);
            found.chain = c;
            found.chain_name = name.clone();
        }
        Err(e) => list.push(
            "certificate",
            "Certificate parses",
            Outcome::Fail,
            e.to_string(),
            Some("Send the certificate file again, unchanged (PEM, starting with -----BEGIN CERTIFICATE-----)."),
        ),
    }
    found
}

/// A signature or certificate given beside a bundle replaced the bundle's own: say whether
/// it is the same, so that a verdict on another one is not taken for the bundle's.
pub(super) fn replaced_checks(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    signature: Option<&Signature>,
    chain: &[Certificate],
) {
    let fix = Some("To check the bundle as it came, give the bundle alone.");
    for replaced in &input.replaced {
        match replaced {
            Replaced::Signature(own, own_name) => {
                let title = "Signature given is the bundle's own";
                let own_decoded = Signature::decode(own, own_name).ok();
                let same = match (signature, &own_decoded) {
                    (Some(given), Some(own)) => given.as_bytes() == own.as_bytes(),
                    _ => own.trim_ascii() == input.signature.trim_ascii(),
                };
                let given = &input.signature_name;
                if same {
                    list.push(
                        "bundle-signature",
                        title,
                        Outcome::Pass,
                        format!("{given} is the same as {own_name}"),
                        None,
                    );
                } else {
                    list.push(
                        "bundle-signature",
                        title,
                        Outcome::Warn,
                        format!("{given} is not the bundle's signature ({own_name}); the one given is checked instead"),
                        fix,
                    );
                }
            }
            Replaced::Certificate(own) => {
                let title = "Certificate given is the bundle's own";
                let (Some(given), Some((_, given_name))) = (chain.first(), &input.certificate) else {
                    continue;
                };
                let Some((own_bytes, own_name)) = own else {
                    list.push(
                        "bundle-certificate",
                        title,
                        Outcome::Skipped,
                        format!(
                            "the bundle holds no certificate; the signature is checked against {given_name}"
                        ),
                        None,
                    );
                    continue;
                };
                let own_cert = Certificate::all_from_file_bytes(own_bytes, own_name)
                    .ok()
                    .and_then(|c| c.into_iter().next());
                match own_cert {
                    Some(own) if own == *given => list.push(
                        "bundle-certificate",
                        title,
                        Outcome::Pass,
                        format!("{given_name} is the same certificate as {own_name}"),
                        None,
                    ),
                    other => {
                        let own_is = other
                            .map(|c| format!(", {}, SHA-256 {}", c.subject(), c.fingerprint()))
                            .unwrap_or_default();
                        list.push(
                            "bundle-certificate",
                            title,
                            Outcome::Warn,
                            format!(
                                "{given_name} ({}, SHA-256 {}) is not the bundle's certificate ({own_name}{own_is}); the signature is checked against the one given instead",
                                given.subject(),
                                given.fingerprint()
                            ),
                            fix,
                        );
                    }
                }
            }
        }
    }
}

/// The signer's certificate: an Ed25519 key, within its validity, intact. Returns its key
/// (even one UPM refuses, so that the signature can still be checked).
pub(super) fn certificate_checks(
    list: &mut Checklist,
    cert: &Certificate,
    found: &Found,
    now: OffsetDateTime,
) -> Option<PublicKey> {
    let title = "Certificate key is Ed25519";
    let key = match cert.public_key(&found.chain_name) {
        Ok(key) if key.algorithm() == Algorithm::Ed25519 => {
            list.push("certificate-key", title, Outcome::Pass, "Ed25519, as UPM requires", None);
            Some(key)
        }
        Ok(key) => {
            list.push(
                "certificate-key",
                title,
                Outcome::Fail,
                format!("the key is {}: the signature may be valid, but UPM will refuse it", key.algorithm()),
                Some("Sign with an Ed25519 key and certificate; UPM accepts nothing else."),
            );
            Some(key)
        }
        Err(e) => {
            let detail = match &e {
                CertError::Key { detail, .. } => detail.clone(),
                other => other.to_string(),
            };
            list.push(
                "certificate-key",
                title,
                Outcome::Fail,
                detail,
                Some("Make an Ed25519 key and a certificate for it (Countersign generates them; or openssl genpkey -algorithm ed25519)."),
            );
            None
        }
    };
    validity_check(list, cert, now);
    integrity_check(list, &found.chain);
    key
}

/// UPM refuses a certificate outside its validity window; one about to end is a warning.
fn validity_check(list: &mut Checklist, cert: &Certificate, now: OffsetDateTime) {
    let title = "Certificate is within its validity window";
    let (outcome, detail, fix) = match cert.validity_at(now) {
        state @ ValidityState::Valid { .. } => {
            (Outcome::Pass, format!("{state}, until {}", certs::day(cert.not_after())), None)
        }
        state @ ValidityState::ExpiringSoon { .. } => (
            Outcome::Warn,
            format!("{state} ({})", certs::day(cert.not_after())),
            Some("Renew the certificate with the same key before it expires and send customers the new one."),
        ),
        state @ ValidityState::Expired { .. } => (
            Outcome::Fail,
            format!("{state}: UPM refuses installs under an expired certificate"),
            Some(
                "Renew the certificate with the same key, put the new one in the trust store, and sign again.",
            ),
        ),
        state @ ValidityState::NotYetValid { .. } => (
            Outcome::Fail,
            format!("{state}: UPM refuses it until then"),
            Some(
                "Check the clocks of the signing machine and the server; or wait until the certificate starts.",
            ),
        ),
    };
    list.push("certificate-validity", title, outcome, detail, fix);
}

/// The signature must match the artifact's bytes exactly.
pub(super) fn signature_check(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    result: Option<&Result<(), String>>,
) {
    let title = "Signature matches the artifact";
    match result {
        Some(Ok(())) => list.push(
            "signature",
            title,
            Outcome::Pass,
            format!("{} is exactly what was signed", input.artifact_name),
            None,
        ),
        Some(Err(reason)) => list.push(
            "signature",
            title,
            Outcome::Fail,
            reason.clone(),
            Some("Make sure the .jar/.obr is the very file that was signed (not rebuilt or re-downloaded), with its own .sig and the signer's certificate."),
        ),
        None => list.push(
            "signature",
            title,
            Outcome::Skipped,
            "there is no usable signature or certificate to check it with",
            None,
        ),
    }
}

/// A self-signed certificate must verify under its own key, and each certificate of a
/// chain under the next: an altered certificate fails here even where its key survived.
fn integrity_check(list: &mut Checklist, chain: &[Certificate]) {
    let title = "Certificate is intact";
    for (i, cert) in chain.iter().enumerate() {
        let issuer = chain.get(i + 1).or(cert.claims_self_signed().then_some(cert));
        match issuer {
            Some(issuer) => {
                if let Err(reason) = cert.verify_issued_by(issuer) {
                    list.push(
                        "certificate-integrity",
                        title,
                        Outcome::Fail,
                        format!("certificate {} of the file ({}): {reason}", i + 1, cert.subject()),
                        Some("Send the certificate file again, unchanged."),
                    );
                    return;
                }
            }
            None => {
                list.push("certificate-integrity", title, Outcome::Skipped, format!("{} was issued by \"{}\", which is not included; UPM checks it against the trust store", cert.subject(), cert.issuer()), None);
                return;
            }
        }
    }
    list.push(
        "certificate-integrity",
        title,
        Outcome::Pass,
        if chain.len() > 1 {
            format!("chain of {} certificates verifies", chain.len())
        } else {
            "its self-signature verifies".to_owned()
        },
        None,
    );
}

pub(super) fn manifest_check(
    list: &mut Checklist,
    m: &BundleManifest,
    sha256: Option<&str>,
    signer: Option<&Certificate>,
    input: &VerifyInput<'_>,
) {
    let replaced = input.replaced.iter().any(|r| matches!(r, Replaced::Certificate(_)));
    if let (Some(expected), Some(cert)) = (&m.certificate, signer)
        && cert.fingerprint() != expected.sha256_fingerprint
        && input.certificate.is_some()
        && !replaced
    {
        list.push(
            "manifest-certificate",
            "Certificate is the one in the manifest",
            Outcome::Fail,
            format!(
                "the manifest names certificate {}, the bundle holds {}",
                expected.sha256_fingerprint,
                cert.fingerprint()
            ),
            Some("The certificate file was changed or replaced: ask the vendor for the bundle again."),
        );
    }
    let title = "Artifact is the one in the manifest";
    let size = std::fs::metadata(input.artifact).map(|md| md.len()).ok();
    let fix = Some("The app was changed or replaced after signing: use the file that came with this bundle.");
    if size != Some(m.artifact.size) {
        list.push(
            "manifest",
            title,
            Outcome::Fail,
            format!(
                "the manifest says {} bytes, the file has {}",
                m.artifact.size,
                size.map_or("unknown".into(), |s| s.to_string())
            ),
            fix,
        );
    } else if let Some(sha) = sha256.filter(|s| *s != m.artifact.sha256) {
        list.push(
            "manifest",
            title,
            Outcome::Fail,
            format!("the manifest says SHA-256 {}, the file has {sha}", m.artifact.sha256),
            fix,
        );
    } else {
        list.push(
            "manifest",
            title,
            Outcome::Pass,
            format!("{}, {} bytes, SHA-256 {}", m.artifact.file_name, m.artifact.size, m.artifact.sha256),
            None,
        );
    }
}
