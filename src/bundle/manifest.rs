//! `manifest.json`: the machine-readable description of a signature bundle.

use serde::{Deserialize, Serialize};

/// The `format` of every bundle manifest; a manifest of another format is not a bundle.
pub const FORMAT: &str = "countersign-signature-bundle";
/// The manifest format version this Countersign writes; a newer one is refused when read.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's file name in a bundle; a folder holding it is a bundle.
pub const FILE_NAME: &str = "manifest.json";
/// The file name of the instructions for the customer's administrator.
pub const INSTALL_FILE_NAME: &str = "INSTALL.md";

/// The content of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version; [`FORMAT_VERSION`] in the bundles this Countersign writes.
    pub format_version: u32,
    /// The signed artifact.
    pub artifact: ArtifactEntry,
    /// `Ed25519` or `ECDSA-P384-SHA384`.
    pub algorithm: String,
    /// The signature file.
    pub signature: SignatureEntry,
    /// SHA-256 of the signer's public key (DER SubjectPublicKeyInfo), lower-case hex.
    pub public_key_sha256: String,
    /// The certificate file the bundle ships; `None` when it was signed without one.
    pub certificate: Option<CertificateEntry>,
    /// RFC 3339, UTC.
    pub signed_at: String,
    /// Free text from the vendor for the customer; `None` when none was given, or it was blank.
    pub note: Option<String>,
    /// The program that wrote the bundle.
    pub tool: ToolEntry,
}

/// The signed artifact, as the manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactEntry {
    /// The artifact's file name: a plain name, next to `manifest.json` in the bundle.
    pub file_name: String,
    /// The artifact's size in bytes.
    pub size: u64,
    /// Lower-case hex, as `sha256sum` prints it.
    pub sha256: String,
    /// `jar` or `obr`.
    pub kind: String,
    /// The plugin key UPM sees (see [`crate::archive::AppInfo::plugin_key`]); `None` when it has none.
    pub plugin_key: Option<String>,
    /// The app's display name, from its descriptor or manifest; `None` when it has none.
    pub name: Option<String>,
    /// The app's version, from its descriptor or manifest; `None` when it has none.
    pub version: Option<String>,
    /// The vendor's name from the descriptor; `None` when it has none.
    pub vendor: Option<String>,
}

/// The bundle's signature file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureEntry {
    /// Its file name in the bundle: the artifact's file name plus `.sig`.
    pub file: String,
    /// Always `base64`: standard alphabet, padded, one line, no trailing newline.
    pub encoding: String,
}

/// The certificate file a bundle ships, and what its signer's certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateEntry {
    /// Its file name in the bundle: `<stem>.crt`, PEM.
    pub file: String,
    /// SHA-256 of the signer's certificate DER, as `openssl x509 -fingerprint -sha256`.
    pub sha256_fingerprint: String,
    /// The signer certificate's subject, RFC 4514 form (`CN=Acme App Signing,O=Acme Ltd`).
    pub subject: String,
    /// Its issuer, RFC 4514 form; the same as the subject for a self-signed certificate.
    pub issuer: String,
    /// Its serial number, lower-case hex.
    pub serial: String,
    /// The start of its validity: RFC 3339, UTC.
    pub not_before: String,
    /// The end of its validity: RFC 3339, UTC.
    pub not_after: String,
    /// Certificates in the file: 1 for a self-signed certificate, more for a chain.
    pub chain_length: usize,
}

/// The program that wrote a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolEntry {
    /// Always `countersign`.
    pub name: String,
    /// Its version ([`crate::VERSION`]).
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
