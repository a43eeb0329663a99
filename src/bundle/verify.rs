//! Verifying a signature the way UPM will, one named check at a time, each with the reason
//! it failed and the fix.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::BundleError;
use super::manifest::BundleManifest;
use crate::certs::{self, CertError, Certificate, ValidityState};
use crate::keys::{Algorithm, PublicKey};
use crate::progress::Progress;
use crate::signing::{self, Signature};
use crate::truststore::TrustStore;

/// How one check came out; serialized in lower case (`pass`, `warn`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The check found nothing wrong.
    Pass,
    /// Not a failure, but something to act on (an expiring certificate, trust in an issuer only).
    Warn,
    /// UPM will refuse the app for this.
    Fail,
    /// Not checked, for want of what it needs (said in the detail).
    Skipped,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable identifier for scripts: `signature-format`, `certificate`, ...
    pub id: &'static str,
    /// What the check establishes, for people: `Signature matches the artifact`, ...
    pub title: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// What was found, as a phrase: the facts of a pass, the reason for a failure.
    pub detail: String,
    /// What to do about a failure or warning.
    pub fix: Option<String>,
}

/// What the checks add up to, as far as they can know what UPM will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing failed, and the trust store given holds the signing certificate itself: UPM,
    /// which receives only the app and its signature, will accept it.
    Accepted,
    /// The signature is good, but whether UPM accepts it is not established: no trust store
    /// was checked, or the trust store holds only the certificate's issuer (a warning).
    SignatureGood,
    /// A check failed: UPM will refuse it.
    Rejected,
}

/// The whole verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the checks add up to.
    pub verdict: Verdict,
    /// One sentence for people: the verdict and the check that decided it.
    pub headline: String,
    /// The `id` of the check that decided the verdict.
    pub decided_by: Option<&'static str>,
    /// The artifact as named to people (for a zip bundle, its name inside).
    pub artifact: String,
    /// The artifact's SHA-256, lower-case hex; `None` when no signature check read it.
    pub artifact_sha256: Option<String>,
    /// The signature file that was checked, as named to people (for a zip bundle,
    /// `bundle.zip!/name.sig`).
    pub used_signature: String,
    /// The certificate file the signature was checked against, as named to people: the one
    /// given, the bundle's, one found beside the app, or the trust-store file that verified
    /// it; `None` when there was none.
    pub used_certificate: Option<String>,
    /// Where `used_certificate` came from.
    pub certificate_from: Option<CertificateFrom>,
    /// The certificate that verified the signature.
    pub signer: Option<SignerSummary>,
    /// The trust-store file whose certificate made the signer trusted.
    pub trusted_by: Option<String>,
    /// Every check that ran, in order.
    pub checks: Vec<Check>,
}

/// Where the certificate a signature was checked against came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateFrom {
    /// The person named it.
    Given,
    /// The bundle holds it.
    Bundle,
    /// Beside the app, named like it (`<app>.crt`, `<app stem>.crt`, or `.pem`, `.cer`).
    NamedLikeApp,
    /// Beside the app: the only certificate file there whose key verifies the signature.
    OnlyOneBesideApp,
    /// The trust store: the certificate of it whose key verifies the signature.
    TrustStore,
}

impl Report {
    /// What was checked with what, by file name, for a verdict's title: "Checked
    /// big-widget.jar with big-widget.jar.sig and acme.crt".
    pub fn checked_with(&self) -> String {
        let name = |s: &str| {
            Path::new(s).file_name().map_or_else(|| s.to_owned(), |n| n.to_string_lossy().into_owned())
        };
        let certificate = match (&self.used_certificate, self.certificate_from) {
            (None, _) => " (no certificate)".to_owned(),
            (Some(c), Some(CertificateFrom::Bundle)) => format!(" and {}, from the bundle", name(c)),
            (Some(c), Some(CertificateFrom::NamedLikeApp | CertificateFrom::OnlyOneBesideApp)) => {
                format!(" and {}, found beside it", name(c))
            }
            (Some(c), Some(CertificateFrom::TrustStore)) => format!(" and the trust store's {}", name(c)),
            (Some(c), _) => format!(" and {}", name(c)),
        };
        format!("Checked {} with {}{certificate}", name(&self.artifact), name(&self.used_signature))
    }

    /// True when no check failed (the command line's exit status 0): the signature is good,
    /// though UPM may still need the certificate in its trust store (see [`Verdict`]).
    pub fn passed(&self) -> bool {
        self.verdict != Verdict::Rejected
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerSummary {
    pub subject: String,
    pub sha256_fingerprint: String,
    pub not_after: String,
    pub algorithm: String,
}

/// What to verify.
pub struct VerifyInput<'a> {
    /// The file whose bytes are checked against the signature.
    pub artifact: &'a Path,
    /// How the artifact is named to people (for a zip bundle, its name inside).
    pub artifact_name: String,
    /// The signature file's content: Base64 text, or the raw signature.
    pub signature: &'a [u8],
    /// How the signature file is named to people.
    pub signature_name: String,
    /// A certificate file's bytes (one certificate or a chain) and its name.
    pub certificate: Option<(&'a [u8], String)>,
    /// Where `certificate` came from (said in the report); unused when it is `None`.
    pub certificate_from: CertificateFrom,
    /// For a bundle checked with a signature or certificate given beside it: the bundle's
    /// own, which those replace. The report compares each with what replaced it, and the
    /// manifest's word on the certificate no longer applies. Empty otherwise.
    pub replaced: Vec<Replaced<'a>>,
    /// The customer's trust store: checked for the signer, and searched for a certificate
    /// that verifies the signature when none is given; `None` leaves trust unchecked.
    pub truststore: Option<&'a TrustStore>,
    /// The bundle's manifest, whose statements about the artifact are checked too.
    pub manifest: Option<&'a BundleManifest>,
    /// The moment the certificate's validity is judged at.
    pub now: OffsetDateTime,
}

/// A part of a bundle that one given beside it replaced, for [`VerifyInput::replaced`].
#[derive(Debug, Clone)]
pub enum Replaced<'a> {
    /// The bundle's own signature file: its bytes and name.
    Signature(&'a [u8], String),
    /// The bundle's own certificate file, its bytes and name; `None` when it has none.
    Certificate(Option<(&'a [u8], String)>),
}

struct Checklist(Vec<Check>);

impl Checklist {
    fn push(
        &mut self,
        id: &'static str,
        title: &'static str,
        outcome: Outcome,
        detail: impl Into<String>,
        fix: Option<&str>,
    ) {
        self.0.push(Check { id, title, outcome, detail: detail.into(), fix: fix.map(str::to_owned) });
    }
}

/// Runs every check. `Err` only when the artifact cannot be read at all (bad input);
/// everything else becomes a failed line in the report.
pub fn verify(input: &VerifyInput<'_>, progress: &Progress) -> Result<Report, BundleError> {
    let mut list = Checklist(Vec::new());
    let signature = decode_signature(&mut list, input);
    // Which certificate chain signs: the one given, or the trust-store certificate whose key
    // verifies the signature.
    let mut found = given_chain(&mut list, input);
    replaced_checks(&mut list, input, signature.as_ref(), &found.chain);
    if found.chain.is_empty() && input.certificate.is_none() {
        search_trust_store(&mut list, input, signature.as_ref(), &mut found, progress)?;
    }
    let signer = found.chain.first().cloned();
    let signer_key = signer.as_ref().and_then(|cert| certificate_checks(&mut list, cert, &found, input.now));
    if let (Some(key), Some(sig), None) = (&signer_key, &signature, &found.signature_result) {
        let checked = signing::verify_file(input.artifact, key, sig, progress)?;
        found.artifact_sha256 = Some(crate::hex::lower(&checked.sha256));
        found.signature_result =
            Some(if checked.valid { Ok(()) } else { Err(checked.reason.unwrap_or_default()) });
    }
    signature_check(&mut list, input, found.signature_result.as_ref());
    trust_check(&mut list, input, signer.as_ref(), &mut found);
    if let Some(m) = input.manifest {
        manifest_check(&mut list, m, found.artifact_sha256.as_deref(), signer.as_ref(), input);
    }

    let (verdict, decided_by, headline) =
        decide(&list.0, &input.artifact_name, found.signature_result.as_ref());
    let (used_certificate, certificate_from) = match &input.certificate {
        Some((_, name)) => (Some(name.clone()), Some(input.certificate_from)),
        None if !found.chain.is_empty() => {
            (Some(found.chain_name.clone()), Some(CertificateFrom::TrustStore))
        }
        None => (None, None),
    };
    Ok(Report {
        verdict,
        headline,
        decided_by,
        artifact: input.artifact_name.clone(),
        artifact_sha256: found.artifact_sha256,
        used_signature: input.signature_name.clone(),
        used_certificate,
        certificate_from,
        signer: signer.as_ref().map(|c| SignerSummary {
            subject: c.subject(),
            sha256_fingerprint: c.fingerprint(),
            not_after: certs::rfc3339(c.not_after()),
            algorithm: signer_key
                .as_ref()
                .map(|k| k.algorithm().id().to_owned())
                .unwrap_or_else(|| "unsupported".into()),
        }),
        trusted_by: found.trusted_by,
        checks: list.0,
    })
}

/// What verification learned about the signer on the way.
#[derive(Default)]
struct Found {
    /// The signing certificate and its issuers, signer first; empty while none is known.
    chain: Vec<Certificate>,
    /// Where the chain came from, for messages.
    chain_name: String,
    /// The trust-store file that vouches for the signer, once one does.
    trusted_by: Option<String>,
    /// The signature check's result, once it was made.
    signature_result: Option<Result<(), String>>,
    /// The artifact's SHA-256, once it was read.
    artifact_sha256: Option<String>,
}

/// The signature file must decode (one line of Base64 of the raw signature).
fn decode_signature(list: &mut Checklist, input: &VerifyInput<'_>) -> Option<Signature> {
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
fn given_chain(list: &mut Checklist, input: &VerifyInput<'_>) -> Found {
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
fn replaced_checks(
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

/// No certificate came with the signature: UPM tries the trust store's certificates, and so
/// does this; the first whose key verifies the signature is the signer.
fn search_trust_store(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    signature: Option<&Signature>,
    found: &mut Found,
    progress: &Progress,
) -> Result<(), BundleError> {
    let (Some(store), Some(sig)) = (input.truststore, signature) else {
        if input.truststore.is_none() {
            list.push(
                "certificate",
                "Certificate present",
                Outcome::Fail,
                "no certificate was given, and no trust store to look in",
                Some("Give the vendor's certificate or the customer's trust store."),
            );
        }
        return Ok(());
    };
    let mut last_reason = "the trust store holds no certificate with a usable key".to_owned();
    for (file, cert) in store.certificates() {
        let Ok(key) = cert.public_key(&file.display().to_string()) else { continue };
        let checked = signing::verify_file(input.artifact, &key, sig, progress)?;
        found.artifact_sha256 = Some(crate::hex::lower(&checked.sha256));
        if checked.valid {
            found.chain = vec![cert.clone()];
            found.chain_name = file.display().to_string();
            found.trusted_by = Some(file.display().to_string());
            found.signature_result = Some(Ok(()));
            return Ok(());
        }
        last_reason = checked.reason.unwrap_or_default();
    }
    found.signature_result =
        Some(Err(format!("no certificate in {} verifies it ({last_reason})", store.dir.display())));
    Ok(())
}

/// The signer's certificate: an Ed25519 key, within its validity, intact. Returns its key
/// (even one UPM refuses, so that the signature can still be checked).
fn certificate_checks(
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
fn signature_check(list: &mut Checklist, input: &VerifyInput<'_>, result: Option<&Result<(), String>>) {
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

/// The trust store must hold the signing certificate itself.
///
/// UPM's upload takes the app and its signature (the Base64 text), and no source says it
/// takes the signer's certificate too: UPM can only use the certificates already in its
/// trust store. So trust resting on a certificate that came only with the bundle (the
/// signer's own, issued by a CA that the trust store holds) is a warning, not a pass.
fn trust_check(
    list: &mut Checklist,
    input: &VerifyInput<'_>,
    signer: Option<&Certificate>,
    found: &mut Found,
) {
    let title = "Trust store holds the signing certificate";
    let Some(store) = input.truststore else {
        if signer.is_some() {
            list.push(
                "trust-store",
                title,
                Outcome::Skipped,
                "no trust store given: the customer's UPM must have this certificate in upmconfig/truststore/",
                None,
            );
        }
        return;
    };
    let trust = match &found.trusted_by {
        Some(file) => Trust::Signer(file.clone()),
        None => find_trust(store, &found.chain),
    };
    match (trust, signer) {
        (Trust::Signer(file), _) => {
            list.push("trust-store", title, Outcome::Pass, format!("{file} is the signing certificate"), None);
            found.trusted_by = Some(file);
        }
        (Trust::IssuerOnly { file, issued }, Some(cert)) => {
            list.push(
                "trust-store",
                title,
                Outcome::Warn,
                format!("only {file}, which issued \"{issued}\", is in the trust store; the signing certificate ({}) came with the signature, and UPM's upload takes only the app and its signature", cert.subject()),
                Some("Put the signing certificate itself (the .crt that came with this signature) into upmconfig/truststore/, beside its issuer."),
            );
            found.trusted_by = Some(file);
        }
        (_, Some(_)) => list.push(
            "trust-store",
            title,
            Outcome::Fail,
            format!("no certificate in {} is this certificate or issued it", store.dir.display()),
            Some("Copy the vendor's .crt into upmconfig/truststore/ (see INSTALL.md for the permissions UPM needs)."),
        ),
        (_, None) => list.push(
            "trust-store",
            title,
            Outcome::Fail,
            format!("no certificate in {} verifies this signature", store.dir.display()),
            Some("Copy the vendor's .crt into upmconfig/truststore/."),
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

/// How the trust store stands to a signer's chain.
enum Trust {
    /// This trust-store file holds the signing certificate itself.
    Signer(String),
    /// This file holds only a certificate above the signer: one that issued `issued` (a
    /// subject), of the chain or not.
    IssuerOnly {
        file: String,
        issued: String,
    },
    Missing,
}

/// The signing certificate (the chain's first) in the trust store, or else the trust-store
/// file that holds a certificate of the chain above it or that issued one of the chain.
fn find_trust(store: &TrustStore, chain: &[Certificate]) -> Trust {
    let Some(signer) = chain.first() else { return Trust::Missing };
    if let Some((file, _)) = store.certificates().find(|(_, anchor)| *anchor == signer) {
        return Trust::Signer(file.display().to_string());
    }
    for (i, cert) in chain.iter().enumerate() {
        for (file, anchor) in store.certificates() {
            // The store holds this certificate of the chain (above the signer), which issued
            // the one before it; or it holds the issuer of this one.
            let issued = if anchor == cert {
                chain[..i].last()
            } else {
                cert.verify_issued_by(anchor).is_ok().then_some(cert)
            };
            if let Some(issued) = issued {
                return Trust::IssuerOnly { file: file.display().to_string(), issued: issued.subject() };
            }
        }
    }
    Trust::Missing
}

/// The verdict, the check that decided it, and the headline naming both. A failure decides
/// first (the first one in the list); else the trust-store check, passed, warned or skipped.
fn decide(
    checks: &[Check],
    artifact: &str,
    signature: Option<&Result<(), String>>,
) -> (Verdict, Option<&'static str>, String) {
    if let Some(failed) = checks.iter().find(|c| c.outcome == Outcome::Fail) {
        return (
            Verdict::Rejected,
            Some(failed.id),
            format!(
                "Rejected: UPM will refuse {artifact}. Failed check \u{201c}{}\u{201d}: {}.",
                failed.title, failed.detail
            ),
        );
    }
    if !matches!(signature, Some(Ok(()))) {
        // Nothing failed, but nothing could check the signature either (cannot happen with
        // the checks above, which fail or skip "signature"; kept so no path says "good").
        let id = checks.iter().find(|c| c.id == "signature").map(|c| c.id);
        return (
            Verdict::Rejected,
            id,
            format!("Rejected: the signature of {artifact} could not be checked."),
        );
    }
    let trust = checks.iter().find(|c| c.id == "trust-store");
    let warnings = checks.iter().filter(|c| c.outcome == Outcome::Warn && c.id != "trust-store").count();
    let also = match warnings {
        0 => String::new(),
        1 => " One other check warns; see below.".to_owned(),
        n => format!(" {n} other checks warn; see below."),
    };
    match trust {
        Some(c) if c.outcome == Outcome::Pass => (
            Verdict::Accepted,
            Some(c.id),
            format!(
                "Accepted: UPM will accept {artifact}. Decided by \u{201c}{}\u{201d}: {}.{also}",
                c.title, c.detail
            ),
        ),
        Some(c) if c.outcome == Outcome::Warn => (
            Verdict::SignatureGood,
            Some(c.id),
            format!(
                "The signature of {artifact} is good, but UPM may refuse it until the trust store holds the signing certificate itself. Warning from \u{201c}{}\u{201d}: {}.{also}",
                c.title, c.detail
            ),
        ),
        other => (
            Verdict::SignatureGood,
            other.map(|c| c.id),
            format!(
                "The signature of {artifact} is good: UPM will accept it once the customer's trust store holds the signing certificate (no trust store was checked here).{also}"
            ),
        ),
    }
}

fn manifest_check(
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

/// What a person points at to verify: a bundle (folder or zip), or a signed artifact with
/// its `.sig` (by default the artifact's name plus `.sig`) and the signer's certificate
/// (by default one found beside it, see [`verify_target`]).
#[derive(Debug, Clone, Default)]
pub struct VerifyTarget {
    /// A bundle folder or zip, or the signed `.jar` or `.obr`.
    pub path: std::path::PathBuf,
    /// The artifact's `.sig`; `None` for a bundle's own, or for the artifact's name plus `.sig`.
    pub signature: Option<std::path::PathBuf>,
    /// The signer's certificate file; `None` for a bundle's own, or to find the signer beside
    /// the artifact or in the trust store.
    pub certificate: Option<std::path::PathBuf>,
}

impl VerifyTarget {
    /// True when `path` is read as a bundle rather than as an artifact: a folder, or a zip
    /// holding a bundle manifest. A signature or certificate given too replaces the bundle's own.
    pub fn is_bundle(&self) -> bool {
        self.path.is_dir() || looks_like_bundle_zip(&self.path)
    }
}

/// A zip whose entries include our manifest is a bundle; a jar is not.
fn looks_like_bundle_zip(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| z.len() <= 64 && z.index_for_name(super::manifest::FILE_NAME).is_some())
}

const MAX_SIGNATURE_FILE: u64 = 64 << 10;
const MAX_CERTIFICATE_FILE: u64 = 1 << 20;

/// Reads whatever `target` names and verifies it the way UPM will. The command line and the
/// window both come through here, so a bundle is judged the same whichever face is used.
///
/// A bundle's own signature and certificate are used unless `target` names others, which
/// then replace them (the report says whether they are the same). An artifact's signature is
/// `<artifact>.sig` unless named; its certificate, when neither one nor a trust store is
/// given, is looked for beside it: a certificate file named like it (`<artifact>.crt`,
/// `<artifact stem>.crt`, or `.pem`, `.cer`), else the only certificate file there whose key
/// verifies the signature. With a trust store and no certificate, the trust store's
/// certificates are tried, as UPM does. The report names the files used.
pub fn verify_target(
    target: &VerifyTarget,
    truststore: Option<&TrustStore>,
    now: OffsetDateTime,
    progress: &Progress,
) -> Result<Report, BundleError> {
    let path = &target.path;
    if !path.exists() {
        return Err(BundleError::NotFound(path.clone()));
    }
    let given_certificate = match &target.certificate {
        Some(c) => Some((super::read_small(c, MAX_CERTIFICATE_FILE)?, c.display().to_string())),
        None => None,
    };
    let given_signature = |sig_path: &Path| -> Result<(Vec<u8>, String), BundleError> {
        if !sig_path.is_file() {
            return Err(BundleError::NoSignature(sig_path.to_path_buf()));
        }
        Ok((super::read_small(sig_path, MAX_SIGNATURE_FILE)?, sig_path.display().to_string()))
    };
    if target.is_bundle() {
        if path.is_dir()
            && !path.join(super::manifest::FILE_NAME).is_file()
            && (target.signature.is_some() || target.certificate.is_some())
        {
            return Err(BundleError::FolderWithoutManifest(path.clone()));
        }
        let loaded = super::load_bundle(path)?;
        let signature = target.signature.as_deref().map(given_signature).transpose()?;
        let mut replaced = Vec::new();
        if signature.is_some() {
            replaced.push(Replaced::Signature(&loaded.signature, loaded.signature_name.clone()));
        }
        if given_certificate.is_some() {
            replaced.push(Replaced::Certificate(
                loaded.certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())),
            ));
        }
        let (signature, signature_name) = signature
            .as_ref()
            .map_or((loaded.signature.as_slice(), loaded.signature_name.clone()), |(b, n)| {
                (b.as_slice(), n.clone())
            });
        let (certificate, certificate_from) = match &given_certificate {
            Some((b, n)) => (Some((b.as_slice(), n.clone())), CertificateFrom::Given),
            None => {
                (loaded.certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())), CertificateFrom::Bundle)
            }
        };
        let input = VerifyInput {
            artifact: &loaded.artifact_path,
            artifact_name: loaded.manifest.artifact.file_name.clone(),
            signature,
            signature_name,
            certificate,
            certificate_from,
            replaced,
            truststore,
            manifest: Some(&loaded.manifest),
            now,
        };
        return verify(&input, progress);
    }
    let sig_path = target.signature.clone().unwrap_or_else(|| {
        let mut p = path.as_os_str().to_owned();
        p.push(".sig");
        std::path::PathBuf::from(p)
    });
    let (signature, signature_name) = given_signature(&sig_path)?;
    let (certificate, certificate_from) = match given_certificate {
        Some(c) => (Some(c), CertificateFrom::Given),
        None if truststore.is_some() => (None, CertificateFrom::TrustStore),
        None => match companion_certificate(path, &signature, progress)? {
            Some((file, bytes, from)) => (Some((bytes, file.display().to_string())), from),
            None => return Err(BundleError::NothingToCheckAgainst(path.clone())),
        },
    };
    let input = VerifyInput {
        artifact: path,
        artifact_name: path.display().to_string(),
        signature: &signature,
        signature_name,
        certificate: certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())),
        certificate_from,
        replaced: Vec::new(),
        truststore,
        manifest: None,
        now,
    };
    verify(&input, progress)
}

/// File name endings of certificate files looked for beside an app.
const CERTIFICATE_ENDINGS: [&str; 3] = ["crt", "pem", "cer"];

/// The signer's certificate beside `artifact`, when none was given: a certificate file named
/// like the artifact, else the only certificate file in its folder whose key verifies the
/// signature (several files of the same certificate count as one). `None` when there is no
/// such file; [`BundleError::SeveralCertificates`] when several different ones verify.
fn companion_certificate(
    artifact: &Path,
    signature: &[u8],
    progress: &Progress,
) -> Result<Option<(std::path::PathBuf, Vec<u8>, CertificateFrom)>, BundleError> {
    // An artifact named without a folder has its companions named without one too.
    let dir = artifact.parent().unwrap_or(Path::new("")).to_path_buf();
    let read_certificate = |path: &Path| -> Option<(Vec<u8>, Certificate)> {
        let bytes = crate::atomic::read_small(path, MAX_CERTIFICATE_FILE).ok()?;
        let cert =
            Certificate::all_from_file_bytes(&bytes, &path.display().to_string()).ok()?.into_iter().next()?;
        Some((bytes, cert))
    };
    let (Some(file_name), Some(stem)) = (artifact.file_name(), artifact.file_stem()) else { return Ok(None) };
    for base in [file_name, stem] {
        for ending in CERTIFICATE_ENDINGS {
            let mut name = base.to_owned();
            name.push(".");
            name.push(ending);
            let candidate = dir.join(name);
            if let Some((bytes, _)) = candidate.is_file().then(|| read_certificate(&candidate)).flatten() {
                return Ok(Some((candidate, bytes, CertificateFrom::NamedLikeApp)));
            }
        }
    }
    let Ok(sig) = Signature::decode(signature, "signature") else { return Ok(None) };
    let listed = if dir.as_os_str().is_empty() { Path::new(".") } else { dir.as_path() };
    let Ok(entries) = std::fs::read_dir(listed) else { return Ok(None) };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .filter(|p| {
            p.extension().is_some_and(|e| CERTIFICATE_ENDINGS.iter().any(|c| e.eq_ignore_ascii_case(c)))
                && p.is_file()
        })
        .collect();
    files.sort();
    // Each distinct key is tried once: a pass over the artifact per key.
    let mut tried: Vec<(PublicKey, bool)> = Vec::new();
    let mut verifying: Vec<(std::path::PathBuf, Vec<u8>, Certificate)> = Vec::new();
    for file in files {
        let Some((bytes, cert)) = read_certificate(&file) else { continue };
        let Ok(key) = cert.public_key(&file.display().to_string()) else { continue };
        let valid = match tried.iter().find(|(k, _)| *k == key) {
            Some((_, valid)) => *valid,
            None => {
                let valid = signing::verify_file(artifact, &key, &sig, progress)?.valid;
                tried.push((key, valid));
                valid
            }
        };
        if valid && !verifying.iter().any(|(_, _, c)| *c == cert) {
            verifying.push((file, bytes, cert));
        }
    }
    match verifying.len() {
        0 => Ok(None),
        1 => Ok(verifying.pop().map(|(file, bytes, _)| (file, bytes, CertificateFrom::OnlyOneBesideApp))),
        _ => Err(BundleError::SeveralCertificates {
            artifact: artifact.to_path_buf(),
            files: verifying.into_iter().map(|(f, _, _)| f).collect(),
        }),
    }
}
