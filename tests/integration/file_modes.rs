//! Who can read what Countersign writes, under the umask a person or a build machine sets
//! (Unix modes; every writer of the core, through the real binary):
//! - a file meant for others (bundle files and the app's copy, the bundle zip, certificates,
//!   requests, public keys, CSV exports, a trust-store kit zip) gets the mode any program's
//!   new file gets: 0666 without the umask's bits, so a customer's service user can read
//!   what a support engineer copied with `cp -p`;
//! - a folder made for a bundle gets 0777 without the umask's bits, as `mkdir -p` gives;
//! - a key backup, the key list and the history are the owner's alone (0600) whatever the
//!   umask;
//! - a trust-store kit folder carries the modes UPM insists on (0755 folders, 0644
//!   certificates, the script 0755) whatever the umask.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::keychain::Keychain;
use crate::common::*;

/// The masks of a shared machine's default and of a private one; a group-writable one (the
/// default for users with their own group); and one that keeps the group reading.
const MASKS: [u32; 4] = [0o022, 0o077, 0o002, 0o027];

/// `cmd` run by a shell that set the umask first, with the same arguments, environment and
/// working folder (the umask is the process's own, so it is set in the child).
fn under_umask(mask: u32, cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(format!("umask {mask:03o} && exec \"$@\"")).arg("sh");
    sh.arg(cmd.get_program()).args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => sh.env(key, v),
            None => sh.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh
}

fn ok_under(mask: u32, cmd: &Command) -> String {
    let (code, out, err) = decode(under_umask(mask, cmd).output().unwrap());
    assert_eq!(code, 0, "umask {mask:03o}: {:?}: {out}{err}", cmd.get_args().collect::<Vec<_>>());
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode()
        & 0o7777
}

fn assert_mode(path: &Path, expected: u32, mask: u32) {
    assert_eq!(
        mode(path),
        expected,
        "{} under umask {mask:03o}: {:03o}, expected {expected:03o}",
        path.display(),
        mode(path)
    );
}

/// Every file directly in `dir` has `expected`, and there is at least one.
fn assert_files(dir: &Path, expected: u32, mask: u32) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_mode(&path, expected, mask);
            n += 1;
        }
    }
    assert!(n > 0, "{} is empty", dir.display());
    n
}

#[test]
fn what_countersign_writes_for_others_follows_the_umask_and_its_own_files_stay_private() {
    require!(openssl);
    for mask in MASKS {
        let shared = 0o666 & !mask;
        let dir = tempdir();
        let d = dir.path();
        let home = d.join("home");
        openssl_ed25519_key(d, "key.pem");
        openssl_self_signed(d, "key.pem", "vendor.crt", "365");
        make_app_jar(&d.join("app-1.0.jar"), "com.acme.app", "1.0", 200_000);
        let cmd = |args: &[&str]| {
            let mut c = bin();
            c.args(args).current_dir(d).env("COUNTERSIGN_HOME", &home);
            c
        };

        // A bundle folder of its own, with the app's copy and the zip.
        ok_under(
            mask,
            &cmd(&[
                "sign",
                "app-1.0.jar",
                "--key-file",
                "key.pem",
                "--cert",
                "vendor.crt",
                "--out",
                "dist",
                "--zip",
            ]),
        );
        assert_mode(&d.join("dist"), 0o777 & !mask, mask);
        let files = assert_files(&d.join("dist"), shared, mask);
        assert_eq!(files, 6, "app, .sig, .crt, INSTALL.md, zip, manifest.json");

        // Several apps, each into a bundle folder under one output folder.
        std::fs::copy(d.join("app-1.0.jar"), d.join("other-1.0.jar")).unwrap();
        ok_under(
            mask,
            &cmd(&[
                "sign",
                "app-1.0.jar",
                "other-1.0.jar",
                "--key-file",
                "key.pem",
                "--cert",
                "vendor.crt",
                "--out",
                "batch",
            ]),
        );
        for bundle in ["app-1.0-bundle", "other-1.0-bundle"] {
            assert_mode(&d.join("batch").join(bundle), 0o777 & !mask, mask);
            assert_eq!(assert_files(&d.join("batch").join(bundle), shared, mask), 5);
        }

        // In place, next to the app.
        std::fs::create_dir(d.join("beside")).unwrap();
        std::fs::copy(d.join("app-1.0.jar"), d.join("beside/app-1.0.jar")).unwrap();
        ok_under(
            mask,
            &cmd(&["sign", "beside/app-1.0.jar", "--key-file", "key.pem", "--cert", "vendor.crt"]),
        );
        for name in ["app-1.0.jar.sig", "vendor.crt", "INSTALL.md", "manifest.json"] {
            assert_mode(&d.join("beside").join(name), shared, mask);
        }

        // The history's CSV export is for others; the history itself is the owner's.
        ok_under(mask, &cmd(&["history", "--csv", "signings.csv"]));
        assert_mode(&d.join("signings.csv"), shared, mask);
        assert_mode(&home.join("history.jsonl"), 0o600, mask);

        // The trust-store kit: the folder as UPM wants it, the zip as any file for others.
        ok_under(mask, &cmd(&["truststore", "package", "--cert", "vendor.crt", "--out", "kit"]));
        for folder in ["kit", "kit/upmconfig", "kit/upmconfig/truststore"] {
            assert_mode(&d.join(folder), 0o755, mask);
        }
        assert_mode(&d.join("kit/upmconfig/truststore/vendor.crt"), 0o644, mask);
        assert_mode(&d.join("kit/TRUSTSTORE-INSTRUCTIONS.md"), 0o644, mask);
        ok_under(mask, &cmd(&["truststore", "package", "--cert", "vendor.crt", "--out", "kit.zip"]));
        assert_mode(&d.join("kit.zip"), shared, mask);
        openssl_ed25519_key(d, "new.pem");
        openssl_self_signed(d, "new.pem", "new.crt", "365");
        ok_under(
            mask,
            &cmd(&["truststore", "package", "--cert", "new.crt", "--remove", "vendor.crt", "--out", "swap"]),
        );
        assert_mode(&d.join("swap/apply-linux.sh"), 0o755, mask);
        assert_mode(&d.join("swap/remove.sha256"), 0o644, mask);
    }
}

#[test]
fn keys_certificates_and_backups_follow_the_umask_but_a_backup_is_always_the_owners() {
    let Some(k) = Keychain::new() else { return };
    let d = k.path();
    for mask in MASKS {
        let shared = 0o666 & !mask;
        let name = format!("acme-{mask:03o}");
        let cmd = |args: &[&str]| k.cmd(&k.home(), &k.service, args);
        ok_under(mask, &cmd(&["keys", "generate", "--name", &name]));
        assert_mode(&k.home().join("keys.json"), 0o600, mask);
        let file = |ext: &str| format!("{name}.{ext}");
        ok_under(mask, &cmd(&["cert", "self-sign", &name, "--org", "Acme", "--out", &file("crt")]));
        assert_mode(&d.join(file("crt")), shared, mask);
        ok_under(mask, &cmd(&["cert", "request", &name, "--out", &file("csr")]));
        assert_mode(&d.join(file("csr")), shared, mask);
        ok_under(mask, &cmd(&["cert", "renew", &name, "--out", &file("renewed.crt")]));
        assert_mode(&d.join(file("renewed.crt")), shared, mask);
        ok_under(mask, &cmd(&["keys", "export-public", &name, "--out", &file("pub")]));
        assert_mode(&d.join(file("pub")), shared, mask);
        let mut backup = cmd(&["keys", "backup", &name, "--out", &file("backup.pem")]);
        backup.env("COUNTERSIGN_PASSPHRASE", "correct horse battery staple");
        ok_under(mask, &backup);
        assert_mode(&d.join(file("backup.pem")), 0o600, mask);
        // The same key and certificate sign into a bundle as a file key's do.
        make_app_jar(&d.join(format!("{name}.jar")), "com.acme.app", "1.0", 1000);
        ok_under(mask, &cmd(&["sign", &format!("{name}.jar"), "--key", &name, "--out", &file("dist")]));
        assert_files(&d.join(file("dist")), shared, mask);
    }
}
