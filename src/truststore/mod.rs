//! The customer's UPM trust store (`upmconfig/truststore/`): loading the certificates in
//! it the way UPM sees the folder, file by file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::certs::Certificate;

/// A file larger than this in a trust store is not read (no certificate is that large).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    #[error("The trust store {} does not exist. Pass the upmconfig/truststore folder.", .0.display())]
    Missing(PathBuf),
    #[error("{} is a file, not a folder. Pass the upmconfig/truststore folder.", .0.display())]
    NotAFolder(PathBuf),
    #[error("Could not read the trust store {}: {source}.", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
}

/// One file of the trust store and what it holds.
#[derive(Debug, Clone)]
pub struct TrustFile {
    pub path: PathBuf,
    /// Certificates read from the file; empty when `problem` says why.
    pub certificates: Vec<Certificate>,
    /// Why the file holds no usable certificate, when it does not.
    pub problem: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TrustStore {
    pub dir: PathBuf,
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
