//! Bad input on the command line: each case ends with exit status 2 (1 where a check
//! rejected it), exactly one sentence on stderr naming the file, and nothing left behind.

use std::path::Path;

use crate::common::*;
use countersign::certs::{self, Subject};
use countersign::keys::{Algorithm, PrivateKey};
use time::{Duration, OffsetDateTime};

/// A folder with a valid key, certificate and app, so each case changes one thing.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempdir();
        let d = dir.path();
        let key = generated_key_file(d, "key.pem");
        certificate_file(d, &key, "vendor.crt", &subject("Vendor Signing"), 1);
        make_app_jar(&d.join("app.jar"), "com.acme.app", "1.0", 1000);
        Setup { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the command and checks the shape every failure must have; returns stderr.
    fn fails(&self, args: &[&str], expected_code: i32, must_mention: &[&str]) -> String {
        let before = listing(self.path());
        let (code, out, err) = run(args, self.path());
        assert_eq!(code, expected_code, "{args:?}\nstdout: {out}\nstderr: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "exactly one line on stderr for {args:?}: {err}");
        assert!(lines[0].starts_with("countersign: "), "{err}");
        assert!(lines[0].ends_with('.'), "a whole sentence: {err}");
        for m in must_mention {
            assert!(err.contains(m), "stderr for {args:?} should mention {m:?}: {err}");
        }
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
        assert_eq!(listing(self.path()), before, "nothing may be left behind by {args:?}");
        err
    }
}

fn sign_args(artifact: &str) -> Vec<&str> {
    vec!["sign", artifact, "--key-file", "key.pem", "--cert", "vendor.crt"]
}

#[test]
fn a_missing_artifact() {
    let s = Setup::new();
    s.fails(&sign_args("nope.jar"), 2, &["nope.jar", "does not exist"]);
}

#[test]
fn a_folder_instead_of_an_artifact() {
    let s = Setup::new();
    std::fs::create_dir(s.path().join("folder.jar")).unwrap();
    s.fails(&sign_args("folder.jar"), 2, &["folder.jar", "is a folder"]);
}

#[test]
fn an_empty_artifact() {
    let s = Setup::new();
    std::fs::write(s.path().join("empty.jar"), b"").unwrap();
    s.fails(&sign_args("empty.jar"), 2, &["empty.jar", "is empty"]);
}

#[test]
fn an_artifact_that_is_not_a_zip() {
    let s = Setup::new();
    std::fs::write(s.path().join("text.jar"), b"this is not a jar at all\n".repeat(50)).unwrap();
    s.fails(&sign_args("text.jar"), 2, &["text.jar", "not a zip archive"]);
}

#[test]
fn a_truncated_zip() {
    let s = Setup::new();
    let full = std::fs::read(s.path().join("app.jar")).unwrap();
    std::fs::write(s.path().join("cut.jar"), &full[..full.len() / 2]).unwrap();
    s.fails(&sign_args("cut.jar"), 2, &["cut.jar", "damaged or truncated"]);
}

#[test]
fn a_zip_bomb() {
    use std::io::Write;
    let s = Setup::new();
    // 64 MiB of zeros deflate to about 64 KB: a descriptor no app has.
    let file = std::fs::File::create(s.path().join("bomb.jar")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("atlassian-plugin.xml", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(s.path().join("bomb.jar")).unwrap().len() < 1 << 20);
    s.fails(&sign_args("bomb.jar"), 2, &["bomb.jar", "atlassian-plugin.xml", "zip bomb"]);
}

#[test]
fn an_encrypted_key_with_a_wrong_or_missing_passphrase() {
    require!(openssl);
    let s = Setup::new();
    openssl(
        &["pkey", "-in", "key.pem", "-aes-256-cbc", "-passout", "pass:right", "-out", "enc.pem"],
        s.path(),
    );
    let before = listing(s.path());
    let out = bin()
        .args(["sign", "app.jar", "--key-file", "enc.pem", "--cert", "vendor.crt"])
        .env("COUNTERSIGN_PASSPHRASE", "wrong")
        .current_dir(s.path())
        .output()
        .unwrap();
    let (code, _, err) = decode(out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("The passphrase for enc.pem is wrong"), "{err}");
    assert_eq!(err.trim().lines().count(), 1);
    assert_eq!(listing(s.path()), before);
    // Without COUNTERSIGN_PASSPHRASE and without a terminal to ask on.
    s.fails(
        &["sign", "app.jar", "--key-file", "enc.pem", "--cert", "vendor.crt"],
        2,
        &["enc.pem", "COUNTERSIGN_PASSPHRASE"],
    );
}

#[test]
fn a_key_file_that_is_a_certificate() {
    let s = Setup::new();
    s.fails(
        &["sign", "app.jar", "--key-file", "vendor.crt"],
        2,
        &["vendor.crt is a certificate, not a private key"],
    );
}

#[test]
fn key_files_of_algorithms_upm_does_not_take() {
    require!(openssl);
    let s = Setup::new();
    for (args, name, label) in UNSUPPORTED_OPENSSL_KEYS {
        openssl(args, s.path());
        s.fails(&["sign", "app.jar", "--key-file", name], 2, &[name, label, "Ed25519"]);
    }
}

#[test]
fn a_missing_key_file() {
    let s = Setup::new();
    s.fails(&["sign", "app.jar", "--key-file", "gone.pem"], 2, &["gone.pem", "does not exist"]);
}

#[test]
fn a_certificate_that_is_not_for_this_key() {
    let s = Setup::new();
    let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let now = OffsetDateTime::now_utc();
    let subject = Subject { common_name: "Someone Else".into(), ..Default::default() };
    let cert = certs::self_signed(&other, &subject, now, now + Duration::days(30)).unwrap();
    std::fs::write(s.path().join("other.crt"), cert.to_pem()).unwrap();
    s.fails(
        &["sign", "app.jar", "--key-file", "key.pem", "--cert", "other.crt"],
        2,
        &["other.crt", "is for another key", &other.public_key().fingerprint()],
    );
}

#[test]
fn a_certificate_file_that_is_not_a_certificate() {
    let s = Setup::new();
    s.fails(
        &["sign", "app.jar", "--key-file", "key.pem", "--cert", "key.pem"],
        2,
        &["key.pem is a private key, not a certificate"],
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_output_folder() {
    let s = Setup::new();
    let out_dir = s.path().join("locked");
    std::fs::create_dir(&out_dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let before = listing(s.path());
    let out = if is_root {
        // root writes anywhere; run the binary as an ordinary user, who may read the inputs.
        if !have_tool("setpriv", "--version") {
            return;
        }
        for p in
            [s.path(), &s.path().join("key.pem"), &s.path().join("vendor.crt"), &s.path().join("app.jar")]
        {
            let mode = if p.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_countersign")])
            .args(["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--out", "locked"])
            .current_dir(s.path())
            .output()
            .unwrap()
    } else {
        bin()
            .args(["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--out", "locked"])
            .current_dir(s.path())
            .output()
            .unwrap()
    };
    let (code, _, err) = decode(out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("may not write into") && err.contains("locked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(listing(s.path()), before);
}

#[test]
fn an_output_folder_that_is_a_file() {
    let s = Setup::new();
    std::fs::write(s.path().join("taken"), b"a file").unwrap();
    s.fails(&["sign", "app.jar", "--key-file", "key.pem", "--out", "taken"], 2, &["taken", "is a file"]);
}

/// `--out` makes a missing folder (and its parents), but a signing that fails takes them
/// away again: nothing is left behind.
#[test]
fn a_failed_signing_leaves_no_folder_it_made() {
    let s = Setup::new();
    std::fs::write(s.path().join("text.jar"), b"not a zip").unwrap();
    s.fails(
        &["sign", "text.jar", "--key-file", "key.pem", "--out", "new/bundle"],
        2,
        &["text.jar", "not a zip archive"],
    );
    assert!(!s.path().join("new").exists());
}

#[test]
fn output_files_already_present_are_never_overwritten() {
    let s = Setup::new();
    for existing in ["app.jar.sig", "manifest.json", "INSTALL.md"] {
        std::fs::write(s.path().join(existing), b"the user's own file").unwrap();
        s.fails(&sign_args("app.jar"), 2, &[existing, "already exists", "--overwrite"]);
        assert_eq!(std::fs::read(s.path().join(existing)).unwrap(), b"the user's own file");
        std::fs::remove_file(s.path().join(existing)).unwrap();
    }
    // A different certificate under the bundle's certificate name is not replaced either.
    std::fs::create_dir(s.path().join("out")).unwrap();
    std::fs::write(s.path().join("out/vendor.crt"), b"another certificate").unwrap();
    s.fails(
        &["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--out", "out"],
        2,
        &["vendor.crt", "already exists"],
    );
    // With --overwrite, asked for explicitly, the bundle replaces them.
    let (code, _, err) = run(
        &["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--out", "out", "--overwrite"],
        s.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(s.path().join("out/vendor.crt"))
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

#[test]
fn verify_with_missing_pieces() {
    let s = Setup::new();
    s.fails(&["verify", "nothing-here"], 2, &["nothing-here", "does not exist"]);
    s.fails(&["verify", "."], 2, &["no manifest.json"]);
    s.fails(&["verify", "app.jar", "--cert", "vendor.crt"], 2, &["app.jar.sig", "does not exist", "--sig"]);
    std::fs::write(s.path().join("app.jar.sig"), b"AAAA").unwrap();
    s.fails(&["verify", "app.jar"], 2, &["No certificate", "--cert", "--truststore"]);
    s.fails(&["verify", "app.jar", "--truststore", "no-store"], 2, &["no-store", "does not exist"]);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let s = Setup::new();
    let (code, _, err) = run(&["sign"], s.path());
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run(&["--help"], s.path());
    assert_eq!(code, 0);
    assert!(out.contains("sign") && out.contains("verify") && out.contains("inspect"));
    // No arguments opens the window; without a display that is a sentence pointing to --help.
    // (Only Linux can be without a display this way: on Windows, and under Wine, the window
    // opens, and would wait for a person to close it.)
    #[cfg(target_os = "linux")]
    {
        let out = bin()
            .current_dir(s.path())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WAYLAND_SOCKET")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("could not open its window") && err.contains("countersign --help"), "{err}");
    }
    let (code, _, err) = run(&["verify", "app.jar", "--cert", "a", "--truststore", "b"], s.path());
    assert_eq!(code, 2, "--cert and --truststore exclude each other: {err}");
}
