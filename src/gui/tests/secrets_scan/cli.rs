//! Every command-line flow, through the real binary on the test's data folder and keychain,
//! each command's stdout and stderr kept for the scan.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::keys::{KeySecrets, key_from_file};
use super::{PASS, Shown, openssl_encrypted_ed25519, s};
use crate::common::keychain::Keychain;
use crate::common::*;

struct Cli<'a> {
    k: &'a Keychain,
    tmp: PathBuf,
    shown: &'a mut Shown,
}

impl Cli<'_> {
    /// Runs the binary on the test's data folder and keychain with TMPDIR in the test's
    /// folder, expecting one of the exit codes `want`; keeps stdout and stderr for the scan.
    fn run(&mut self, flow: &str, args: &[&str], env: &[(&str, &str)], want: &[i32]) -> String {
        let mut cmd = self.k.cmd(&self.k.home(), &self.k.service, args);
        cmd.env("TMPDIR", &self.tmp).envs(env.iter().copied()).stdin(Stdio::null());
        let out = cmd.output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            want.contains(&code),
            "{flow}: countersign {args:?} exited {code}, not {want:?}\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.shown.flows.insert(format!("cli: {flow}"));
        self.shown.commands += 1;
        self.shown.texts.push((format!("stdout of countersign {args:?}"), out.stdout));
        self.shown.texts.push((format!("stderr of countersign {args:?}"), out.stderr));
        stdout
    }

    fn ok(&mut self, flow: &str, args: &[&str]) -> String {
        self.run(flow, args, &[], &[0])
    }

    fn ok_with_pass(&mut self, flow: &str, args: &[&str]) -> String {
        self.run(flow, args, &[("COUNTERSIGN_PASSPHRASE", PASS)], &[0])
    }
}

/// The test's own key files, made by openssl as Atlassian's instructions do, damaged ones,
/// and an app to sign.
struct Inputs {
    plain_ed: PathBuf,
    plain_p384: PathBuf,
    plain_der: PathBuf,
    enc_ed: PathBuf,
    plain_crt: PathBuf,
    ed448_file: PathBuf,
    bad_len_file: PathBuf,
    jar: PathBuf,
}

impl Inputs {
    fn make(inputs: &Path) -> Self {
        let plain_ed = openssl_ed25519_key(inputs, "plain-ed.pem");
        let plain_p384 = inputs.join("plain-p384.pem");
        openssl(
            &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", s(&plain_p384)],
            inputs,
        );
        let plain_der = inputs.join("plain-ed.der");
        openssl(&["pkey", "-in", s(&plain_ed), "-outform", "DER", "-out", s(&plain_der)], inputs);
        let enc_ed = inputs.join("enc-ed.pem");
        openssl_encrypted_ed25519(&enc_ed);
        assert!(std::fs::read_to_string(&enc_ed).unwrap().contains("ENCRYPTED PRIVATE KEY"));
        let plain_crt = openssl_self_signed(inputs, "plain-ed.pem", "plain-ed.crt", "30");
        // Damaged key files that still hold the whole seed: an error message quoting the input
        // would leak it. One claims to be Ed448 (refused by algorithm), one has a bad length.
        let der = std::fs::read(&plain_der).unwrap();
        assert_eq!(&der[9..12], &[0x2b, 0x65, 0x70]);
        let mut ed448 = der.clone();
        ed448[11] = 0x71;
        let ed448_file = inputs.join("ed448-claimed.der");
        std::fs::write(&ed448_file, &ed448).unwrap();
        let mut bad_len = der.clone();
        bad_len[15] = 0x1f;
        let bad_len_file = inputs.join("bad-length.der");
        std::fs::write(&bad_len_file, &bad_len).unwrap();
        let jar = inputs.join("app-1.0.jar");
        make_app_jar(&jar, "com.acme.app", "1.0.0", 20_000);
        Inputs { plain_ed, plain_p384, plain_der, enc_ed, plain_crt, ed448_file, bad_len_file, jar }
    }
}

/// A wrong passphrase, for the refusals.
const BAD_PASS: [(&str, &str); 1] = [("COUNTERSIGN_PASSPHRASE", "not the passphrase")];

/// Every command-line flow. Returns the plaintext key files the test itself made (inputs,
/// excluded from the scan) and the keys made inside Countersign, as read from their backups.
pub(super) fn cli_flows(k: &Keychain, shown: &mut Shown) -> (Vec<PathBuf>, Vec<KeySecrets>) {
    let root = k.path().to_path_buf();
    let inputs = root.join("inputs");
    let out = root.join("out");
    let tmp = root.join("tmp");
    for d in [&inputs, &out, &tmp] {
        std::fs::create_dir_all(d).unwrap();
    }
    let i = Inputs::make(&inputs);
    let mut c = Cli { k, tmp, shown };
    key_commands(&mut c, &i);
    backup_commands(&mut c, &out);
    cert_commands(&mut c, &i, &out);
    sign_commands(&mut c, &i, &out);
    truststore_and_history_commands(&mut c, &out);

    let o = |name: &str| out.join(name);
    let csv = std::fs::read_to_string(o("history.csv")).unwrap();
    assert!(csv.contains("for Globex"), "the flows ran: {csv}");

    let keys = vec![
        key_from_file("cli gen-ed", &o("gen-ed.backup.pem"), Some(PASS)),
        key_from_file("cli gen-p384", &o("gen-p384.backup.pem"), Some(PASS)),
        key_from_file("cli imp-enc (backup)", &o("imp-enc.backup.pem"), Some(PASS)),
        key_from_file("cli imp-plain", &i.plain_ed, None),
        key_from_file("cli imp-p384", &i.plain_p384, None),
    ];
    // The imported encrypted key is the one openssl made: the backup round-trips.
    let from_input = key_from_file("cli imp-enc (input)", &i.enc_ed, Some(PASS));
    assert_eq!(from_input.forms[0].1, keys[2].forms[0].1, "the backup of an imported key holds that key");
    (vec![i.plain_ed, i.plain_p384, i.plain_der, i.ed448_file, i.bad_len_file], keys)
}

/// Keys made and imported (plain, DER, P-384, encrypted), the refusals of bad ones, the list.
fn key_commands(c: &mut Cli, i: &Inputs) {
    let (plain_ed, plain_der, enc_ed) = (&i.plain_ed, &i.plain_der, &i.enc_ed);
    c.ok("keys generate (Ed25519)", &["keys", "generate", "--name", "gen-ed"]);
    c.ok(
        "keys generate (P-384, --json)",
        &["keys", "generate", "--name", "gen-p384", "--algorithm", "p384", "--json"],
    );
    c.ok(
        "keys import (plain PKCS#8 PEM from openssl)",
        &["keys", "import", s(plain_ed), "--name", "imp-plain"],
    );
    // The same key as DER: refused while stored, imported once the PEM import is deleted.
    c.run(
        "keys import (plain PKCS#8 DER, stored already)",
        &["keys", "import", s(plain_der), "--name", "imp-plain-der"],
        &[],
        &[2],
    );
    c.ok("keys delete", &["keys", "delete", "imp-plain", "--yes"]);
    c.ok(
        "keys import (plain PKCS#8 DER from openssl)",
        &["keys", "import", s(plain_der), "--name", "imp-plain"],
    );
    c.ok(
        "keys import (plain P-384 PKCS#8 from openssl)",
        &["keys", "import", s(&i.plain_p384), "--name", "imp-p384"],
    );
    c.ok_with_pass(
        "keys import (encrypted PKCS#8 from openssl)",
        &["keys", "import", s(enc_ed), "--name", "imp-enc"],
    );
    // Refusals: each a sentence, none quoting the key.
    c.run("keys import (wrong passphrase)", &["keys", "import", s(enc_ed), "--name", "x"], &BAD_PASS, &[2]);
    c.run("keys import (no passphrase)", &["keys", "import", s(enc_ed), "--name", "x"], &[], &[2]);
    c.run(
        "keys import (Ed448-labelled key)",
        &["keys", "import", s(&i.ed448_file), "--name", "x"],
        &[],
        &[2],
    );
    c.run("keys import (malformed key)", &["keys", "import", s(&i.bad_len_file), "--name", "x"], &[], &[2]);
    c.run("keys import (name taken)", &["keys", "import", s(plain_ed), "--name", "gen-ed"], &[], &[2]);
    c.ok("keys list", &["keys", "list"]);
    c.ok("keys list --json", &["keys", "list", "--json"]);
}

/// Backups (and their refusals), a restore, a rename, the public key exported.
fn backup_commands(c: &mut Cli, out: &Path) {
    let o = |name: &str| out.join(name);
    for name in ["gen-ed", "gen-p384", "imp-enc"] {
        c.ok_with_pass(
            "keys backup",
            &["keys", "backup", name, "--out", s(&o(&format!("{name}.backup.pem")))],
        );
    }
    c.run(
        "keys backup (short passphrase)",
        &["keys", "backup", "gen-ed", "--out", s(&o("short.pem"))],
        &[("COUNTERSIGN_PASSPHRASE", "short")],
        &[2],
    );
    c.run(
        "keys backup (no passphrase)",
        &["keys", "backup", "gen-ed", "--out", s(&o("none.pem"))],
        &[],
        &[2],
    );
    c.run(
        "keys restore (stored already)",
        &["keys", "restore", s(&o("gen-ed.backup.pem")), "--name", "x"],
        &[("COUNTERSIGN_PASSPHRASE", PASS)],
        &[2],
    );
    c.ok("keys delete", &["keys", "delete", "imp-enc", "--yes"]);
    c.ok_with_pass("keys restore", &["keys", "restore", s(&o("imp-enc.backup.pem")), "--name", "restored"]);
    c.run(
        "keys restore (wrong passphrase)",
        &["keys", "restore", s(&o("gen-ed.backup.pem")), "--name", "x"],
        &BAD_PASS,
        &[2],
    );
    c.ok("keys rename", &["keys", "rename", "restored", "restored-2"]);
    c.ok("keys export-public (file)", &["keys", "export-public", "gen-ed", "--out", s(&o("gen-ed.pub"))]);
    c.ok("keys export-public (stdout)", &["keys", "export-public", "gen-p384"]);
}

/// Certificates: self-signed, requested, imported (and refused for another key), renewed, shown.
fn cert_commands(c: &mut Cli, i: &Inputs, out: &Path) {
    let o = |name: &str| out.join(name);
    c.ok(
        "cert self-sign",
        &["cert", "self-sign", "gen-ed", "--org", "Acme Ltd", "--out", s(&o("gen-ed.crt"))],
    );
    c.ok("cert self-sign", &["cert", "self-sign", "gen-p384", "--org", "Acme Ltd"]);
    c.ok("cert request", &["cert", "request", "gen-ed", "--org", "Acme Ltd", "--out", s(&o("gen-ed.csr"))]);
    c.ok("cert request", &["cert", "request", "gen-p384", "--out", s(&o("gen-p384.csr"))]);
    c.ok("cert import", &["cert", "import", "imp-plain", s(&i.plain_crt)]);
    c.run(
        "cert import (another key's certificate)",
        &["cert", "import", "gen-ed", s(&i.plain_crt)],
        &[],
        &[2],
    );
    c.ok("cert renew", &["cert", "renew", "gen-ed", "--out", s(&o("gen-ed-renewed.crt"))]);
    c.ok("cert show", &["cert", "show", "gen-ed", "--json"]);
    c.ok("cert show", &["cert", "show", "gen-ed", "--pem"]);
}

/// Signing with stored keys and key files (and refusals), verifying, inspecting.
fn sign_commands(c: &mut Cli, i: &Inputs, out: &Path) {
    let o = |name: &str| out.join(name);
    let jar_s = s(&i.jar);
    for d in ["stored", "p384", "keyfile", "keyfile-enc", "x"] {
        std::fs::create_dir_all(o(d)).unwrap();
    }
    c.ok(
        "sign (stored key, --zip)",
        &["sign", jar_s, "--key", "gen-ed", "--out", s(&o("stored")), "--zip", "--note", "for Globex"],
    );
    c.ok(
        "sign (stored P-384 key, --json)",
        &["sign", jar_s, "--key", "gen-p384", "--out", s(&o("p384")), "--json"],
    );
    c.ok(
        "sign (--key-file, --zip)",
        &[
            "sign",
            jar_s,
            "--key-file",
            s(&i.plain_ed),
            "--cert",
            s(&i.plain_crt),
            "--out",
            s(&o("keyfile")),
            "--zip",
        ],
    );
    c.ok_with_pass(
        "sign (--key-file, encrypted, --json)",
        &["sign", jar_s, "--key-file", s(&i.enc_ed), "--out", s(&o("keyfile-enc")), "--json"],
    );
    c.run(
        "sign (--key-file, wrong passphrase, --json)",
        &["sign", jar_s, "--key-file", s(&i.enc_ed), "--out", s(&o("x")), "--json"],
        &BAD_PASS,
        &[2],
    );
    c.run(
        "sign (--key-file, malformed, --json)",
        &["sign", jar_s, "--key-file", s(&i.bad_len_file), "--out", s(&o("x")), "--json"],
        &[],
        &[2],
    );
    c.ok(
        "verify (--sig --cert, stored key's bundle)",
        &["verify", jar_s, "--sig", s(&o("stored/app-1.0.jar.sig")), "--cert", s(&o("gen-ed-renewed.crt"))],
    );
    c.ok("verify (zip, --json)", &["verify", s(&o("stored/app-1.0-signed.zip")), "--json"]);
    c.ok(
        "verify (--sig --cert)",
        &["verify", jar_s, "--sig", s(&o("keyfile/app-1.0.jar.sig")), "--cert", s(&i.plain_crt)],
    );
    c.ok("inspect", &["inspect", jar_s, "--json"]);
}

/// Trust-store packages (folder and zip) and their check; the history, printed and exported.
fn truststore_and_history_commands(c: &mut Cli, out: &Path) {
    let o = |name: &str| out.join(name);
    c.ok(
        "truststore package (folder)",
        &["truststore", "package", "--cert", "gen-ed", "--out", s(&o("truststore"))],
    );
    c.ok(
        "truststore package (zip)",
        &[
            "truststore",
            "package",
            "--cert",
            "gen-ed",
            "--out",
            s(&o("truststore.zip")),
            "--include-atlassian-cas",
        ],
    );
    let store_dir = listing(&o("truststore"))
        .into_iter()
        .find(|f| f.ends_with(".crt"))
        .map(|f| o("truststore").join(f))
        .unwrap();
    c.run(
        "truststore check",
        &["truststore", "check", s(store_dir.parent().unwrap()), "--json"],
        &[],
        &[0, 1],
    );

    c.ok("history", &["history"]);
    c.ok("history --json", &["history", "--json"]);
    c.ok("history --csv", &["history", "globex", "--csv", s(&o("history.csv"))]);
    c.ok("keys delete", &["keys", "delete", "restored-2", "--yes"]);
}
