//! The customer's UPM trust store (`upmconfig/truststore/`): loading the certificates in
//! it the way UPM sees the folder, file by file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::certs::Certificate;

mod lint;
mod package;

pub use lint::{ATLASSIAN_CAS, Finding, Lint, Remedy, Severity, check, check_store};
pub use package::{
    INSTRUCTIONS_FILE, LINUX_SCRIPT_FILE, PackageError, REMOVE_LIST_FILE, Removal, WINDOWS_SCRIPT_FILE,
    package, package_swap,
};
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
