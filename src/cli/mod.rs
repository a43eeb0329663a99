//! The command line: clap definitions, and printing results for people or (`--json`) for
//! pipelines. Every command is a thin call into the core.
//!
//! Exit status: 0 success, 1 a signature or certificate was rejected, 2 bad input or usage.
//! Every failure is one sentence on stderr naming the file and what to do.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use countersign::archive::{self, AppInfo};
use countersign::atomic::WriteError;
use countersign::batch::{BatchError, Existing, Layout};
use countersign::bundle::{self, BundleError, Report, VerifyTarget};
use countersign::history::HistoryError;
use countersign::keys::{KeyError, PrivateKey};
use countersign::keystore::KeyStore;
use countersign::keystore::KeyStoreError;
use countersign::signer::{self, SignOptions, Signed, Signer, SignerError};
use countersign::truststore::TrustStore;
use countersign::truststore::{PackageError, TrustStoreError};
use hints::Hint;

mod certs;
mod hints;
mod history;
mod keys;
mod progress;

use progress::{Bars, with_progress};

/// Environment variable holding the passphrase of an encrypted key file.
pub const PASSPHRASE_ENV: &str = "COUNTERSIGN_PASSPHRASE";

const ABOUT: &str =
    "Sign Atlassian Data Center apps so that UPM accepts them, and check signatures the way UPM does.";

#[derive(Debug, Parser)]
#[command(name = "countersign", version = countersign::LONG_VERSION, about = ABOUT, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign a .jar or .obr and write the signature bundle for the customer.
    Sign(SignArgs),
    /// Check a signature the way UPM will, and say why it fails.
    Verify(VerifyArgs),
    /// Show what identifies an app (plugin key, name, version) without signing it.
    Inspect(InspectArgs),
    /// Vendor keys kept in the OS keychain.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Certificates for stored keys: self-signed, requests to a CA, import, renewal.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The customer's UPM trust store: make a ready package, or check one.
    #[command(subcommand)]
    Truststore(TruststoreCommand),
    /// List past signings, newest first; search them, or export them as CSV.
    History(HistoryArgs),
    /// Write the man pages and the shell completions (bash, zsh, fish) into a folder: what the
    /// packages install. For packaging; not shown in the help.
    #[command(hide = true)]
    GenerateAssets {
        /// The folder to write into (made if missing); existing files there are replaced.
        dir: PathBuf,
    },
}

/// The plain fields of a certificate's subject.
#[derive(Debug, Args, Clone, Default)]
pub struct SubjectArgs {
    /// Common name [default: the key's name].
    #[arg(long)]
    pub cn: Option<String>,
    /// Organisation, e.g. your company.
    #[arg(long)]
    pub org: Option<String>,
    /// Organisational unit.
    #[arg(long)]
    pub unit: Option<String>,
    /// Two-letter country code.
    #[arg(long)]
    pub country: Option<String>,
    /// Contact e-mail address.
    #[arg(long)]
    pub email: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Make a self-signed certificate for a stored key (the one customers pin in UPM).
    SelfSign {
        key: String,
        #[command(flatten)]
        subject: SubjectArgs,
        /// Days of validity.
        #[arg(long, default_value_t = countersign::certs::DEFAULT_VALIDITY_DAYS)]
        days: u32,
        /// Also write the certificate (PEM) to this file, for customers.
        #[arg(long, value_name = "FILE.crt")]
        out: Option<PathBuf>,
    },
    /// Write a certificate signing request (PKCS#10 PEM) for a CA.
    Request {
        key: String,
        #[command(flatten)]
        subject: SubjectArgs,
        #[arg(long, value_name = "FILE.csr")]
        out: PathBuf,
    },
    /// Keep a certificate a CA issued (PEM or DER, alone or with its chain) with its key.
    Import { key: String, file: PathBuf },
    /// A new self-signed certificate for the same key and subject; the old one stays listed until it expires.
    Renew {
        key: String,
        #[arg(long, default_value_t = countersign::certs::DEFAULT_VALIDITY_DAYS)]
        days: u32,
        #[arg(long, value_name = "FILE.crt")]
        out: Option<PathBuf>,
    },
    /// Show a key's certificates and their state.
    Show {
        key: String,
        #[arg(long)]
        json: bool,
        /// Print the current certificate (and chain) as PEM instead.
        #[arg(long, conflicts_with = "json")]
        pem: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TruststoreCommand {
    /// Make a ready upmconfig/truststore/ folder (or .zip) holding a certificate, with instructions.
    Package {
        /// The certificate file, or the name of a stored key whose current certificate to use.
        #[arg(long, value_name = "CERT|KEY")]
        cert: String,
        /// A new folder, or a file ending in .zip.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Also add Atlassian's Marketplace CA certificates.
        #[arg(long)]
        include_atlassian_cas: bool,
        /// Make a swap kit: an old certificate the customer must remove (a file, PEM or DER,
        /// the first of a chain; or a stored key's name: every certificate kept with it).
        /// Repeat for several. The kit adds scripts that remove it by SHA-256 fingerprint.
        #[arg(long, value_name = "CERT|KEY")]
        remove: Vec<String>,
    },
    /// Check a trust-store folder the way UPM sees it.
    Check {
        dir: PathBuf,
        /// The user that runs the product (name or uid), to check ownership exactly.
        #[arg(long, value_name = "USER")]
        product_user: Option<String>,
        /// Also say whether the current certificate of this stored key is in the trust store
        /// (compared by content, not file name); exit status 1 when it is not.
        #[arg(long, value_name = "NAME", conflicts_with = "cert")]
        key: Option<String>,
        /// Also say whether this certificate (a file, PEM or DER, the first of a chain; or a
        /// stored key's name: its current one) is in the trust store; exit status 1 when it
        /// is not.
        #[arg(long, value_name = "CERT|KEY")]
        cert: Option<String>,
        /// A certificate that must be in the trust store, under any file name: a file (PEM or
        /// DER; the first of a chain) or a stored key's name (its current certificate). Repeat
        /// for several; exit status 1 when one is missing.
        #[arg(long, value_name = "CERT|KEY")]
        expect: Vec<String>,
        /// A certificate that must no longer be in the trust store, under any file name: the
        /// old one of a swap. A file, or a stored key's name (every certificate kept with it).
        /// Repeat for several; exit status 1 when one is still there.
        #[arg(long, value_name = "CERT|KEY")]
        reject: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new key in the OS keychain.
    Generate {
        #[arg(long)]
        name: String,
        /// ed25519 (what UPM requires) or p384 (which UPM refuses; for NIST-curve policies).
        #[arg(long, default_value = "ed25519", value_parser = ["ed25519", "p384"])]
        algorithm: String,
        #[arg(long)]
        json: bool,
    },
    /// List the keys, with their certificate state and whether the keychain holds them.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Store an existing private key (PKCS#8 PEM or DER, encrypted or not) in the keychain.
    Import {
        file: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Write a key's public key (PEM) to a file or stdout.
    ExportPublic {
        name: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write a passphrase-encrypted backup (PKCS#8 PEM that `openssl pkey` opens).
    Backup {
        name: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Store a key from an encrypted backup in the keychain.
    Restore {
        file: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Replace a key: a new Ed25519 key with a self-signed certificate that has the old
    /// certificate's subject; the old key is marked retired (signing with it warns) or
    /// compromised (signing with it is refused). The old key stays listed until deleted.
    Replace {
        /// The key to replace.
        old: String,
        /// The new key's name.
        #[arg(long, value_name = "NEW")]
        name: String,
        /// planned (a certificate near its end, a person who left: the old key is retired) or
        /// compromised (the key leaked: Countersign refuses to sign with it).
        #[arg(long, default_value = "planned", value_parser = ["planned", "compromised"])]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename a key (its keychain entry stays as it is).
    Rename { old: String, new: String },
    /// Give a name to a keychain entry that no key lists (`keys list` names them), bringing
    /// its key back without a backup.
    Adopt {
        /// The entry's id, as `keys list` shows it.
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Remove a key from the keychain and the index.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The apps to sign (.jar or .obr); several are signed at once, on all cores.
    #[arg(required = true, value_name = "ARTIFACT")]
    pub artifacts: Vec<PathBuf>,
    /// Private key file: PKCS#8, PEM or DER, encrypted or not. An encrypted key's passphrase
    /// comes from COUNTERSIGN_PASSPHRASE, or is asked for on a terminal. The algorithm is the
    /// key's: Ed25519 (what UPM requires) or ECDSA P-384 (which UPM refuses).
    #[arg(long, value_name = "KEY.pem", required_unless_present = "key", conflicts_with = "key")]
    pub key_file: Option<PathBuf>,
    /// A key kept in the OS keychain (see `countersign keys list`); its current certificate
    /// is used unless --cert is given.
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// The signer's certificate, shipped in the bundle: a file (PEM or DER; a chain with the
    /// signer first), or a stored key's name (its current certificate).
    #[arg(long, value_name = "CERT|KEY")]
    pub cert: Option<String>,
    /// Folder for the bundle, made if missing; it gets a copy of the app too, so the folder
    /// is the whole bundle. With several apps, each gets <name>-bundle/ in it. [default: the
    /// app's folder; with several apps, <name>-bundle/ next to each]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Free text for the customer: who it is for, the ticket.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Also write <name>-signed.zip holding the bundle and the artifact.
    #[arg(long)]
    pub zip: bool,
    /// Replace a bundle that already exists (never done otherwise).
    #[arg(long)]
    pub overwrite: bool,
    /// Sign with a key marked compromised anyway (`keys replace --reason compromised`), for
    /// a case you have thought through: whoever stole the key can sign too. Each signing
    /// warns, and the history records that it was forced.
    #[arg(long, requires = "key")]
    pub i_know: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A bundle (folder or -signed.zip), or the artifact itself.
    pub target: PathBuf,
    /// The signature file [default: <artifact>.sig next to it; a bundle's own]. Given with a
    /// bundle, it replaces the bundle's own, and the report says whether they are the same.
    #[arg(long, value_name = "FILE")]
    pub sig: Option<PathBuf>,
    /// The signer's certificate [default: a bundle's own; for an app, <app>.crt, .pem or .cer
    /// beside it (or <app stem>.crt ...), else the only certificate there whose key verifies the
    /// signature]. Given with a bundle, it replaces the bundle's own.
    #[arg(long, value_name = "FILE", conflicts_with = "truststore")]
    pub cert: Option<PathBuf>,
    /// A UPM trust-store folder (upmconfig/truststore) to check against, as the customer's UPM will.
    #[arg(long, value_name = "DIR")]
    pub truststore: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show only signings matching all these words (file, plugin key, version, key, note, folder, SHA-256; any case).
    #[arg(value_name = "SEARCH")]
    pub search: Vec<String>,
    /// Only signings by this key (a stored key's name, a name the history records, or a
    /// public key SHA-256), matched by its public key so a renamed key's signings are found
    /// too; grouped by note (the customer), to answer "who must hear about this key?".
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// Only signings on this day or later (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Write the listed signings as CSV to this file (never replacing one that exists).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// With --key: sign again with this stored key every listed app that is still where it
    /// was and unchanged, each into a new bundle beside its old one; what moved or changed is
    /// listed. After `keys replace`.
    #[arg(long, value_name = "NEW", requires = "key")]
    pub resign_with: Option<String>,
    /// Print as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The app to look into (.jar or .obr).
    pub artifact: PathBuf,
    /// Print as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A failure as the command line reports it: one sentence and an exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub(crate) fn bad_input(message: impl ToString) -> Self {
        Failure { message: message.to_string(), code: 2 }
    }
}

impl Failure {
    /// A core error with the command line's hint for it: exit status 1 when a check refused
    /// (`rejected`), else 2.
    fn explained(e: &(impl std::fmt::Display + Hint), rejected: bool) -> Self {
        Failure { message: hints::explain(e), code: if rejected { 1 } else { 2 } }
    }
}

impl From<BundleError> for Failure {
    fn from(e: BundleError) -> Self {
        Failure::explained(&e, e.is_rejection())
    }
}

/// Core errors that are never a check's refusal: exit status 2, with the hint.
macro_rules! bad_input_errors {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Failure {
            fn from(e: $error) -> Self {
                Failure::explained(&e, false)
            }
        })*
    };
}

bad_input_errors!(
    KeyError,
    KeyStoreError,
    SignerError,
    TrustStoreError,
    WriteError,
    PackageError,
    HistoryError
);

/// Parses the arguments and runs the command.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let Some(command) = cli.command else {
        #[cfg(feature = "gui")]
        return crate::gui::run();
        #[cfg(not(feature = "gui"))]
        {
            eprintln!(
                "countersign: this build has no window (it was built without the \"gui\" feature). Run `countersign --help` for the commands."
            );
            return ExitCode::from(2);
        }
    };
    let json = match &command {
        Command::Sign(a) => a.json,
        Command::Verify(a) => a.json,
        Command::Inspect(a) => a.json,
        Command::History(a) => a.json,
        Command::Keys(
            KeysCommand::Generate { json, .. }
            | KeysCommand::List { json }
            | KeysCommand::Replace { json, .. },
        ) => *json,
        Command::Keys(_) => false,
        Command::Cert(CertCommand::Show { json, .. })
        | Command::Truststore(TruststoreCommand::Check { json, .. }) => *json,
        Command::Cert(_) | Command::Truststore(_) | Command::GenerateAssets { .. } => false,
    };
    let result = match command {
        Command::Sign(a) => sign(a),
        Command::Verify(a) => verify(a),
        Command::Inspect(a) => inspect(a),
        Command::Keys(k) => keys::run(k),
        Command::Cert(c) => certs::run(c),
        Command::Truststore(t) => certs::truststore(t),
        Command::History(a) => history::run(a),
        Command::GenerateAssets { dir } => generate_assets(&dir),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("countersign: {}", f.message);
            if json {
                print_json(&serde_json::json!({ "ok": false, "exit": f.code, "error": f.message }));
            }
            ExitCode::from(f.code)
        }
    }
}

/// The man pages (`man/countersign.1`, and `countersign-sign.1` and so on for each subcommand)
/// and the completions (`completions/countersign.bash`, `_countersign` for zsh,
/// `countersign.fish`), made from
/// the same definitions that parse the arguments. Build assets, not the user's files: written
/// plainly, replacing what is there.
fn generate_assets(dir: &Path) -> Result<u8, Failure> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let failed = |what: &str, e: std::io::Error| {
        Failure::bad_input(format!("Could not write the {what} into {}: {e}.", dir.display()))
    };
    let (man, completions) = (dir.join("man"), dir.join("completions"));
    for d in [&man, &completions] {
        std::fs::create_dir_all(d).map_err(|e| failed("folder", e))?;
    }
    let mut command = Cli::command();
    clap_mangen::generate_to(command.clone(), &man).map_err(|e| failed("man pages", e))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "countersign", &completions)
            .map_err(|e| failed("completions", e))?;
    }
    println!(
        "Wrote the man pages into {} and the bash, zsh and fish completions into {}.",
        man.display(),
        completions.display()
    );
    Ok(0)
}

pub(crate) fn print_json(value: &impl Serialize) {
    let text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Reads a key file, asking for the passphrase only if it is encrypted.
pub(crate) fn load_key_file(path: &Path) -> Result<PrivateKey, Failure> {
    let name = path.display().to_string();
    Ok(PrivateKey::from_file(path, || passphrase_for(&name))?)
}

pub(crate) fn passphrase_for(source_name: &str) -> Result<Zeroizing<String>, KeyError> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Passphrase for {source_name}: "))
            .map(Zeroizing::new)
            .map_err(|_| KeyError::NoPassphrase { source_name: source_name.to_owned() });
    }
    Err(KeyError::NoPassphrase { source_name: source_name.to_owned() })
}

impl From<BatchError> for Failure {
    fn from(e: BatchError) -> Self {
        Failure::explained(&e, e.is_rejection())
    }
}

fn sign(a: SignArgs) -> Result<u8, Failure> {
    // clap does not enforce `requires` beside a conflicting --key-file.
    if a.i_know && a.key.is_none() {
        return Err(Failure::bad_input(
            "--i-know signs with a stored key marked compromised; it goes with --key NAME, not with a key file.",
        ));
    }
    let signer = match (&a.key_file, &a.key) {
        (Some(path), _) => {
            let key = load_key_file(path)?;
            match countersign::keystore::default_home() {
                // A key this machine marked compromised is refused from a file too.
                Ok(home) => Signer::from_key_file(key, &home)?,
                Err(_) => Signer::from_key(key),
            }
        }
        (None, Some(name)) => {
            let store = KeyStore::open_default()?;
            if a.i_know {
                Signer::stored_despite_compromise(store, name)?
            } else {
                Signer::stored(store, name)?
            }
        }
        (None, None) => {
            return Err(Failure::bad_input(
                "Say which key signs: --key NAME (from the keychain) or --key-file FILE.",
            ));
        }
    };
    let signer = match &a.cert {
        Some(arg) => signer.with_certificate(certs::certificate_input(arg)?),
        None => signer,
    };
    let several = a.artifacts.len() > 1;
    let layout = match (&a.out, several) {
        (out, true) => Layout::FolderEach(out.clone()),
        (Some(dir), false) => Layout::Into(dir.clone()),
        (None, false) => Layout::Beside,
    };
    let options = SignOptions {
        layout,
        note: a.note.clone(),
        zip: a.zip,
        existing: if a.overwrite { Existing::Replace } else { Existing::Refuse },
        now: OffsetDateTime::now_utc(),
    };
    let bars = Bars::new(a.json);
    let progress: Vec<_> =
        a.artifacts.iter().map(|p| bars.job(&format!("Signing {}", p.display()))).collect();
    let history = countersign::history::History::open_default();
    let results = signer::sign(&signer, &a.artifacts, options, &history, &progress, |_, _| {});
    bars.finish();

    let key = signer.key();
    let mut worst = 0u8;
    let mut reports = Vec::new();
    for (artifact, result) in a.artifacts.iter().zip(results) {
        match result {
            Ok(Signed { bundle, warnings }) => reports.push((artifact, Ok((bundle, warnings)))),
            Err(e) => {
                let failure = Failure::from(e);
                worst = worst.max(failure.code);
                reports.push((artifact, Err(failure)));
            }
        }
    }
    if !several {
        // One app: its result as before, a failure as the command's own.
        let Some((_, report)) = reports.pop() else { return Ok(0) };
        let (signed, warnings) = report?;
        if a.json {
            print_json(&signed_json(&signed, &warnings));
        } else {
            print_signed(&signed, &warnings, key);
        }
        return Ok(0);
    }
    if a.json {
        let results: Vec<serde_json::Value> = reports
            .iter()
            .map(|(artifact, r)| match r {
                Ok((signed, warnings)) => signed_json(signed, warnings),
                Err(f) => serde_json::json!({ "ok": false, "artifact": artifact, "exit": f.code, "error": f.message }),
            })
            .collect();
        print_json(&serde_json::json!({ "ok": worst == 0, "exit": worst, "results": results }));
    } else {
        for (artifact, r) in &reports {
            match r {
                Ok((signed, warnings)) => {
                    print_signed(signed, warnings, key);
                    println!();
                }
                Err(f) => eprintln!("countersign: {}: {}", artifact.display(), f.message),
            }
        }
        let failed = reports.iter().filter(|(_, r)| r.is_err()).count();
        println!(
            "Signed {} of {} apps{}.",
            reports.len() - failed,
            reports.len(),
            if failed > 0 { format!("; {failed} failed (see above)") } else { String::new() }
        );
    }
    Ok(worst)
}

fn signed_json(signed: &bundle::SignedBundle, warnings: &[String]) -> serde_json::Value {
    serde_json::json!({
        "ok": true,
        "artifact": signed.app.file_name,
        "bundle_dir": signed.dir,
        "files": signed.files,
        "signature": signed.signature_base64,
        "manifest": signed.manifest,
        "warnings": warnings,
    })
}

fn print_signed(signed: &bundle::SignedBundle, warnings: &[String], key: &PrivateKey) {
    let app = &signed.app;
    println!(
        "Signed {} ({}, {}) with {} key {}.",
        app.file_name,
        describe_app(app),
        countersign::progress::human_size(signed.manifest.artifact.size),
        key.algorithm(),
        countersign::hex::short(&signed.manifest.public_key_sha256)
    );
    println!("Bundle written to {}:", signed.dir.display());
    for f in &signed.files {
        println!("  {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    println!("Signature (for UPM's Signature field):\n{}", signed.signature_base64);
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn describe_app(app: &AppInfo) -> String {
    match (app.plugin_key(), app.version()) {
        (Some(k), Some(v)) => format!("{k} {v}"),
        (Some(k), None) => k.to_owned(),
        _ => "not an Atlassian app".to_owned(),
    }
}

fn verify(a: VerifyArgs) -> Result<u8, Failure> {
    let truststore = a.truststore.as_deref().map(TrustStore::load).transpose()?;
    let target =
        VerifyTarget { path: a.target.clone(), signature: a.sig.clone(), certificate: a.cert.clone() };
    let now = OffsetDateTime::now_utc();
    let report =
        with_progress("Verifying", a.json, |p| bundle::verify_target(&target, truststore.as_ref(), now, p))?;
    if a.json {
        print_json(&report);
    } else {
        print_report(&report);
    }
    Ok(if report.passed() { 0 } else { 1 })
}

fn print_report(report: &Report) {
    use countersign::bundle::Outcome;
    println!("{}, as UPM will:", report.checked_with());
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Pass => "[ ok ]",
            Outcome::Warn => "[warn]",
            Outcome::Fail => "[FAIL]",
            Outcome::Skipped => "[skip]",
        };
        println!("  {mark} {}: {}", c.title, c.detail);
        if let (Some(fix), Outcome::Fail | Outcome::Warn) = (&c.fix, c.outcome) {
            let how = hints::for_check(c.id).map(|h| format!(" {h}")).unwrap_or_default();
            println!("         Fix: {fix}{how}");
        }
    }
    println!("{}", report.headline);
    if !report.passed() {
        eprintln!("countersign: {}", report.headline);
    }
}

fn inspect(a: InspectArgs) -> Result<u8, Failure> {
    let info = archive::inspect(&a.artifact).map_err(Failure::bad_input)?;
    if a.json {
        print_json(&serde_json::json!({
            "ok": true,
            "file_name": info.file_name,
            "size": info.size,
            "kind": info.kind,
            "plugin_key": info.plugin_key(),
            "name": info.name(),
            "version": info.version(),
            "vendor": info.vendor(),
            "is_atlassian_app": info.is_atlassian_app(),
            "entries": info.entries,
            "main_jar": info.main_jar,
            "descriptor": info.descriptor,
            "manifest": info.manifest,
            "warnings": info.warnings,
        }));
    } else {
        println!(
            "{} ({:?}, {}, {} entries)",
            info.file_name,
            info.kind,
            countersign::progress::human_size(info.size),
            info.entries
        );
        let show = |label: &str, v: Option<&str>| println!("  {label:<12} {}", v.unwrap_or("-"));
        show("Plugin key:", info.plugin_key());
        show("Name:", info.name());
        show("Version:", info.version());
        show("Vendor:", info.vendor());
        if let Some(j) = &info.main_jar {
            show("Main jar:", Some(j));
        }
        for w in &info.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(0)
}
