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
    /// The certificate that verified the signature.
    pub signer: Option<SignerSummary>,
    /// The trust-store file whose certificate made the signer trusted.
    pub trusted_by: Option<String>,
    /// Every check that ran, in order.
    pub checks: Vec<Check>,
}

impl Report {
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
    /// The customer's trust store: checked for the signer, and searched for a certificate
    /// that verifies the signature when none is given; `None` leaves trust unchecked.
    pub truststore: Option<&'a TrustStore>,
    /// The bundle's manifest, whose statements about the artifact are checked too.
    pub manifest: Option<&'a BundleManifest>,
    /// The moment the certificate's validity is judged at.
    pub now: OffsetDateTime,
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
    Ok(Report {
        verdict,
        headline,
        decided_by,
        artifact: input.artifact_name.clone(),
        artifact_sha256: found.artifact_sha256,
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
            let detail = format!("{} ({})", c[0].subject(), name);
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
    if let (Some(expected), Some(cert)) = (&m.certificate, signer)
        && cert.fingerprint() != expected.sha256_fingerprint
        && input.certificate.is_some()
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
/// its `.sig` (by default the artifact's name plus `.sig`) and the signer's certificate.
#[derive(Debug, Clone, Default)]
pub struct VerifyTarget {
    /// A bundle folder or zip, or the signed `.jar` or `.obr`.
    pub path: std::path::PathBuf,
    /// The artifact's `.sig`; `None` for a bundle, or for the artifact's name plus `.sig`.
    pub signature: Option<std::path::PathBuf>,
    /// The signer's certificate file; `None` for a bundle, or to find the signer in the trust store.
    pub certificate: Option<std::path::PathBuf>,
}

impl VerifyTarget {
    /// True when `path` is read as a bundle rather than as an artifact.
    pub fn is_bundle(&self) -> bool {
        self.signature.is_none()
            && self.certificate.is_none()
            && (self.path.is_dir() || looks_like_bundle_zip(&self.path))
    }
}

/// A zip whose entries include our manifest is a bundle; a jar is not.
fn looks_like_bundle_zip(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| z.len() <= 64 && z.index_for_name(super::manifest::FILE_NAME).is_some())
}

/// Reads whatever `target` names and verifies it the way UPM will. The command line and the
/// window both come through here, so a bundle is judged the same whichever face is used.
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
    if target.is_bundle() {
        let loaded = super::load_bundle(path)?;
        let input = VerifyInput {
            artifact: &loaded.artifact_path,
            artifact_name: loaded.manifest.artifact.file_name.clone(),
            signature: &loaded.signature,
            signature_name: loaded.signature_name.clone(),
            certificate: loaded.certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())),
            truststore,
            manifest: Some(&loaded.manifest),
            now,
        };
        return verify(&input, progress);
    }
    if path.is_dir() {
        return Err(BundleError::FolderWithoutManifest(path.clone()));
    }
    let sig_path = target.signature.clone().unwrap_or_else(|| {
        let mut p = path.as_os_str().to_owned();
        p.push(".sig");
        std::path::PathBuf::from(p)
    });
    if !sig_path.is_file() {
        return Err(BundleError::NoSignature(sig_path));
    }
    let signature = super::read_small(&sig_path, 64 << 10)?;
    let certificate = match &target.certificate {
        Some(c) => Some((super::read_small(c, 1 << 20)?, c.display().to_string())),
        None => None,
    };
    if certificate.is_none() && truststore.is_none() {
        return Err(BundleError::NothingToCheckAgainst(path.clone()));
    }
    let input = VerifyInput {
        artifact: path,
        artifact_name: path.display().to_string(),
        signature: &signature,
        signature_name: sig_path.display().to_string(),
        certificate: certificate.as_ref().map(|(b, n)| (b.as_slice(), n.clone())),
        truststore,
        manifest: None,
        now,
    };
    verify(&input, progress)
}
