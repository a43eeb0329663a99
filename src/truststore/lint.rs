//! Checking a trust store the way UPM will meet it: the certificates in it (Atlassian's CAs,
//! validity, duplicates) and the folder's permissions. Apart from loading the store, which
//! this only reads.

use std::path::{Path, PathBuf};

use super::{TrustStore, TrustStoreError};

/// Atlassian's Marketplace CA certificates, which a trust store needs for Marketplace apps.
pub const ATLASSIAN_CAS: [(&str, &str); 3] = [
    (
        "atlassian_mpac_root_ca_v1.crt",
        include_str!("../../resources/atlassian-ca/atlassian_mpac_root_ca_v1.crt"),
    ),
    (
        "atlassian_mpac_intermediate_ca_v1.crt",
        include_str!("../../resources/atlassian-ca/atlassian_mpac_intermediate_ca_v1.crt"),
    ),
    (
        "atlassian_mpac_intermediate_ca_v2.crt",
        include_str!("../../resources/atlassian-ca/atlassian_mpac_intermediate_ca_v2.crt"),
    ),
];

/// How much a finding matters; ordered from `Warning` to `Error`, serialized in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// UPM accepts the store as far as can be told, but something in it needs attention.
    Warning,
    /// UPM will refuse the store, or the apps it should let in.
    Error,
}

/// One thing `check` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The file it is about; `None` for the folder or the store as a whole.
    pub file: Option<PathBuf>,
    /// What was found, as a phrase; shown after `file` and a colon where there is one.
    pub message: String,
    /// What to do about it: a sentence or a command; `None` where there is no advice.
    pub fix: Option<String>,
    /// Where Countersign itself can do the fix: each face names its own way to it.
    pub remedy: Option<Remedy>,
}

/// A fix that Countersign itself offers, for a face to name its flag or button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Remedy {
    /// The trust-store package can include Atlassian's Marketplace CAs.
    IncludeAtlassianCas,
    /// Saying which user runs the product makes the ownership check exact.
    CheckAsProductUser,
}

/// The lint of a trust store, as UPM sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Lint {
    /// The trust-store folder that was checked.
    pub dir: PathBuf,
    /// How many certificates its readable files hold in all.
    pub certificates: usize,
    /// Atlassian's CAs by file name, and whether the store holds each.
    pub atlassian_cas: Vec<(String, bool)>,
    /// Everything found, errors first.
    pub findings: Vec<Finding>,
}

impl Lint {
    /// No finding UPM would fail on.
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }
}

/// Lints the trust store in `dir` at moment `now`. `product_uid`, when known, is the user
/// that runs the product, who must not own the folder or its files.
pub fn check(
    dir: &Path,
    now: time::OffsetDateTime,
    product_uid: Option<u32>,
) -> Result<Lint, TrustStoreError> {
    Ok(check_store(&TrustStore::load(dir)?, now, product_uid))
}

/// [`check`] of a store loaded already (to ask [`presence`] of the same reading, say).
///
/// [`presence`]: super::presence
pub fn check_store(store: &TrustStore, now: time::OffsetDateTime, product_uid: Option<u32>) -> Lint {
    let dir = store.dir.as_path();
    let mut findings = Vec::new();
    let mut push = |severity, file: Option<&Path>, message: String, fix: Option<&str>, remedy| {
        findings.push(Finding {
            severity,
            file: file.map(Path::to_path_buf),
            message,
            fix: fix.map(str::to_owned),
            remedy,
        });
    };
    permissions(dir, true, product_uid, &mut push);
    let atlassian: Vec<crate::certs::Certificate> = ATLASSIAN_CAS
        .iter()
        .filter_map(|(name, pem)| {
            crate::certs::Certificate::all_from_file_bytes(pem.as_bytes(), name).ok()?.pop()
        })
        .collect();
    let mut seen: Vec<(&Path, &crate::certs::Certificate)> = Vec::new();
    let mut count = 0;
    for file in &store.files {
        permissions(&file.path, false, product_uid, &mut push);
        if let Some(problem) = &file.problem {
            push(
                Severity::Error,
                Some(&file.path),
                format!("is not a certificate UPM can read: {problem}"),
                Some("Remove it from the trust store, or replace it with the PEM certificate."),
                None,
            );
            continue;
        }
        for cert in &file.certificates {
            count += 1;
            certificate_findings(&file.path, cert, now, &atlassian, &seen, &mut push);
            seen.push((&file.path, cert));
        }
    }
    if count == 0 {
        push(
            Severity::Error,
            None,
            "the trust store holds no certificate: UPM 8 then refuses every new app install".into(),
            Some("Add the vendor's certificate (and Atlassian's Marketplace CAs for Marketplace apps)."),
            None,
        );
    }
    let mut atlassian_cas = Vec::new();
    for ((name, _), ca) in ATLASSIAN_CAS.iter().zip(&atlassian) {
        let present = seen.iter().any(|(_, c)| *c == ca);
        atlassian_cas.push(((*name).to_owned(), present));
    }
    let has = |n: &str| atlassian_cas.iter().any(|(name, p)| name == n && *p);
    if !has("atlassian_mpac_intermediate_ca_v2.crt") {
        push(Severity::Warning, None, "Atlassian's Marketplace Intermediate CA v2 is missing: Marketplace apps signed under it will not install".into(), Some("Add atlassian_mpac_intermediate_ca_v2.crt (Countersign's trust-store package can include it)."), Some(Remedy::IncludeAtlassianCas));
    }
    if !has("atlassian_mpac_root_ca_v1.crt") {
        push(
            Severity::Warning,
            None,
            "Atlassian's Marketplace Root CA v1 is missing: Marketplace apps will not verify".into(),
            Some("Add atlassian_mpac_root_ca_v1.crt."),
            None,
        );
    }
    if has("atlassian_mpac_intermediate_ca_v1.crt") {
        push(Severity::Warning, None, "Atlassian's Marketplace Intermediate CA v1 expires on 2027-01-10; from then on only apps under Intermediate CA v2 install".into(), Some("Make sure atlassian_mpac_intermediate_ca_v2.crt is present too."), None);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Lint { dir: dir.to_path_buf(), certificates: count, atlassian_cas, findings }
}

/// What one certificate of the store gets wrong for UPM: a key that is not Ed25519, a
/// validity window it is outside of (or about to leave), a copy of one seen before.
fn certificate_findings(
    file: &Path,
    cert: &crate::certs::Certificate,
    now: time::OffsetDateTime,
    atlassian: &[crate::certs::Certificate],
    seen: &[(&Path, &crate::certs::Certificate)],
    push: &mut impl FnMut(Severity, Option<&Path>, String, Option<&str>, Option<Remedy>),
) {
    use crate::certs::ValidityState;
    let label = cert.subject();
    match cert.public_key(&file.display().to_string()) {
        Ok(k) if k.algorithm() == crate::keys::Algorithm::Ed25519 => {}
        Ok(k) => push(
            Severity::Error,
            Some(file),
            format!("{label}: the key is {}; UPM accepts Ed25519 certificates only", k.algorithm()),
            Some("Replace it with the vendor's Ed25519 certificate."),
            None,
        ),
        Err(e) => push(
            Severity::Error,
            Some(file),
            format!("{label}: {e}"),
            Some("Replace it with the vendor's Ed25519 certificate."),
            None,
        ),
    }
    match cert.validity_at(now) {
        ValidityState::Expired { .. } | ValidityState::NotYetValid { .. } => push(
            Severity::Error,
            Some(file),
            format!("{label}: {}; UPM refuses apps signed under it", cert.validity_at(now)),
            Some("Ask the vendor for their renewed certificate and replace this one."),
            None,
        ),
        // Atlassian's own CAs get their own, more specific message below.
        ValidityState::ExpiringSoon { .. } if atlassian.contains(cert) => {}
        ValidityState::ExpiringSoon { days_left } => push(
            Severity::Warning,
            Some(file),
            format!("{label}: expires in {days_left} days ({})", crate::certs::day(cert.not_after())),
            Some("Ask the vendor for the renewed certificate now and add it beside this one."),
            None,
        ),
        ValidityState::Valid { .. } => {}
    }
    if let Some((other, _)) = seen.iter().find(|(_, c)| *c == cert) {
        push(
            Severity::Warning,
            Some(file),
            format!("{label}: the same certificate as in {}", other.display()),
            Some("Keep one copy; duplicates make it unclear which file to remove later."),
            None,
        );
    }
}

#[cfg(unix)]
fn permissions(
    path: &Path,
    is_dir: bool,
    product_uid: Option<u32>,
    push: &mut impl FnMut(Severity, Option<&Path>, String, Option<&str>, Option<Remedy>),
) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else { return };
    let what = if is_dir { "the folder" } else { "the file" };
    if meta.mode() & 0o022 != 0 {
        let fix = if is_dir {
            format!("sudo chmod 755 {}", path.display())
        } else {
            format!("sudo chmod 644 {}", path.display())
        };
        push(
            Severity::Error,
            Some(path),
            format!(
                "{what} is writable by group or others (mode {:o}); UPM refuses a trust store others can change",
                meta.mode() & 0o7777
            ),
            Some(&fix),
            None,
        );
    }
    match product_uid {
        Some(uid) if meta.uid() == uid => push(
            Severity::Error,
            Some(path),
            format!(
                "{what} is owned by the user that runs the product (uid {uid}); UPM requires it to be read-only for that user"
            ),
            Some(&format!("sudo chown root:root {}", path.display())),
            None,
        ),
        None if meta.uid() != 0 => push(
            Severity::Warning,
            Some(path),
            format!(
                "{what} is owned by uid {}, not root: if that is the user that runs the product, UPM refuses the trust store",
                meta.uid()
            ),
            Some(&format!(
                "sudo chown root:root {}  (or say which user runs the product, to check exactly)",
                path.display()
            )),
            Some(Remedy::CheckAsProductUser),
        ),
        _ => {}
    }
}

#[cfg(not(unix))]
fn permissions(
    _: &Path,
    _: bool,
    _: Option<u32>,
    _: &mut impl FnMut(Severity, Option<&Path>, String, Option<&str>, Option<Remedy>),
) {
}
