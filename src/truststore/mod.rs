//! The customer's UPM trust store (`upmconfig/truststore/`): loading the certificates in
//! it the way UPM sees the folder, file by file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::certs::Certificate;

/// A file larger than this in a trust store is not read (no certificate is that large).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

const STEPS: &str = include_str!("../../resources/truststore-steps.md.template");

/// How to put `cert_file` into UPM's trust store on Linux, Docker, Kubernetes and Windows
/// (Markdown, for a bundle's `INSTALL.md` and the trust-store package's instructions).
pub fn steps(cert_file: &str) -> String {
    STEPS.replace("{{CERT_FILE}}", cert_file)
}

/// Why a trust-store folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    /// Nothing exists at the path.
    #[error("The trust store {} does not exist. Give the upmconfig/truststore folder.", .0.display())]
    Missing(PathBuf),
    /// The path is a file, not a folder.
    #[error("{} is a file, not a folder. Give the upmconfig/truststore folder.", .0.display())]
    NotAFolder(PathBuf),
    /// The folder could not be examined or listed.
    #[error("Could not read the trust store {}: {source}.", .path.display())]
    Read {
        /// The trust-store folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One file of the trust store and what it holds.
#[derive(Debug, Clone)]
pub struct TrustFile {
    /// The file's path, inside the trust-store folder.
    pub path: PathBuf,
    /// Certificates read from the file; empty when `problem` says why.
    pub certificates: Vec<Certificate>,
    /// Why the file holds no usable certificate, when it does not.
    pub problem: Option<String>,
}

/// A trust-store folder as UPM sees it: each regular file in it, and what that file holds.
#[derive(Debug, Clone)]
pub struct TrustStore {
    /// The trust-store folder.
    pub dir: PathBuf,
    /// Its regular files, in name order (sub-folders are not read).
    pub files: Vec<TrustFile>,
}

impl TrustStore {
    /// Reads every regular file in `dir` (not sub-folders), in name order.
    pub fn load(dir: &Path) -> Result<Self, TrustStoreError> {
        let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TrustStoreError::Missing(dir.to_path_buf()),
            _ => TrustStoreError::Read { path: dir.to_path_buf(), source: e },
        })?;
        if !meta.is_dir() {
            return Err(TrustStoreError::NotAFolder(dir.to_path_buf()));
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| TrustStoreError::Read { path: dir.to_path_buf(), source })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let files = paths.into_iter().map(load_file).collect();
        Ok(TrustStore { dir: dir.to_path_buf(), files })
    }

    /// Every certificate in the store with the file it came from.
    pub fn certificates(&self) -> impl Iterator<Item = (&Path, &Certificate)> {
        self.files.iter().flat_map(|f| f.certificates.iter().map(move |c| (f.path.as_path(), c)))
    }
}

/// Where a certificate stands to a trust store: in it, missing, or missing with another
/// certificate of the same key or subject in its place (one from before a renewal, say).
///
/// Files are compared by what they hold (the certificate's exact DER), never by name: a
/// customer may have renamed the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "presence", rename_all = "kebab-case")]
pub enum Presence {
    /// A file of the store holds this very certificate.
    Present {
        /// The first such file, in name order.
        file: PathBuf,
    },
    /// Not this certificate, but one for the same key or subject issued before it (or at the
    /// same moment): typically the certificate it renewed, which the store still trusts.
    Older(Related),
    /// Not this certificate, but one for the same key or subject issued after it: the store
    /// has moved on to a later certificate.
    Newer(Related),
    /// Neither this certificate nor any other of its key or subject.
    Missing,
}

impl Presence {
    /// The store's file this is about: the certificate itself, or the related one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Presence::Present { file } => Some(file),
            Presence::Older(r) | Presence::Newer(r) => Some(&r.file),
            Presence::Missing => None,
        }
    }

    /// True when the store holds the certificate itself.
    pub fn is_present(&self) -> bool {
        matches!(self, Presence::Present { .. })
    }
}

/// A certificate of the store related to the one asked about, but not it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Related {
    /// The store's file that holds it.
    pub file: PathBuf,
    /// True when it carries the same public key; false when only the subject is the same
    /// (another key under the same name).
    pub same_key: bool,
    /// Its subject, RFC 4514 form.
    pub subject: String,
    /// Its serial number, lower-case hex.
    pub serial: String,
    /// Its SHA-256 fingerprint, as openssl prints it.
    pub sha256_fingerprint: String,
    /// The start of its validity, RFC 3339.
    pub not_before: String,
    /// The end of its validity, RFC 3339.
    pub not_after: String,
}

/// Whether `store` holds `cert` itself, or another certificate of the same public key or
/// subject (see [`Presence`]). Of several related certificates, the one issued last is named.
pub fn presence(store: &TrustStore, cert: &Certificate) -> Presence {
    if let Some((file, _)) = store.certificates().find(|(_, c)| *c == cert) {
        return Presence::Present { file: file.to_path_buf() };
    }
    // Issued: the start of validity (a renewal's end may come before the old one's).
    let issued = |c: &Certificate| c.not_before();
    // The last issued; of equals, the first file.
    let mut related: Option<(&Path, &Certificate)> = None;
    for (file, c) in store.certificates() {
        let newer_than_kept = related.is_none_or(|(_, kept)| issued(c) > issued(kept));
        if (c.same_public_key(cert) || c.same_subject(cert)) && newer_than_kept {
            related = Some((file, c));
        }
    }
    let Some((file, found)) = related else { return Presence::Missing };
    let related = Related {
        file: file.to_path_buf(),
        same_key: found.same_public_key(cert),
        subject: found.subject(),
        serial: found.serial_hex(),
        sha256_fingerprint: found.fingerprint(),
        not_before: crate::certs::rfc3339(found.not_before()),
        not_after: crate::certs::rfc3339(found.not_after()),
    };
    if issued(found) > issued(cert) { Presence::Newer(related) } else { Presence::Older(related) }
}

/// [`presence`] of each certificate, in order: to ask about several at once (the one that
/// must be there, the ones that must be gone).
pub fn presences<'a>(store: &TrustStore, certs: impl IntoIterator<Item = &'a Certificate>) -> Vec<Presence> {
    certs.into_iter().map(|c| presence(store, c)).collect()
}

/// Whether a certificate swap is done in a store: the certificates that must be in it, and
/// the ones that must be gone, each with its [`Presence`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct SwapCheck {
    /// The certificates that must be in the store, in the order asked.
    pub expected: Vec<Presence>,
    /// The certificates that must not be, in the order asked.
    pub rejected: Vec<Presence>,
}

impl SwapCheck {
    /// Every expected certificate is there and no rejected one is.
    pub fn done(&self) -> bool {
        self.expected.iter().all(Presence::is_present) && !self.rejected.iter().any(Presence::is_present)
    }
}

/// [`SwapCheck`] of `store`: each of `expect` must be in it (by content, any file name), none
/// of `reject`.
pub fn swap_check<'a>(
    store: &TrustStore,
    expect: impl IntoIterator<Item = &'a Certificate>,
    reject: impl IntoIterator<Item = &'a Certificate>,
) -> SwapCheck {
    SwapCheck { expected: presences(store, expect), rejected: presences(store, reject) }
}

fn load_file(path: PathBuf) -> TrustFile {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
    let problem = match read {
        Err(e) => Some(format!("cannot be read: {e}")),
        Ok(_) if bytes.len() as u64 > MAX_FILE_BYTES => Some("is larger than any certificate".to_owned()),
        Ok(_) => None,
    };
    if let Some(problem) = problem {
        return TrustFile { path, certificates: Vec::new(), problem: Some(problem) };
    }
    match Certificate::all_from_file_bytes(&bytes, &name) {
        Ok(certificates) => TrustFile { path, certificates, problem: None },
        Err(e) => TrustFile { path, certificates: Vec::new(), problem: Some(e.to_string()) },
    }
}

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

/// File name of the instructions that go beside a packaged trust store.
pub const INSTRUCTIONS_FILE: &str = "TRUSTSTORE-INSTRUCTIONS.md";

/// Writes a ready `upmconfig/truststore/` holding `cert` (as `<cert_name>.crt`), and
/// optionally Atlassian's CAs, under `out` (a new folder), or into `out` as a zip when it
/// ends in `.zip`; instructions go beside `upmconfig/`, never inside the trust store, where
/// UPM would take them for a certificate.
pub fn package(
    cert: &[crate::certs::Certificate],
    cert_name: &str,
    out: &Path,
    include_atlassian: bool,
) -> Result<Vec<String>, PackageError> {
    if out.exists() {
        return Err(PackageError::Exists(out.to_path_buf()));
    }
    let cert_file = format!("{cert_name}.crt");
    let mut members = store_members(cert, &cert_file, include_atlassian);
    let instructions = format!(
        "# UPM trust store for {}\n\nThis package holds a ready `upmconfig/truststore/` folder. Copy the folder, not this file, into the product's shared home (Data Center) or home directory.\n\nCertificate `{cert_file}`: {}\n- SHA-256 fingerprint: `{}`\n- valid until {}\n\n{}",
        cert.first().map(|c| c.subject()).unwrap_or_default(),
        cert.first().map(|c| c.subject()).unwrap_or_default(),
        cert.first().map(|c| c.fingerprint()).unwrap_or_default(),
        cert.first().map(|c| crate::certs::day(c.not_after())).unwrap_or_default(),
        steps(&cert_file),
    );
    members.push((INSTRUCTIONS_FILE.to_owned(), instructions, 0o644));
    write_members(out, &members)
}

/// Writes `members` (name, text, mode) as the folder or zip `out`; returns their names.
fn write_members(out: &Path, members: &[(String, String, u32)]) -> Result<Vec<String>, PackageError> {
    let names = members.iter().map(|(n, _, _)| n.clone()).collect();
    let is_zip = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        let bytes =
            zip_members(members).map_err(|e| PackageError::Io { path: out.to_path_buf(), source: e })?;
        crate::atomic::write_file(out, &bytes, false)?;
    } else {
        write_folder(out, members)?;
    }
    Ok(names)
}

/// The trust-store folder's files: the certificate (and chain) as `cert_file`, and optionally
/// Atlassian's CAs.
fn store_members(
    cert: &[crate::certs::Certificate],
    cert_file: &str,
    include_atlassian: bool,
) -> Vec<(String, String, u32)> {
    let mut members =
        vec![(format!("upmconfig/truststore/{cert_file}"), cert.iter().map(|c| c.to_pem()).collect(), 0o644)];
    if include_atlassian {
        for (name, pem) in ATLASSIAN_CAS {
            members.push((format!("upmconfig/truststore/{name}"), pem.to_owned(), 0o644));
        }
    }
    members
}

/// File name, in a swap kit, of the list of certificates to remove: one SHA-256 fingerprint a
/// line (as openssl prints it), then two spaces and the file name it was delivered as; lines
/// starting with `#` are comments. The kit's scripts read it.
pub const REMOVE_LIST_FILE: &str = "remove.sha256";
/// File name, in a swap kit, of the script that applies it on Linux (and Docker, Kubernetes).
pub const LINUX_SCRIPT_FILE: &str = "apply-linux.sh";
/// File name, in a swap kit, of the script that applies it on Windows.
pub const WINDOWS_SCRIPT_FILE: &str = "apply-windows.ps1";

const SWAP_STEPS: &str = include_str!("../../resources/truststore-swap/INSTRUCTIONS.md.template");
const LINUX_SCRIPT: &str = include_str!("../../resources/truststore-swap/apply-linux.sh");
const WINDOWS_SCRIPT: &str = include_str!("../../resources/truststore-swap/apply-windows.ps1");

/// A certificate a swap kit removes from the customer's trust store.
#[derive(Debug, Clone)]
pub struct Removal {
    /// The old certificate; found in the store by its content (SHA-256 fingerprint).
    pub certificate: crate::certs::Certificate,
    /// The file name it was delivered under (e.g. `acme.crt`), for people to look for; the
    /// customer may have renamed it.
    pub delivered_as: String,
}

/// [`package`], as a swap kit: the trust store with `cert`, plus the list of certificates to
/// remove ([`REMOVE_LIST_FILE`]), a script for Linux and one for Windows that remove them by
/// fingerprint and add the new one, and instructions that say how on Linux, Docker,
/// Kubernetes and Windows. With nothing to remove, it is [`package`].
///
/// Refused before anything is written: `out` exists, or a certificate to remove is one the
/// kit adds.
pub fn package_swap(
    cert: &[crate::certs::Certificate],
    cert_name: &str,
    remove: &[Removal],
    out: &Path,
    include_atlassian: bool,
) -> Result<Vec<String>, PackageError> {
    if remove.is_empty() {
        return package(cert, cert_name, out, include_atlassian);
    }
    if out.exists() {
        return Err(PackageError::Exists(out.to_path_buf()));
    }
    let cert_file = format!("{cert_name}.crt");
    let mut members = store_members(cert, &cert_file, include_atlassian);
    let adds: Vec<crate::certs::Certificate> = members
        .iter()
        .filter_map(|(name, pem, _)| {
            crate::certs::Certificate::all_from_file_bytes(pem.as_bytes(), name).ok()
        })
        .flatten()
        .collect();
    let mut removals: Vec<&Removal> = Vec::new();
    for r in remove {
        if adds.contains(&r.certificate) {
            return Err(PackageError::RemovesAdded {
                subject: r.certificate.subject(),
                fingerprint: r.certificate.fingerprint(),
            });
        }
        if !removals.iter().any(|kept| kept.certificate == r.certificate) {
            removals.push(r);
        }
    }
    // A file name is one line of plain text in the list and the instructions.
    let clean = |name: &str| -> String {
        let n: String = name.chars().filter(|c| !c.is_control()).collect();
        n.trim().to_owned()
    };
    let (subject, fingerprint, until) = cert
        .first()
        .map(|c| (c.subject(), c.fingerprint(), crate::certs::day(c.not_after())))
        .unwrap_or_default();
    let mut list = String::from(
        "# The certificates to remove from the UPM trust store: SHA-256 fingerprint, then the\n# file name it was delivered as (it may have been renamed). Read by apply-linux.sh and\n# apply-windows.ps1.\n",
    );
    let mut text = format!(
        "# Certificate swap for the UPM trust store: {subject}\n\nThe vendor has replaced a signing certificate. This kit removes the old certificate from UPM's trust store and adds the new one.\n\n**Add** `{cert_file}` (in this kit's `upmconfig/truststore/`): {subject}\n- SHA-256 fingerprint: `{fingerprint}`\n- valid until {until}\n\n**Remove** (listed in `{REMOVE_LIST_FILE}`):\n",
    );
    for r in &removals {
        let c = &r.certificate;
        let name = clean(&r.delivered_as);
        list.push_str(&format!("{}  {name}\n", c.fingerprint()));
        text.push_str(&format!(
            "- `{name}` (the file name it was delivered as; it may have been renamed, so look for it by fingerprint): {}\n  - SHA-256 fingerprint: `{}`\n  - valid until {}\n",
            c.subject(),
            c.fingerprint(),
            crate::certs::day(c.not_after()),
        ));
    }
    text.push('\n');
    let mut names: Vec<String> = Vec::new();
    for r in &removals {
        let name = format!("`{}`", clean(&r.delivered_as));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let names = names.join(" or ");
    let case = removals.iter().map(|r| r.certificate.fingerprint()).collect::<Vec<_>>().join("|");
    let ps = removals
        .iter()
        .map(|r| format!("'{}'", r.certificate.fingerprint().replace(':', "")))
        .collect::<Vec<_>>()
        .join(", ");
    text.push_str(
        &SWAP_STEPS
            .replace("{{CERT_FILE}}", &cert_file)
            .replace("{{FINGERPRINTS_CASE}}", &case)
            .replace("{{FINGERPRINTS_PS}}", &ps)
            .replace("{{OLD_NAMES}}", &names),
    );
    text.push_str(&steps(&cert_file));
    members.push((INSTRUCTIONS_FILE.to_owned(), text, 0o644));
    members.push((REMOVE_LIST_FILE.to_owned(), list, 0o644));
    members.push((LINUX_SCRIPT_FILE.to_owned(), LINUX_SCRIPT.to_owned(), 0o755));
    members.push((WINDOWS_SCRIPT_FILE.to_owned(), WINDOWS_SCRIPT.to_owned(), 0o644));
    write_members(out, &members)
}

fn zip_members(members: &[(String, String, u32)]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let to_io = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    for dir in ["upmconfig/", "upmconfig/truststore/"] {
        zip.add_directory(dir, SimpleFileOptions::default().unix_permissions(0o755)).map_err(to_io)?;
    }
    for (name, text, mode) in members {
        zip.start_file(name.as_str(), SimpleFileOptions::default().unix_permissions(*mode)).map_err(to_io)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish().map_err(to_io)?.into_inner())
}

/// Builds the folder under a temporary name beside `out` and renames it into place, so it
/// appears whole or not at all.
fn write_folder(out: &Path, members: &[(String, String, u32)]) -> Result<(), PackageError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| PackageError::Io { path: out.to_path_buf(), source };
    let temp = tempfile::Builder::new().prefix(crate::atomic::TEMP_PREFIX).tempdir_in(&parent).map_err(io)?;
    for (name, text, mode) in members {
        let path = temp.path().join(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(io)?;
        set_mode(&path, *mode);
    }
    for dir in ["upmconfig", "upmconfig/truststore"] {
        set_mode(&temp.path().join(dir), 0o755);
    }
    set_mode(temp.path(), 0o755);
    let kept = temp.keep();
    std::fs::rename(&kept, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        io(e)
    })
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Why a trust-store package could not be written; nothing is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Something exists at the output path already; packages never overwrite.
    #[error("{} already exists. Choose a new path for the trust-store package; Countersign does not overwrite.", .0.display())]
    Exists(PathBuf),
    /// The package's folder or zip could not be built, or its folder not moved into place.
    #[error("Could not write the trust-store package {}: {source}.", .path.display())]
    Io {
        /// The package's output path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A certificate to remove is one the package adds.
    #[error(
        "The certificate to remove ({subject}, SHA-256 {fingerprint}) is one the package adds. Name the old certificate to remove and the new one to add; nothing was written."
    )]
    RemovesAdded {
        /// Its subject, RFC 4514 form.
        subject: String,
        /// Its SHA-256 fingerprint.
        fingerprint: String,
    },
    /// The zip package could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{Subject, self_signed};
    use crate::keys::{Algorithm, PrivateKey};
    use time::{Duration, OffsetDateTime};

    fn cert(key: &PrivateKey, cn: &str, start_days_ago: i64) -> Certificate {
        let now = OffsetDateTime::now_utc();
        let subject = Subject { common_name: cn.into(), ..Default::default() };
        self_signed(key, &subject, now - Duration::days(start_days_ago), now + Duration::days(300)).unwrap()
    }

    fn store(files: &[(&str, &Certificate)]) -> (tempfile::TempDir, TrustStore) {
        let dir = tempfile::tempdir().unwrap();
        for (name, c) in files {
            std::fs::write(dir.path().join(name), c.to_pem()).unwrap();
        }
        let store = TrustStore::load(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn presence_compares_contents_and_tells_older_from_newer() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let (old, current, next) = (cert(&key, "Acme", 400), cert(&key, "Acme", 10), cert(&key, "Acme", 1));
        let other_key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let same_name = cert(&other_key, "Acme", 500);
        let stranger = cert(&other_key, "Someone Else", 5);

        let (_d, s) = store(&[("renamed by the customer.pem", &current), ("z-old.crt", &old)]);
        let Presence::Present { file } = presence(&s, &current) else { panic!("present") };
        assert!(file.ends_with("renamed by the customer.pem"));

        let (_d, s) = store(&[("a.crt", &old), ("b.crt", &same_name), ("c.crt", &stranger)]);
        let Presence::Older(r) = presence(&s, &current) else { panic!("older") };
        assert!(r.file.ends_with("a.crt") && r.same_key, "the last issued of the related: {r:?}");
        assert_eq!(r.sha256_fingerprint, old.fingerprint());
        assert_eq!(r.serial, old.serial_hex());

        let (_d, s) = store(&[("b.crt", &same_name)]);
        let Presence::Older(r) = presence(&s, &current) else { panic!("older") };
        assert!(!r.same_key, "the same subject, another key");

        let (_d, s) = store(&[("next.crt", &next), ("c.crt", &stranger)]);
        assert!(matches!(presence(&s, &current), Presence::Newer(r) if r.file.ends_with("next.crt")));

        let (_d, s) = store(&[("c.crt", &stranger)]);
        assert_eq!(presence(&s, &current), Presence::Missing);
        assert_eq!(presence(&s, &current).file(), None);

        // Several asked at once: the one expected, the one to be gone.
        let (_d, s) = store(&[("current.crt", &current)]);
        let found = presences(&s, [&current, &old]);
        assert!(found[0].is_present());
        assert!(matches!(&found[1], Presence::Newer(r) if r.file.ends_with("current.crt")));
        let json = serde_json::to_value(&found[1]).unwrap();
        assert_eq!(json["presence"], "newer");
        assert_eq!(json["same_key"], true);
    }
}
