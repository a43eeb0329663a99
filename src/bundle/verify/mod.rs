//! Verifying a signature the way UPM will, one named check at a time, each with the reason
//! it failed and the fix.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::BundleError;
use super::manifest::BundleManifest;
use crate::certs;
use crate::progress::Progress;
use crate::signing;
use crate::truststore::TrustStore;

mod checks;
mod target;
mod trust;

use checks::{
    certificate_checks, decode_signature, given_chain, manifest_check, replaced_checks, signature_check,
};
pub use target::{VerifyTarget, verify_target};
use trust::{search_trust_store, trust_check};

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
