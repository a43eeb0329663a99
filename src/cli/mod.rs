//! The command line: clap definitions, and printing results for people or (`--json`) for
//! pipelines. Every command is a thin call into the core.
//!
//! Exit status: 0 success, 1 a signature or certificate was rejected, 2 bad input or usage.
//! Every failure is one sentence on stderr naming the file and what to do.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use zeroize::Zeroizing;

use countersign::keys::{KeyError, PrivateKey};

mod args;
mod certs;
mod failure;
mod hints;
mod history;
mod keys;
mod progress;
mod sign;
mod truststore;
mod verify;

pub use args::*;
pub use failure::Failure;

/// Environment variable holding the passphrase of an encrypted key file.
pub const PASSPHRASE_ENV: &str = "COUNTERSIGN_PASSPHRASE";

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
        Command::Sign(a) => sign::sign(a),
        Command::Verify(a) => verify::verify(a),
        Command::Inspect(a) => verify::inspect(a),
        Command::Keys(k) => keys::run(k),
        Command::Cert(c) => certs::run(c),
        Command::Truststore(t) => truststore::run(t),
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
