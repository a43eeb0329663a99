//! The command line's definitions: every command, option and help text, as clap parses them
//! and as the man pages and completions are made from them. Each command's code is in its
//! own file beside this one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
