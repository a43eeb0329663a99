//! Secret hygiene: after every user flow, through the real binary and through the window,
//! no private key may be found anywhere the app writes or shows things: the data folder
//! (keys.json, history.jsonl, anything else), the output folders (bundles, zips and what is
//! inside them), the temporary folder, every command's stdout and stderr, and the window's
//! accessibility tree and clipboard. The keys are known because the test made them with
//! openssl, or decrypted the encrypted backup the user asked for; the scan looks for them in
//! every encoding a leak could take (raw, hex, Base64 in all alignments, PKCS#8 and SEC1 DER,
//! PEM bodies, JSON-escaped and line-wrapped text, the Ed25519 expanded secret).
//!
//! A scan that cannot find anything would pass vacuously, so the scanner is first shown to
//! find each key in the test's own plaintext key files, and in synthetic leaks of each
//! encoding.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::harness::Window;
use crate::common::keychain::Keychain;
use crate::common::*;
use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use countersign::keys::{Algorithm, KeyError, PrivateKey};
use countersign::keystore::{KeyStore, KeyStoreError, Secrets};
use sha2::{Digest, Sha512};

const PASS: &str = "correct horse battery staple";

// ---------------------------------------------------------------------------------------
// What a key looks like, in every form a leak could take.

/// One byte string to look for, and what it is (for the failure message).
struct Needle {
    what: String,
    bytes: Vec<u8>,
}

/// The secret byte strings of one private key.
struct KeySecrets {
    name: String,
    /// (what, bytes): the raw seed or scalar, DER forms, derived secrets.
    forms: Vec<(String, Vec<u8>)>,
}

fn upper_hex(b: &[u8]) -> String {
    countersign::hex::lower(b).to_uppercase()
}

/// Big-endian bytes as a decimal number (how a scalar might be printed by a bignum's Display).
fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && *digits.last().unwrap() == 0 {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The Base64 characters that encode `secret` whatever bytes surround it, when it starts at
/// byte `align` (0, 1 or 2) of a 3-byte group: a leak inside a longer Base64 text (a PEM body,
/// a JSON field) shows exactly these.
fn base64_core(secret: &[u8], align: usize, url: bool) -> String {
    let mut padded = vec![0u8; align];
    padded.extend_from_slice(secret);
    let text =
        if url { Base64UrlUnpadded::encode_string(&padded) } else { Base64Unpadded::encode_string(&padded) };
    let first = (8 * align).div_ceil(6);
    let last = (8 * (align + secret.len())) / 6; // exclusive
    text[first..last].to_owned()
}

impl KeySecrets {
    fn from_pkcs8(name: &str, pkcs8_der_from_openssl: &[u8], sec1_der_from_openssl: Option<&[u8]>) -> Self {
        let key = PrivateKey::from_pkcs8_der(pkcs8_der_from_openssl, name).unwrap();
        let ours = key.to_pkcs8_der().unwrap().to_vec();
        let mut forms = vec![
            ("PKCS#8 DER (openssl's)".to_owned(), pkcs8_der_from_openssl.to_vec()),
            ("PKCS#8 DER (Countersign's)".to_owned(), ours),
        ];
        match &key {
            PrivateKey::Ed25519(k) => {
                let seed = k.to_bytes().to_vec();
                assert!(
                    pkcs8_der_from_openssl.ends_with(&seed),
                    "{name}: openssl's PKCS#8 does not end with the seed Countersign read from it"
                );
                let h = Sha512::digest(&seed);
                let mut clamped = h[..32].to_vec();
                clamped[0] &= 248;
                clamped[31] &= 127;
                clamped[31] |= 64;
                let mut keypair = seed.clone();
                keypair.extend_from_slice(k.verifying_key().as_bytes());
                forms.push(("Ed25519 seed".into(), seed));
                forms.push(("Ed25519 expanded secret (SHA-512 of the seed)".into(), h.to_vec()));
                forms.push(("Ed25519 secret scalar (clamped)".into(), clamped));
                forms.push(("Ed25519 secret scalar (unclamped)".into(), h[..32].to_vec()));
                forms.push(("Ed25519 nonce prefix".into(), h[32..].to_vec()));
                forms.push(("Ed25519 seed||public key".into(), keypair));
            }
            PrivateKey::EcdsaP384(k) => {
                let scalar = k.to_bytes().to_vec();
                assert_eq!(scalar.len(), 48);
                assert!(
                    pkcs8_der_from_openssl.windows(48).any(|w| w == scalar.as_slice()),
                    "{name}: openssl's PKCS#8 does not hold the scalar Countersign read from it"
                );
                let mut reversed = scalar.clone();
                reversed.reverse();
                forms.push(("P-384 scalar".into(), scalar));
                forms.push(("P-384 scalar, little-endian".into(), reversed));
                if let Some(sec1) = sec1_der_from_openssl {
                    forms.push(("SEC1 EC PRIVATE KEY DER (openssl's)".into(), sec1.to_vec()));
                }
            }
        }
        KeySecrets { name: name.to_owned(), forms }
    }

    fn needles(&self) -> Vec<Needle> {
        let mut out = Vec::new();
        let mut push =
            |what: String, bytes: Vec<u8>| out.push(Needle { what: format!("{}: {what}", self.name), bytes });
        for (form, bytes) in &self.forms {
            push(format!("{form}, raw"), bytes.clone());
            push(format!("{form}, hex"), countersign::hex::lower(bytes).into_bytes());
            push(format!("{form}, HEX"), upper_hex(bytes).into_bytes());
            push(format!("{form}, Base64"), Base64::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64 unpadded"), Base64Unpadded::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64url"), Base64Url::encode_string(bytes).into_bytes());
            push(format!("{form}, Base64url unpadded"), Base64UrlUnpadded::encode_string(bytes).into_bytes());
            for align in 0..3 {
                push(
                    format!("{form}, Base64 at alignment {align}"),
                    base64_core(bytes, align, false).into_bytes(),
                );
                push(
                    format!("{form}, Base64url at alignment {align}"),
                    base64_core(bytes, align, true).into_bytes(),
                );
            }
            if bytes.len() <= 64 {
                push(format!("{form}, decimal"), decimal(bytes).into_bytes());
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// The scanner.

/// Looks for many needles at once: candidates by their first 8 bytes, then compared whole.
struct Scanner {
    needles: Vec<Needle>,
    by_prefix: HashMap<[u8; 8], Vec<usize>>,
    files: usize,
    zip_members: usize,
    texts: usize,
    bytes: u64,
    leaks: Vec<String>,
}

/// Markers of a plaintext private key in any PEM, whoever's key it is.
const PLAIN_PEM_MARKERS: [&str; 3] =
    ["-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----"];

impl Scanner {
    fn new(keys: &[KeySecrets]) -> Self {
        let mut needles: Vec<Needle> = keys.iter().flat_map(KeySecrets::needles).collect();
        let mut seen = BTreeSet::new();
        needles.retain(|n| seen.insert(n.bytes.clone()));
        let mut by_prefix: HashMap<[u8; 8], Vec<usize>> = HashMap::new();
        for (i, n) in needles.iter().enumerate() {
            assert!(n.bytes.len() >= 16, "{} is too short to look for without false alarms", n.what);
            by_prefix.entry(n.bytes[..8].try_into().unwrap()).or_default().push(i);
        }
        Scanner { needles, by_prefix, files: 0, zip_members: 0, texts: 0, bytes: 0, leaks: Vec::new() }
    }

    /// What of the needles `hay` holds, as it is and with the text folded: whitespace, JSON and
    /// C escapes of line breaks and the colons of `openssl -text` hex removed (a wrapped PEM
    /// body, a PEM inside a JSON string, `9d:61:b1:…`).
    fn hits(&self, hay: &[u8]) -> Vec<String> {
        let mut found = BTreeSet::new();
        let folded = fold(hay);
        for view in [hay, folded.as_slice()] {
            if view.len() < 8 {
                continue;
            }
            for start in 0..=view.len() - 8 {
                let Some(candidates) = self.by_prefix.get(&view[start..start + 8]) else { continue };
                for &i in candidates {
                    if view[start..].starts_with(&self.needles[i].bytes) {
                        found.insert(self.needles[i].what.clone());
                    }
                }
            }
        }
        if let Ok(text) = std::str::from_utf8(hay) {
            for m in PLAIN_PEM_MARKERS {
                if text.contains(m) {
                    found.insert(format!("a plaintext PEM private key ({m})"));
                }
            }
        }
        found.into_iter().collect()
    }

    fn scan_text(&mut self, label: &str, text: &[u8]) {
        self.texts += 1;
        self.scan_bytes(label, text);
    }

    fn scan_bytes(&mut self, label: &str, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        for hit in self.hits(bytes) {
            self.leaks.push(format!("{label}: {hit}"));
        }
        if bytes.starts_with(b"PK\x03\x04") {
            self.scan_zip(label, bytes);
        }
    }

    /// Every member of a zip (a -signed.zip, the jar in it, a trust-store zip), decompressed.
    fn scan_zip(&mut self, label: &str, bytes: &[u8]) {
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                self.leaks
                    .push(format!("{label}: starts like a zip but could not be opened to scan inside ({e})"));
                return;
            }
        };
        for i in 0..archive.len() {
            let mut member = archive.by_index(i).unwrap();
            let name = format!("{label}!{}", String::from_utf8_lossy(member.name_raw()));
            let mut content = Vec::new();
            member.by_ref().take(256 << 20).read_to_end(&mut content).unwrap();
            drop(member);
            self.zip_members += 1;
            self.scan_bytes(&format!("{name} (name)"), name.as_bytes());
            self.scan_bytes(&name, &content);
        }
    }

    /// Every file below `dir` (and its name), except the test's own plaintext key files.
    fn scan_tree(&mut self, dir: &Path, except: &[PathBuf]) {
        // The window's tests share this process and its temporary folder (inside the scanned
        // tree): a file another test removes between listing and reading is gone, not a leak.
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(list) => list.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) if gone(&e) => return,
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        entries.sort();
        for p in entries {
            if except.contains(&p) {
                continue;
            }
            let label = p.display().to_string();
            self.scan_bytes(&format!("{label} (name)"), label.as_bytes());
            let meta = match std::fs::symlink_metadata(&p) {
                Ok(meta) => meta,
                Err(e) if gone(&e) => continue,
                Err(e) => panic!("cannot read {label}: {e}"),
            };
            if meta.is_dir() {
                self.scan_tree(&p, except);
            } else if meta.is_file() {
                let bytes = match std::fs::read(&p) {
                    Ok(bytes) => bytes,
                    Err(e) if gone(&e) => continue,
                    Err(e) => panic!("cannot read {label}: {e}"),
                };
                self.files += 1;
                self.scan_bytes(&label, &bytes);
            }
        }
    }
}

fn fold(hay: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        let b = hay[i];
        if b == b'\\' && matches!(hay.get(i + 1), Some(b'n' | b'r' | b't')) {
            i += 2;
            continue;
        }
        if !(b.is_ascii_whitespace() || b == b':') {
            out.push(b);
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Getting the keys, with openssl, without writing plaintext keys anywhere the scan looks.

fn openssl_stdin(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The key in a key file (plain, encrypted or a backup), as openssl reads it.
fn key_from_file(name: &str, file: &Path, passphrase: Option<&str>) -> KeySecrets {
    let pass_arg = format!("pass:{}", passphrase.unwrap_or(""));
    // `pkcs8 -topk8 -nocrypt`, not `pkey`: for EC keys `pkey -outform DER` writes SEC1.
    let mut args = vec!["pkcs8", "-topk8", "-nocrypt", "-in", file.to_str().unwrap(), "-outform", "DER"];
    if passphrase.is_some() {
        args.extend(["-passin", &pass_arg]);
    }
    let pkcs8 = openssl(&args, Path::new("."));
    let is_ec = PrivateKey::from_pkcs8_der(&pkcs8, name).unwrap().algorithm() == Algorithm::EcdsaP384;
    let sec1 = is_ec.then(|| openssl_stdin(&["ec", "-inform", "DER", "-outform", "DER"], &pkcs8));
    KeySecrets::from_pkcs8(name, &pkcs8, sec1.as_deref())
}

// ---------------------------------------------------------------------------------------
// Running the flows and keeping everything they showed.

#[derive(Default)]
struct Shown {
    /// (label, bytes): stdout and stderr of every command, the window's text and clipboard.
    texts: Vec<(String, Vec<u8>)>,
    flows: BTreeSet<String>,
    commands: usize,
}

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

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every command-line flow. Returns the plaintext key files the test itself made (inputs,
/// excluded from the scan) and the keys made inside Countersign, as read from their backups.
fn cli_flows(k: &Keychain, shown: &mut Shown) -> (Vec<PathBuf>, Vec<KeySecrets>) {
    let root = k.path().to_path_buf();
    let inputs = root.join("inputs");
    let out = root.join("out");
    let tmp = root.join("tmp");
    for d in [&inputs, &out, &tmp] {
        std::fs::create_dir_all(d).unwrap();
    }
    // The test's own key files, made by openssl as Atlassian's instructions do.
    let plain_ed = openssl_ed25519_key(&inputs, "plain-ed.pem");
    let plain_p384 = inputs.join("plain-p384.pem");
    openssl(
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", s(&plain_p384)],
        &inputs,
    );
    let plain_der = inputs.join("plain-ed.der");
    openssl(&["pkey", "-in", s(&plain_ed), "-outform", "DER", "-out", s(&plain_der)], &inputs);
    let enc_ed = inputs.join("enc-ed.pem");
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            &format!("pass:{PASS}"),
            "-out",
            s(&enc_ed),
        ],
        &inputs,
    );
    assert!(std::fs::read_to_string(&enc_ed).unwrap().contains("ENCRYPTED PRIVATE KEY"));
    let plain_crt = openssl_self_signed(&inputs, "plain-ed.pem", "plain-ed.crt", "30");
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

    let mut c = Cli { k, tmp, shown };
    let o = |name: &str| out.join(name);

    c.ok("keys generate (Ed25519)", &["keys", "generate", "--name", "gen-ed"]);
    c.ok(
        "keys generate (P-384, --json)",
        &["keys", "generate", "--name", "gen-p384", "--algorithm", "p384", "--json"],
    );
    c.ok(
        "keys import (plain PKCS#8 PEM from openssl)",
        &["keys", "import", s(&plain_ed), "--name", "imp-plain"],
    );
    // The same key as DER: refused while stored, imported once the PEM import is deleted.
    c.run(
        "keys import (plain PKCS#8 DER, stored already)",
        &["keys", "import", s(&plain_der), "--name", "imp-plain-der"],
        &[],
        &[2],
    );
    c.ok("keys delete", &["keys", "delete", "imp-plain", "--yes"]);
    c.ok(
        "keys import (plain PKCS#8 DER from openssl)",
        &["keys", "import", s(&plain_der), "--name", "imp-plain"],
    );
    c.ok(
        "keys import (plain P-384 PKCS#8 from openssl)",
        &["keys", "import", s(&plain_p384), "--name", "imp-p384"],
    );
    c.ok_with_pass(
        "keys import (encrypted PKCS#8 from openssl)",
        &["keys", "import", s(&enc_ed), "--name", "imp-enc"],
    );
    // Refusals: each a sentence, none quoting the key.
    let bad_pass = [("COUNTERSIGN_PASSPHRASE", "not the passphrase")];
    c.run("keys import (wrong passphrase)", &["keys", "import", s(&enc_ed), "--name", "x"], &bad_pass, &[2]);
    c.run("keys import (no passphrase)", &["keys", "import", s(&enc_ed), "--name", "x"], &[], &[2]);
    c.run("keys import (Ed448-labelled key)", &["keys", "import", s(&ed448_file), "--name", "x"], &[], &[2]);
    c.run("keys import (malformed key)", &["keys", "import", s(&bad_len_file), "--name", "x"], &[], &[2]);
    c.run("keys import (name taken)", &["keys", "import", s(&plain_ed), "--name", "gen-ed"], &[], &[2]);
    c.ok("keys list", &["keys", "list"]);
    c.ok("keys list --json", &["keys", "list", "--json"]);

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
        &bad_pass,
        &[2],
    );
    c.ok("keys rename", &["keys", "rename", "restored", "restored-2"]);
    c.ok("keys export-public (file)", &["keys", "export-public", "gen-ed", "--out", s(&o("gen-ed.pub"))]);
    c.ok("keys export-public (stdout)", &["keys", "export-public", "gen-p384"]);

    c.ok(
        "cert self-sign",
        &["cert", "self-sign", "gen-ed", "--org", "Acme Ltd", "--out", s(&o("gen-ed.crt"))],
    );
    c.ok("cert self-sign", &["cert", "self-sign", "gen-p384", "--org", "Acme Ltd"]);
    c.ok("cert request", &["cert", "request", "gen-ed", "--org", "Acme Ltd", "--out", s(&o("gen-ed.csr"))]);
    c.ok("cert request", &["cert", "request", "gen-p384", "--out", s(&o("gen-p384.csr"))]);
    c.ok("cert import", &["cert", "import", "imp-plain", s(&plain_crt)]);
    c.run("cert import (another key's certificate)", &["cert", "import", "gen-ed", s(&plain_crt)], &[], &[2]);
    c.ok("cert renew", &["cert", "renew", "gen-ed", "--out", s(&o("gen-ed-renewed.crt"))]);
    c.ok("cert show", &["cert", "show", "gen-ed", "--json"]);
    c.ok("cert show", &["cert", "show", "gen-ed", "--pem"]);

    let jar_s = s(&jar);
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
            s(&plain_ed),
            "--cert",
            s(&plain_crt),
            "--out",
            s(&o("keyfile")),
            "--zip",
        ],
    );
    c.ok_with_pass(
        "sign (--key-file, encrypted, --json)",
        &["sign", jar_s, "--key-file", s(&enc_ed), "--out", s(&o("keyfile-enc")), "--json"],
    );
    c.run(
        "sign (--key-file, wrong passphrase, --json)",
        &["sign", jar_s, "--key-file", s(&enc_ed), "--out", s(&o("x")), "--json"],
        &bad_pass,
        &[2],
    );
    c.run(
        "sign (--key-file, malformed, --json)",
        &["sign", jar_s, "--key-file", s(&bad_len_file), "--out", s(&o("x")), "--json"],
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
        &["verify", jar_s, "--sig", s(&o("keyfile/app-1.0.jar.sig")), "--cert", s(&plain_crt)],
    );
    c.ok("inspect", &["inspect", jar_s, "--json"]);

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

    let csv = std::fs::read_to_string(o("history.csv")).unwrap();
    assert!(csv.contains("for Globex"), "the flows ran: {csv}");

    let keys = vec![
        key_from_file("cli gen-ed", &o("gen-ed.backup.pem"), Some(PASS)),
        key_from_file("cli gen-p384", &o("gen-p384.backup.pem"), Some(PASS)),
        key_from_file("cli imp-enc (backup)", &o("imp-enc.backup.pem"), Some(PASS)),
        key_from_file("cli imp-plain", &plain_ed, None),
        key_from_file("cli imp-p384", &plain_p384, None),
    ];
    // The imported encrypted key is the one openssl made: the backup round-trips.
    let from_input = key_from_file("cli imp-enc (input)", &enc_ed, Some(PASS));
    assert_eq!(from_input.forms[0].1, keys[2].forms[0].1, "the backup of an imported key holds that key");
    (vec![plain_ed, plain_p384, plain_der, ed448_file, bad_len_file], keys)
}

// ---------------------------------------------------------------------------------------
// The window.

struct WindowLog<'a> {
    w: Window,
    shown: &'a mut Shown,
    step: usize,
}

impl WindowLog<'_> {
    /// Keeps everything the window now exposes: labels, values and descriptions of every
    /// accessibility node (what a screen reader, or a screenshot, would get).
    fn snapshot(&mut self, after: &str) {
        fn walk(n: egui_kittest::Node<'_>, out: &mut String) {
            use egui_kittest::kittest::NodeT as _;
            let a = n.accesskit_node();
            for t in [a.label(), a.value(), a.description()].into_iter().flatten() {
                out.push_str(&t);
                out.push('\n');
            }
            for c in n.children() {
                walk(c, out);
            }
        }
        let mut text = String::new();
        walk(self.w.harness.root(), &mut text);
        self.step += 1;
        self.shown.texts.push((
            format!("window accessibility tree after step {} ({after})", self.step),
            text.into_bytes(),
        ));
    }

    fn click(&mut self, flow: &str, label: &str) {
        let copied = self.w.click_and_copy(label);
        for c in copied {
            self.shown.texts.push((format!("window clipboard after clicking {label:?}"), c.into_bytes()));
        }
        self.shown.flows.insert(format!("window: {flow}"));
        self.snapshot(&format!("clicked {label:?}"));
    }

    fn type_into(&mut self, label: &str, text: &str) {
        self.w.type_into(label, text);
        self.snapshot(&format!("typed into {label:?}"));
    }

    fn copied_count(&self) -> usize {
        self.shown.texts.iter().filter(|(l, _)| l.starts_with("window clipboard")).count()
    }
}

/// The window's first run, signing, history, backup and import. Returns its plaintext input
/// key files and its keys.
fn window_flows(k: &Keychain, shown: &mut Shown) -> (Vec<PathBuf>, Vec<KeySecrets>) {
    let inputs = k.path().join("inputs");
    let jars = k.path().join("jars");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::create_dir_all(&jars).unwrap();
    let enc = inputs.join("window-enc.pem");
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            &format!("pass:{PASS}"),
            "-out",
            s(&enc),
        ],
        &inputs,
    );
    let jar = jars.join("acme-app-1.2.jar");
    make_app_jar(&jar, "com.acme.app", "1.2.0", 20_000);

    let mut l = WindowLog { w: Window::open(k), shown, step: 0 };
    l.snapshot("opened");
    l.w.expect("Welcome to Countersign");
    l.type_into("Organisation", "Acme Software");
    l.type_into("Your name or team", "Acme Support");
    l.click("first run", "Create signing key and certificate");
    l.w.expect("is in the system keychain");
    l.click("first run", "Copy path");
    l.click("first run", "Start signing");

    l.w.drop_files(&[&jar]);
    l.snapshot("dropped the jar");
    l.type_into("Note", "ACME-42 for Globex");
    l.click("sign", "Sign 1 file");
    l.w.expect("Signed.");
    l.click("sign", "Copy signature");
    l.click("sign", "Verify bundle");
    l.w.expect("is good: UPM will accept it once");

    l.click("history", "History");
    let csv = k.path().join("window-history.csv");
    l.w.desktop.answer(Some(&csv));
    l.click("history", "Export CSV…");
    assert!(std::fs::read_to_string(&csv).unwrap().contains("ACME-42 for Globex"));

    l.click("backup", "Keys");
    l.click("backup", "Copy public key");
    l.type_into("Backup passphrase", PASS);
    l.type_into("Repeat passphrase", PASS);
    let backup = k.path().join("window-backup.pem");
    l.w.desktop.answer(Some(&backup));
    l.click("backup", "Save backup…");
    l.w.expect("Backup written to");

    l.click("import (encrypted)", "Import key…");
    l.type_into("Key file", s(&enc));
    l.type_into("Name for the key", "window-imported");
    l.type_into("Passphrase (if encrypted)", PASS);
    l.click("import (encrypted)", "Import key");
    l.w.expect("Imported Ed25519 key \"window-imported\"");
    assert!(l.copied_count() >= 3, "the copy buttons put something on the clipboard");
    drop(l);

    let keys = vec![
        key_from_file("window first-run key", &backup, Some(PASS)),
        key_from_file("window imported key", &enc, Some(PASS)),
    ];
    (vec![], keys)
}

// ---------------------------------------------------------------------------------------

#[test]
fn no_flow_leaves_a_private_key_in_files_output_or_the_window() {
    require!(openssl);
    let _alone = crate::common::keychain::alone();
    let Some(cli_k) = Keychain::system() else { return };
    let Some(win_k) = Keychain::system() else { return };
    // The window runs in this process: its temporary files go to a folder of the test's.
    let win_tmp = win_k.path().join("tmp");
    std::fs::create_dir_all(&win_tmp).unwrap();
    tempfile::env::override_temp_dir(&win_tmp).expect("nothing else set the temporary folder");

    let mut shown = Shown::default();
    let (mut except, mut keys) = cli_flows(&cli_k, &mut shown);
    let (win_except, win_keys) = window_flows(&win_k, &mut shown);
    except.extend(win_except);
    keys.extend(win_keys);

    let mut scanner = Scanner::new(&keys);

    // The scan can fail: it finds each key in the test's own plaintext key files.
    for f in &except {
        let hits = scanner.hits(&std::fs::read(f).unwrap());
        assert!(!hits.is_empty(), "the scanner finds nothing in the plaintext key file {}", f.display());
    }
    for k in &keys {
        let der = &k.forms[0].1;
        let pem = countersign::pem::encode("PRIVATE KEY", der);
        let json = serde_json::to_string(&serde_json::json!({ "secret": pem })).unwrap();
        let b64 = Base64Url::encode_string(&[b"xy".as_slice(), der, b"z"].concat());
        let hex_colons = countersign::hex::lower(&k.forms[2].1)
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        for (what, hay) in [
            ("JSON-escaped PEM", json.into_bytes()),
            ("misaligned Base64url", b64.into_bytes()),
            ("colon hex", hex_colons.into_bytes()),
        ] {
            assert!(!scanner.hits(&hay).is_empty(), "the scanner misses {what} of {}", k.name);
        }
    }

    for root in [cli_k.path(), win_k.path()] {
        scanner.scan_tree(root, &except);
    }
    let texts = std::mem::take(&mut shown.texts);
    for (label, bytes) in &texts {
        scanner.scan_text(label, bytes);
    }

    eprintln!("secret scan coverage:");
    eprintln!(
        "  flows ({}): {}",
        shown.flows.len(),
        shown.flows.iter().cloned().collect::<Vec<_>>().join("; ")
    );
    eprintln!(
        "  {} commands run; {} keys looked for in {} encodings",
        shown.commands,
        keys.len(),
        scanner.needles.len()
    );
    eprintln!(
        "  {} files and {} zip members scanned, {} outputs (stdout, stderr, accessibility trees, clipboard), {} bytes in all",
        scanner.files, scanner.zip_members, scanner.texts, scanner.bytes
    );
    assert!(
        scanner.files >= 30 && scanner.zip_members >= 10 && shown.commands >= 40,
        "the flows wrote and printed what they should"
    );
    assert!(scanner.leaks.is_empty(), "private key material found:\n{}", scanner.leaks.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Debug and error text, through the public API.

fn secrets_of(key: &PrivateKey) -> KeySecrets {
    let der = key.to_pkcs8_der().unwrap();
    KeySecrets::from_pkcs8("key", &der, None)
}

#[track_caller]
fn assert_clean(scanner: &Scanner, what: &str, text: &str) {
    let hits = scanner.hits(text.as_bytes());
    assert!(hits.is_empty(), "{what} shows key material ({hits:?}):\n{text}");
}

#[test]
fn debug_and_error_text_never_show_key_bytes() {
    for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let scanner = Scanner::new(&[secrets_of(&key)]);
        // The scanner sees the key where it is.
        assert!(!scanner.hits(key.to_pkcs8_pem().unwrap().as_bytes()).is_empty());
        assert!(!scanner.hits(&key.to_pkcs8_der().unwrap()).is_empty());

        assert_clean(&scanner, "PrivateKey {:?}", &format!("{key:?}"));
        assert_clean(&scanner, "PrivateKey {:#?}", &format!("{key:#?}"));
        assert_clean(&scanner, "Some(PrivateKey)", &format!("{:?}", Some(&key)));

        // A store holding the key (in an in-memory keychain), its records and its load result.
        let dir = tempdir();
        let store =
            KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-debug-test").unwrap());
        let record = store.add("k", &key).unwrap();
        assert_clean(&scanner, "KeyStore", &format!("{store:?} {store:#?}"));
        assert_clean(&scanner, "KeyRecord", &format!("{record:?}"));
        let loaded = store.load("k");
        assert_clean(&scanner, "KeyStore::load", &format!("{loaded:?} {loaded:#?}"));
        assert_eq!(loaded.unwrap().1.public_key(), key.public_key());

        // Errors from the key store, with this key in the keychain.
        let errors: Vec<KeyStoreError> = vec![
            store.add("k", &key).unwrap_err(),
            store.load("nobody").unwrap_err(),
            store.add("", &key).unwrap_err(),
            store.add_certificate("k", &[]).unwrap_err(),
        ];
        for e in &errors {
            assert_clean(&scanner, "KeyStoreError", &format!("{e:?} {e:#?} {e}"));
        }

        // Errors reading damaged and encrypted forms of this key: the input holds the key, the
        // error must not repeat it.
        let der = key.to_pkcs8_der().unwrap().to_vec();
        let pem = key.to_pkcs8_pem().unwrap();
        let encrypted = key.to_encrypted_pem(PASS).unwrap();
        let mut damaged = vec![];
        let mut truncated_der = der.clone();
        truncated_der.pop();
        damaged.push(truncated_der);
        let mut extended = der.clone();
        extended.push(0);
        damaged.push(extended);
        let mut wrong_oid = der.clone();
        let oid_at = wrong_oid
            .windows(3)
            .position(|w| w == [0x2b, 0x65, 0x70] || w == [0x2b, 0x81, 0x04])
            .unwrap_or(0);
        wrong_oid[oid_at + 2] ^= 0x01;
        damaged.push(wrong_oid);
        let mut bad_pem = pem.as_bytes().to_vec();
        let body_end = bad_pem.len() - "-----END PRIVATE KEY-----\n".len() - 2;
        bad_pem[body_end] = b'!';
        damaged.push(bad_pem);
        damaged.push(pem.replace("PRIVATE KEY", "RSA PRIVATE KEY").into_bytes());
        damaged.push(pem.replace("PRIVATE KEY", "PUBLIC KEY").into_bytes());
        let mut errors: Vec<KeyError> = Vec::new();
        for bytes in &damaged {
            if let Err(e) =
                PrivateKey::from_file_bytes(bytes, "damaged.pem", || Ok(zeroize::Zeroizing::new(PASS.into())))
            {
                errors.push(e);
            }
        }
        errors.push(
            PrivateKey::from_file_bytes(encrypted.as_bytes(), "b.pem", || {
                Ok(zeroize::Zeroizing::new("wrong horse".into()))
            })
            .unwrap_err(),
        );
        errors.push(
            PrivateKey::from_file_bytes(encrypted.as_bytes(), "b.pem", || {
                Err(KeyError::NoPassphrase { source_name: "b.pem".into() })
            })
            .unwrap_err(),
        );
        errors.push(key.to_encrypted_pem("short").unwrap_err());
        assert!(errors.len() >= 8, "the damaged forms were refused: {errors:?}");
        for e in &errors {
            assert_clean(&scanner, "KeyError", &format!("{e:?} {e:#?} {e}"));
            let wrapped =
                KeyStoreError::from(KeyError::Malformed { source_name: "x".into(), detail: e.to_string() });
            assert_clean(&scanner, "KeyStoreError::Key", &format!("{wrapped:?} {wrapped}"));
        }
    }
}

/// The window's own state is not printable, but its key rows are: no key bytes in them.
#[test]
fn the_windows_key_rows_debug_without_key_bytes() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let scanner = Scanner::new(&[secrets_of(&key)]);
    let dir = tempdir();
    let store = KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-debug-rows").unwrap());
    store.add("k", &key).unwrap();
    let row: crate::gui::KeyRow = store.overview_of(store.get("k").unwrap());
    assert_clean(&scanner, "KeyRow", &format!("{row:?} {row:#?}"));
}
