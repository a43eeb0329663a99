//! Ready-made starting points for the tests that sign, in the manner of ripgrep's test
//! helpers: a [`Fixture`] is a folder (or a test's own keychain) with a key, maybe a
//! certificate, apps to sign and output folders, built up one call at a time; a [`SignCmd`]
//! is one `countersign sign` over it, the fixture's key and certificate given unless told
//! otherwise.
//!
//! ```ignore
//! require!(openssl);
//! let f = Fixture::openssl().app(1000).out_dir("out");
//! let out = SignCmd::new(&f).out("out").arg("--json").ok();
//! ```

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use countersign::certs::{self, Certificate, Subject};
use countersign::keys::{Algorithm, PrivateKey};
use time::{Duration, OffsetDateTime};

use super::keychain::Keychain;
use super::*;

/// Where a fixture's files are, and which data folder and keychain its commands use.
enum Place {
    /// A temporary folder; commands use the tests' shared data folder (as [`run`] does), or
    /// `home` once [`Fixture::own_home`] set one.
    Folder { dir: tempfile::TempDir, home: Option<PathBuf> },
    /// A test's own keychain service and data folder (see [`Keychain`]).
    Keychain(Keychain),
}

/// The key a fixture signs with, as `sign` is told it.
#[derive(Clone, Debug)]
pub enum SigningKey {
    /// `--key-file FILE`, a file in the fixture's folder.
    File(String),
    /// `--key NAME`, a key stored in the fixture's keychain.
    Stored(String),
}

/// A folder set up for signing: see the module's documentation.
pub struct Fixture {
    place: Place,
    key: Option<SigningKey>,
    /// The certificate file `sign` is given (`--cert`), if any.
    cert: Option<String>,
    /// The key itself, where the test made it ([`Fixture::generated_key`]).
    private_key: Option<PrivateKey>,
    /// The apps made by [`Fixture::jar`], in order: what `sign` signs unless told otherwise.
    jars: Vec<String>,
}

impl Fixture {
    /// An empty temporary folder, with no key yet.
    pub fn folder() -> Self {
        Self::at(Place::Folder { dir: tempdir(), home: None })
    }

    fn at(place: Place) -> Self {
        Fixture { place, key: None, cert: None, private_key: None, jars: Vec::new() }
    }

    /// An openssl-made Ed25519 key (`key.pem`) and its self-signed certificate (`vendor.crt`),
    /// as Atlassian documents them. The test checks for openssl first (`require!(openssl)`).
    pub fn openssl() -> Self {
        Self::folder().openssl_key().openssl_certificate()
    }

    /// A key stored as `name` in a test's own keychain, without a certificate; `None` (the
    /// test skips) where no keychain can be reached (see [`Keychain::new`]).
    pub fn stored(name: &str) -> Option<Self> {
        let k = Keychain::new()?;
        k.ok(&["keys", "generate", "--name", name]);
        let mut f = Self::at(Place::Keychain(k));
        f.key = Some(SigningKey::Stored(name.to_owned()));
        Some(f)
    }

    /// The stored key gets a self-signed certificate: `cert self-sign NAME ARGS...`.
    pub fn self_signed(self, args: &[&str]) -> Self {
        let Some(SigningKey::Stored(name)) = &self.key else { panic!("self_signed is for a stored key") };
        self.ok(&[&["cert", "self-sign", name.as_str()], args].concat());
        self
    }

    /// `key.pem`, an Ed25519 key made by openssl, signs.
    pub fn openssl_key(mut self) -> Self {
        openssl_ed25519_key(self.path(), "key.pem");
        self.key = Some(SigningKey::File("key.pem".into()));
        self
    }

    /// `vendor.crt`, openssl's self-signed certificate for `key.pem`, valid for a year.
    pub fn openssl_certificate(mut self) -> Self {
        openssl_self_signed(self.path(), "key.pem", "vendor.crt", "365");
        self.cert = Some("vendor.crt".into());
        self
    }

    /// `key.pem`, an Ed25519 key made here (no openssl needed), signs; [`Self::private_key`]
    /// is that key.
    pub fn generated_key(mut self) -> Self {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        write_key_file(&key, &self.path().join("key.pem"));
        self.key = Some(SigningKey::File("key.pem".into()));
        self.private_key = Some(key);
        self
    }

    /// A self-signed certificate for the generated key, for `subject`, valid from a day ago
    /// for a year, in `file`: the certificate `sign` is given.
    pub fn certified(mut self, file: &str, subject: Subject) -> Self {
        certificate_file(self.path(), self.private_key(), file, &subject, 1);
        self.cert = Some(file.to_owned());
        self
    }

    /// Commands keep their history in `home/` inside the folder rather than the tests'
    /// shared data folder.
    pub fn own_home(mut self) -> Self {
        if let Place::Folder { dir, home } = &mut self.place {
            *home = Some(dir.path().join("home"));
        }
        self
    }

    /// An app `file` (see [`make_app_jar`]); `sign` signs the apps made so, in order, unless told.
    pub fn jar(mut self, file: &str, plugin_key: &str, version: &str, filler: usize) -> Self {
        make_app_jar(&self.path().join(file), plugin_key, version, filler);
        self.jars.push(file.to_owned());
        self
    }

    /// `app.jar`: the app `com.acme.app` 1.0 with `filler` bytes of content.
    pub fn app(self, filler: usize) -> Self {
        self.jar("app.jar", "com.acme.app", "1.0", filler)
    }

    /// An empty folder `name` (and its parents), for `--out`.
    pub fn out_dir(self, name: &str) -> Self {
        std::fs::create_dir_all(self.path().join(name)).unwrap();
        self
    }

    /// The fixture's folder: commands run here.
    pub fn path(&self) -> &Path {
        match &self.place {
            Place::Folder { dir, .. } => dir.path(),
            Place::Keychain(k) => k.path(),
        }
    }

    /// The data folder its commands use.
    pub fn home(&self) -> PathBuf {
        match &self.place {
            Place::Folder { home: Some(home), .. } => home.clone(),
            Place::Folder { home: None, .. } => target_tmp().join("countersign-test-home"),
            Place::Keychain(k) => k.home(),
        }
    }

    /// The test's keychain, for a fixture made by [`Self::stored`].
    pub fn keychain(&self) -> &Keychain {
        match &self.place {
            Place::Keychain(k) => k,
            Place::Folder { .. } => panic!("this fixture has no keychain: make it with Fixture::stored"),
        }
    }

    /// The key made by [`Self::generated_key`].
    pub fn private_key(&self) -> &PrivateKey {
        self.private_key.as_ref().expect("a key made by Fixture::generated_key")
    }

    /// The certificate file `sign` is given, if any.
    pub fn cert(&self) -> Option<&str> {
        self.cert.as_deref()
    }

    /// The binary in the fixture's folder, with its data folder (and keychain).
    pub fn cmd<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        match &self.place {
            Place::Folder { dir, home } => {
                let mut c = bin();
                c.args(args).current_dir(dir.path());
                if let Some(home) = home {
                    c.env("COUNTERSIGN_HOME", home);
                }
                c
            }
            Place::Keychain(k) => {
                let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
                let mut c = k.cmd(&k.home(), &k.service, &[]);
                c.args(args);
                c
            }
        }
    }

    /// Runs the binary here: (exit code, stdout, stderr).
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> (i32, String, String) {
        decode(self.cmd(args).output().expect("the binary runs"))
    }

    /// Runs the binary here, asserting exit code 0; returns stdout.
    pub fn ok<S: AsRef<OsStr> + std::fmt::Debug>(&self, args: &[S]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    }
}

/// One `countersign sign` over a [`Fixture`]: its apps (or those given with [`Self::jar`]),
/// its key and certificate (unless replaced or dropped), then `--out` and the other arguments.
#[derive(Clone)]
pub struct SignCmd<'f> {
    fixture: &'f Fixture,
    jars: Vec<OsString>,
    key: Option<SigningKey>,
    cert: Option<String>,
    out: Option<OsString>,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
}

impl<'f> SignCmd<'f> {
    pub fn new(fixture: &'f Fixture) -> Self {
        SignCmd {
            fixture,
            jars: Vec::new(),
            key: fixture.key.clone(),
            cert: fixture.cert.clone(),
            out: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Signs this app (relative to the fixture's folder, or absolute); called again, one more.
    pub fn jar(mut self, jar: impl AsRef<OsStr>) -> Self {
        self.jars.push(jar.as_ref().to_owned());
        self
    }

    /// `--out DIR`.
    pub fn out(mut self, dir: impl AsRef<OsStr>) -> Self {
        self.out = Some(dir.as_ref().to_owned());
        self
    }

    /// `--key-file FILE` instead of the fixture's key.
    pub fn key_file(mut self, file: &str) -> Self {
        self.key = Some(SigningKey::File(file.to_owned()));
        self
    }

    /// `--key NAME` instead of the fixture's key.
    pub fn key(mut self, name: &str) -> Self {
        self.key = Some(SigningKey::Stored(name.to_owned()));
        self
    }

    /// `--cert CERT` instead of the fixture's certificate.
    pub fn cert(mut self, cert: &str) -> Self {
        self.cert = Some(cert.to_owned());
        self
    }

    /// No `--cert`, though the fixture has a certificate.
    pub fn no_cert(mut self) -> Self {
        self.cert = None;
        self
    }

    /// One more argument, after the others.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// More arguments, after the others.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    /// An environment variable for the command (a key file's passphrase, say).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The whole command line after the program's name.
    pub fn argv(&self) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec!["sign".into()];
        if self.jars.is_empty() {
            argv.extend(self.fixture.jars.iter().map(OsString::from));
        } else {
            argv.extend(self.jars.iter().cloned());
        }
        match &self.key {
            Some(SigningKey::File(file)) => argv.extend(["--key-file".into(), file.into()]),
            Some(SigningKey::Stored(name)) => argv.extend(["--key".into(), name.into()]),
            None => {}
        }
        if let Some(cert) = &self.cert {
            argv.extend(["--cert".into(), cert.into()]);
        }
        if let Some(out) = &self.out {
            argv.extend(["--out".into(), out.clone()]);
        }
        argv.extend(self.args.iter().cloned());
        argv
    }

    /// The command, to run as the test likes (under a umask, killed at a moment, ...).
    pub fn command(&self) -> Command {
        let mut c = self.fixture.cmd(&self.argv());
        for (key, value) in &self.env {
            c.env(key, value);
        }
        c
    }

    /// Runs it: (exit code, stdout, stderr).
    pub fn run(&self) -> (i32, String, String) {
        decode(self.command().output().expect("the binary runs"))
    }

    /// Runs it, asserting that it signed (exit code 0); returns stdout.
    pub fn ok(&self) -> String {
        let (code, out, err) = self.run();
        assert_eq!(code, 0, "{:?}: {out}{err}", self.argv());
        out
    }
}

/// Writes `key` as an unencrypted PKCS#8 PEM file.
pub fn write_key_file(key: &PrivateKey, path: &Path) {
    std::fs::write(path, countersign::pem::encode("PRIVATE KEY", &key.to_pkcs8_der().unwrap())).unwrap();
}

/// A key file made here (Ed25519, no openssl needed) as `file` in `dir`; returns the key.
pub fn generated_key_file(dir: &Path, file: &str) -> PrivateKey {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    write_key_file(&key, &dir.join(file));
    key
}

/// A subject with only a common name.
pub fn subject(cn: &str) -> Subject {
    Subject { common_name: cn.into(), ..Default::default() }
}

/// A self-signed certificate for `key` and `subject`, valid from `start_days_ago` for a year,
/// written as PEM to `file` in `dir`.
pub fn certificate_file(
    dir: &Path,
    key: &PrivateKey,
    file: &str,
    subject: &Subject,
    start_days_ago: i64,
) -> Certificate {
    let now = OffsetDateTime::now_utc();
    let cert =
        certs::self_signed(key, subject, now - Duration::days(start_days_ago), now + Duration::days(365))
            .unwrap();
    std::fs::write(dir.join(file), cert.to_pem()).unwrap();
    cert
}

/// A company CA made by openssl (`ca.key`, and `ca.crt` for `ca_subject`) that issues the
/// request `csr` as `leaf`, valid for a year; `chain` holds the leaf, then the CA.
pub fn openssl_ca_chain(dir: &Path, ca_subject: &str, csr: &str, leaf: &str, chain: &str) {
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "ca.key"], dir);
    openssl(
        &["req", "-x509", "-new", "-key", "ca.key", "-subj", ca_subject, "-days", "3650", "-out", "ca.crt"],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-out",
            leaf,
        ],
        dir,
    );
    let both = [std::fs::read(dir.join(leaf)).unwrap(), std::fs::read(dir.join("ca.crt")).unwrap()].concat();
    std::fs::write(dir.join(chain), both).unwrap();
}

/// Keys of algorithms UPM does not take, as openssl makes them: (`openssl` arguments, the
/// file they write, the algorithm's name as a refusal should say it).
pub const UNSUPPORTED_OPENSSL_KEYS: [(&[&str], &str, &str); 3] = [
    (
        &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem"],
        "rsa.pem",
        "RSA",
    ),
    (&["genpkey", "-algorithm", "ed448", "-out", "ed448.pem"], "ed448.pem", "Ed448"),
    (
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem"],
        "p256.pem",
        "P-256",
    ),
];

/// Whether openssl verifies the raw (not Base64) Ed25519 signature `sig` of `file` under the
/// public key in `public_pem` (all relative to `dir`, or absolute).
pub fn openssl_verifies(dir: &Path, public_pem: &str, file: &str, sig: &str) -> bool {
    openssl_ok(
        &["pkeyutl", "-verify", "-pubin", "-inkey", public_pem, "-rawin", "-in", file, "-sigfile", sig],
        dir,
    )
}

/// Every member of a zip file: (name, bytes), in the archive's order.
pub fn zip_members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut member = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut member, &mut bytes).unwrap();
            (member.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

/// A keychain service name no other test uses: `countersign-test-` and 12 random hex digits.
pub fn fresh_service_name() -> String {
    let mut id = [0u8; 6];
    getrandom::fill(&mut id).unwrap();
    format!("countersign-test-{}", countersign::hex::lower(&id))
}
