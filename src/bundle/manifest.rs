//! `manifest.json`: the machine-readable description of a signature bundle.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "countersign-signature-bundle";
pub const FORMAT_VERSION: u32 = 1;
pub const FILE_NAME: &str = "manifest.json";
pub const INSTALL_FILE_NAME: &str = "INSTALL.md";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    pub format: String,
    pub format_version: u32,
    pub artifact: ArtifactEntry,
    /// `Ed25519` or `ECDSA-P384-SHA384`.
    pub algorithm: String,
    pub signature: SignatureEntry,
    /// SHA-256 of the signer's public key (DER SubjectPublicKeyInfo), lower-case hex.
    pub public_key_sha256: String,
    pub certificate: Option<CertificateEntry>,
    /// RFC 3339, UTC.
    pub signed_at: String,
    pub note: Option<String>,
    pub tool: ToolEntry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactEntry {
    pub file_name: String,
    pub size: u64,
    /// Lower-case hex, as `sha256sum` prints it.
    pub sha256: String,
    pub kind: String,
    pub plugin_key: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub vendor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureEntry {
    pub file: String,
    /// Always `base64`: standard alphabet, padded, one line, no trailing newline.
    pub encoding: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateEntry {
    pub file: String,
    /// SHA-256 of the signer's certificate DER, as `openssl x509 -fingerprint -sha256`.
    pub sha256_fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// Certificates in the file: 1 for a self-signed certificate, more for a chain.
    pub chain_length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolEntry {
    pub name: String,
    pub version: String,
}

/// A name from a manifest is used as a file name inside the bundle only when it is a plain
/// name: no folders, no `..`, nothing hidden, nothing a hostile bundle could escape with.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':', '\0'])
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_names_pass() {
        use super::is_plain_file_name as ok;
        assert!(ok("my-app-1.0.jar") && ok("my app.jar.sig"));
        for bad in ["", "../x", "a/b", "a\\b", ".hidden", "..", "C:x", "a\nb"] {
            assert!(!ok(bad), "{bad:?}");
        }
    }
}
