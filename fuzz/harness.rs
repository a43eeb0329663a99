//! What each fuzz target does with its input, shared by the targets in `fuzz_targets/`
//! and by `tests/integration/fuzz_regressions.rs` (which includes this file by path), so the regression
//! suite replays found inputs and seeds through exactly the code the fuzzer ran.
//!
//! Every function feeds outside bytes to a real entry point of the library, the same one the
//! command line and the window use, then calls what a caller would call on the result.
//! Results are ignored: `Ok` and `Err` are both fine, only a panic, a hang or runaway memory
//! is a bug.

#![allow(dead_code)]

use std::io::Cursor;
use std::path::Path;

use countersign::archive;
use countersign::bundle::{self, VerifyTarget};
use countersign::certs::Certificate;
use countersign::keys::{PrivateKey, PublicKey};
use countersign::progress::Progress;
use countersign::signing::Signature;
use countersign::truststore;
use zeroize::Zeroizing;

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target, by the name of its folder under `fuzz/seeds/` and `tests/fuzz-regressions/`.
pub const TARGETS: [(&str, Target); 7] = [
    ("archive", archive),
    ("descriptor", descriptor),
    ("certs", certs),
    ("keys", keys),
    ("bundle", bundle),
    ("truststore", truststore),
    ("signature", signature),
];

/// The passphrase the `keys` target offers for an encrypted key (the seeds use it).
pub const PASSPHRASE: &str = "countersign-fuzz";

/// Separates the files of a trust store in one `truststore` input.
pub const FILE_SEPARATOR: &[u8] = b"\n--8<--\n";

/// A fixed moment (2026-09-21), so a run does not depend on the day.
fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A jar or OBR in memory, through `archive::inspect_reader` (which `archive::inspect`
/// uses), once named as a jar and once as an OBR.
pub fn archive(data: &[u8]) {
    for name in ["app-1.0.jar", "app-1.0.obr"] {
        if let Ok(info) = archive::inspect_reader(Cursor::new(data), Path::new(name)) {
            let _ = (info.plugin_key(), info.name(), info.version(), info.vendor(), info.is_atlassian_app());
        }
    }
}

/// `atlassian-plugin.xml` and `META-INF/MANIFEST.MF` parsed directly: inside a zip the
/// fuzzer rarely gets past the CRC check to reach them.
pub fn descriptor(data: &[u8]) {
    let _ = archive::Descriptor::parse(data);
    let _ = archive::Manifest::parse(data);
}

/// A certificate file (PEM chain or DER) and everything said about what it holds.
pub fn certs(data: &[u8]) {
    let _ = Certificate::from_der(data, "fuzz.der");
    let Ok(chain) = Certificate::all_from_file_bytes(data, "fuzz.crt") else { return };
    for cert in &chain {
        let _ = (cert.subject(), cert.issuer(), cert.serial_hex(), cert.fingerprint(), cert.to_pem());
        let _ = (
            cert.validity_at(now()),
            cert.is_self_issued(),
            cert.claims_self_signed(),
            cert.subject_fields(),
        );
        if let Ok(key) = cert.public_key("fuzz.crt") {
            let _ = key.fingerprint();
        }
        let _ = cert.verify_issued_by(cert);
    }
    for pair in chain.windows(2) {
        let _ = pair[0].verify_issued_by(&pair[1]);
    }
}

/// A private key file (PKCS#8 PEM or DER, encrypted or not, SEC1), with a fixed
/// passphrase, and the same bytes as a public key file.
pub fn keys(data: &[u8]) {
    let passphrase = || Ok(Zeroizing::new(PASSPHRASE.to_owned()));
    if let Ok(key) = PrivateKey::from_file_bytes(data, "fuzz.key", passphrase) {
        let _ = key.public_key().fingerprint();
        let _ = key.to_pkcs8_der();
    }
    if let Ok(key) = PublicKey::from_file_bytes(data, "fuzz.pub") {
        let _ = (key.fingerprint(), key.to_spki_pem());
    }
}

/// A bundle, read and verified as `countersign verify` does: the input as a `-signed.zip`,
/// and, when it looks like JSON, as the `manifest.json` of a bundle folder beside an
/// artifact, a signature and a certificate.
pub fn bundle(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let zip = dir.path().join("app-1.0-signed.zip");
    if std::fs::write(&zip, data).is_ok() {
        verify_bundle(&zip);
    }
    if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let folder = dir.path().join("bundle");
        let written = std::fs::create_dir(&folder)
            .and_then(|()| std::fs::write(folder.join("manifest.json"), data))
            .and_then(|()| {
                std::fs::write(folder.join("app-1.0.jar"), b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
            })
            .and_then(|()| std::fs::write(folder.join("app-1.0.jar.sig"), "A".repeat(86) + "=="))
            .and_then(|()| std::fs::write(folder.join("vendor.crt"), truststore::ATLASSIAN_CAS[0].1));
        if written.is_ok() {
            verify_bundle(&folder);
        }
    }
}

fn verify_bundle(path: &Path) {
    let _ = bundle::load_bundle(path);
    let target = VerifyTarget { path: path.to_path_buf(), ..VerifyTarget::default() };
    let _ = bundle::verify_target(&target, None, now(), &Progress::new());
}

/// A trust-store folder: the input split at [`FILE_SEPARATOR`] into up to 16 files, then
/// loaded and linted as `countersign truststore check` does.
pub fn truststore(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let mut rest = data;
    for i in 0..16 {
        let (file, next) = match rest.windows(FILE_SEPARATOR.len()).position(|w| w == FILE_SEPARATOR) {
            Some(at) if i < 15 => (&rest[..at], Some(&rest[at + FILE_SEPARATOR.len()..])),
            _ => (rest, None),
        };
        if std::fs::write(dir.path().join(format!("cert-{i:02}.crt")), file).is_err() {
            return;
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    if let Ok(store) = truststore::TrustStore::load(dir.path()) {
        let _ = store.certificates().count();
    }
    let _ = truststore::check(dir.path(), now(), None);
}

/// A `.sig` file's content. What decodes must encode back to the same signature.
pub fn signature(data: &[u8]) {
    if let Ok(sig) = Signature::decode(data, "fuzz.sig")
        && !sig.as_bytes().is_empty()
    {
        let again = Signature::decode(sig.to_base64().as_bytes(), "again.sig");
        assert_eq!(again.ok().as_ref(), Some(&sig), "a decoded signature does not survive Base64 and back");
    }
}
