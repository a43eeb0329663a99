//! `INSTALL.md`: what the customer's administrator reads.

use super::manifest::BundleManifest;

const TEMPLATE: &str = include_str!("../../resources/INSTALL.md.template");

/// Fills the template for a bundle. `files` lists (file name, what it is, SHA-256 hex).
pub fn render(manifest: &BundleManifest, files: &[(String, &str, String)], signature_base64: &str) -> String {
    let a = &manifest.artifact;
    let title = match (&a.name, &a.version) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.clone(),
        _ => a.file_name.clone(),
    };
    let vendor_line = a.vendor.as_ref().map(|v| format!("From {v}. ")).unwrap_or_default();
    let table: String =
        files.iter().map(|(name, what, sha)| format!("| `{name}` | {what} | `{sha}` |\n")).collect();
    let note_line = manifest
        .note
        .as_ref()
        .map(|n| format!("\n- Note from the vendor: {}", n.replace('\n', " ")))
        .unwrap_or_default();
    let (cert_file, cert_section) = match &manifest.certificate {
        Some(c) => (
            c.file.clone(),
            format!(
                "- Certificate `{}`: {}\n  - SHA-256 fingerprint: `{}`\n  - valid from {} to {}\n  - check it: `openssl x509 -in {} -noout -subject -enddate -fingerprint -sha256`\n",
                c.file, c.subject, c.sha256_fingerprint, c.not_before, c.not_after, c.file
            ),
        ),
        None => (
            "vendor.crt".to_owned(),
            "- No certificate came with this bundle: ask your vendor for theirs (a `.crt` file) and use it\n  below in place of `vendor.crt`.\n".to_owned(),
        ),
    };
    let sig_bin = format!("{}.bin", manifest.signature.file);
    let openssl_check = {
        let decode = format!("openssl base64 -d -A -in {} -out {}", manifest.signature.file, sig_bin);
        let pubkey = format!("openssl x509 -in {cert_file} -pubkey -noout -out vendor-public.pem");
        let verify = if manifest.algorithm == "Ed25519" {
            format!(
                "openssl pkeyutl -verify -pubin -inkey vendor-public.pem -rawin -in {} -sigfile {}",
                a.file_name, sig_bin
            )
        } else {
            format!("openssl dgst -sha384 -verify vendor-public.pem -signature {} {}", sig_bin, a.file_name)
        };
        format!("{decode}\n{pubkey}\n{verify}")
    };
    let mut out = TEMPLATE.replace("{{TRUSTSTORE_STEPS}}", &crate::truststore::steps(&cert_file));
    for (key, value) in [
        ("{{APP_TITLE}}", title),
        ("{{VENDOR_LINE}}", vendor_line),
        ("{{FILE_TABLE}}", table),
        ("{{APP_KEY}}", a.plugin_key.clone().unwrap_or_else(|| "(no plugin key)".into())),
        ("{{APP_VERSION}}", a.version.clone().unwrap_or_else(|| "(unknown)".into())),
        ("{{ALGORITHM}}", manifest.algorithm.clone()),
        ("{{SIGNED_AT}}", manifest.signed_at.clone()),
        ("{{NOTE_LINE}}", note_line),
        ("{{CERT_SECTION}}", cert_section),
        ("{{CERT_FILE}}", cert_file),
        ("{{ARTIFACT_FILE}}", a.file_name.clone()),
        ("{{SIG_FILE}}", manifest.signature.file.clone()),
        ("{{SIGNATURE_BASE64}}", signature_base64.to_owned()),
        ("{{OPENSSL_CHECK}}", openssl_check),
    ] {
        out = out.replace(key, &value);
    }
    out
}
