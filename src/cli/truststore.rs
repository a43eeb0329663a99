//! `countersign truststore ...`: the customer's trust store, packaged and checked; and the
//! CERT|KEY arguments (a certificate file or a stored key's name) that every option asking
//! for a certificate takes.

use std::path::Path;

use super::{Failure, TruststoreCommand, print_json};
use countersign::certs::{self, Certificate};
use countersign::keystore::KeyStore;
use countersign::truststore::{self, Severity};
use time::OffsetDateTime;

/// The user id of a user name (or a number given as is), from /etc/passwd.
fn uid_of(user: &str) -> Result<u32, Failure> {
    if let Ok(uid) = user.parse() {
        return Ok(uid);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&user)).then(|| f.get(2).and_then(|u| u.parse().ok())).flatten()
        })
        .ok_or_else(|| Failure::bad_input(format!("There is no user \"{user}\" on this machine. Pass the user that runs the product, by name or uid.")))
}

pub fn run(command: TruststoreCommand) -> Result<u8, Failure> {
    match command {
        TruststoreCommand::Package { cert, out, include_atlassian_cas, remove } => {
            package_cmd(&cert, &remove, &out, include_atlassian_cas)
        }
        TruststoreCommand::Check { dir, product_user, key, cert, expect, reject, json } => {
            let current = match (key, cert) {
                (Some(name), _) => Some(Current::Key(name)),
                (None, Some(arg)) => Some(Current::of(&arg)),
                (None, None) => None,
            };
            check_cmd(&dir, product_user.as_deref(), current.as_ref(), &expect, &reject, json)
        }
    }
}

/// True when a CERT|KEY argument names a certificate file: one that exists, or one that reads
/// like a path (a folder in it, or a certificate's extension), so that a missing file is
/// reported as such rather than as a missing key.
fn names_a_file(arg: &str) -> bool {
    let path = Path::new(arg);
    let cert_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["crt", "pem", "cer", "der"].iter().any(|x| e.eq_ignore_ascii_case(x)));
    path.is_file() || arg.contains('/') || arg.contains('\\') || cert_extension
}

/// The certificate of a CERT|KEY argument: a file's, or a stored key's current one (its
/// chain, signer first).
pub(super) fn certificate_input(arg: &str) -> Result<countersign::bundle::CertificateInput, Failure> {
    if names_a_file(arg) {
        return Ok(countersign::bundle::CertificateInput::from_file(Path::new(arg))?);
    }
    let (mut chains, bundle_stem) = certificates_of(arg)?;
    Ok(countersign::bundle::CertificateInput {
        chain: chains.pop().unwrap_or_default(),
        source_name: format!("key \"{arg}\""),
        bundle_stem,
    })
}

/// The certificates of a CERT|KEY argument, each a chain, and the stem of the file name they
/// are delivered under: a file's (its first certificate is the signer's), or every
/// certificate kept with a stored key, newest last.
fn certificates_of(arg: &str) -> Result<(Vec<Vec<Certificate>>, String), Failure> {
    Current::of(arg).chains()
}

/// The signer's certificate of each chain (never the CA above it) of a CERT|KEY argument,
/// and the stem of the file name they are delivered under.
fn signers_of(arg: &str) -> Result<(Vec<Certificate>, String), Failure> {
    let (chains, stem) = certificates_of(arg)?;
    Ok((chains.into_iter().filter_map(|chain| chain.into_iter().next()).collect(), stem))
}

/// `truststore package`: writes a UPM trust-store package for a certificate file or a key's
/// certificate; with `remove`, a swap kit that also removes those certificates.
fn package_cmd(
    cert: &str,
    remove: &[String],
    out: &Path,
    include_atlassian_cas: bool,
) -> Result<u8, Failure> {
    let (mut chains, name) = certificates_of(cert)?;
    let chain = chains.pop().unwrap_or_default();
    let mut removals = Vec::new();
    for arg in remove {
        let (signers, stem) = signers_of(arg)?;
        removals.extend(
            signers
                .into_iter()
                .map(|c| truststore::Removal { certificate: c, delivered_as: format!("{stem}.crt") }),
        );
    }
    let files = truststore::package_swap(&chain, &name, &removals, out, include_atlassian_cas)?;
    if removals.is_empty() {
        println!("Wrote a UPM trust-store package to {}:", out.display());
    } else {
        println!("Wrote a UPM trust-store swap kit to {}:", out.display());
    }
    for f in files {
        println!("  {f}");
    }
    for r in &removals {
        println!(
            "Removes {} (delivered as {}, SHA-256 {}), by fingerprint.",
            r.certificate.subject(),
            r.delivered_as,
            r.certificate.fingerprint()
        );
    }
    Ok(0)
}

/// A CERT|KEY argument, told apart: the certificate `truststore check` is asked to look for
/// (a stored key's current one, or a file's), or one that `--expect` or `--reject` names.
enum Current {
    Key(String),
    File(std::path::PathBuf),
}

/// The certificates `--reject` names: a file's, or every one kept with a stored key (the
/// signer's of each chain), each with where it came from.
fn rejected_by(arg: &str) -> Result<Vec<(Certificate, String)>, Failure> {
    let current = Current::of(arg);
    if let Current::File(_) = current {
        return Ok(vec![current.load()?]);
    }
    let (signers, _) = signers_of(arg)?;
    Ok(signers.into_iter().map(|c| (c, current.source())).collect())
}

impl Current {
    /// A CERT|KEY argument: a file, or a stored key's name.
    fn of(arg: &str) -> Self {
        if names_a_file(arg) { Current::File(arg.into()) } else { Current::Key(arg.to_owned()) }
    }

    /// How to name where its certificates came from.
    fn source(&self) -> String {
        match self {
            Current::File(path) => path.display().to_string(),
            Current::Key(name) => format!("key \"{name}\""),
        }
    }

    /// Its certificates, each a chain, and the stem of the file name they are delivered
    /// under: a file's, or every certificate kept with a stored key, newest last.
    fn chains(&self) -> Result<(Vec<Vec<Certificate>>, String), Failure> {
        match self {
            Current::File(path) => {
                let input = countersign::bundle::CertificateInput::from_file(path)?;
                Ok((vec![input.chain], input.bundle_stem))
            }
            Current::Key(name) => {
                let store = KeyStore::open_default()?;
                let record = store.get(name)?;
                let chains = store.certificates(&record);
                if chains.is_empty() {
                    return Err(no_certificate_yet(name));
                }
                Ok((chains, record.file_stem()))
            }
        }
    }

    /// The certificate (the signer's, the newest chain's first) and how to name where it came from.
    fn load(&self) -> Result<(Certificate, String), Failure> {
        let (mut chains, _) = self.chains()?;
        let cert = chains.pop().and_then(|chain| chain.into_iter().next()).ok_or_else(|| match self {
            Current::File(path) => Failure::bad_input(format!(
                "{} holds no certificate. Give the certificate file.",
                path.display()
            )),
            Current::Key(name) => no_certificate_yet(name),
        })?;
        Ok((cert, self.source()))
    }
}

fn no_certificate_yet(name: &str) -> Failure {
    Failure::bad_input(format!(
        "Key \"{name}\" has no certificate yet. Make one: countersign cert self-sign {name}"
    ))
}

/// Certificates, each with how to name where it came from.
type Named = Vec<(Certificate, String)>;

/// The certificates `--expect` and `--reject` name, each with where it came from; bad input
/// when one is both.
fn swap_certificates(expect: &[String], reject: &[String]) -> Result<(Named, Named), Failure> {
    let expected = expect.iter().map(|arg| Current::of(arg).load()).collect::<Result<Vec<_>, _>>()?;
    let mut rejected = Vec::new();
    for arg in reject {
        rejected.extend(rejected_by(arg)?);
    }
    if let Some((e, r)) = expected.iter().find_map(|e| rejected.iter().find(|r| r.0 == e.0).map(|r| (e, r))) {
        return Err(Failure::bad_input(format!(
            "{} and {} hold the same certificate ({}): it cannot be both expected and rejected. Expect the new certificate and reject the old one.",
            e.1,
            r.1,
            e.0.subject()
        )));
    }
    Ok((expected, rejected))
}

/// What `truststore check` found, to print as text or JSON.
struct Checked<'a> {
    store: truststore::TrustStore,
    lint: truststore::Lint,
    current: Option<(Certificate, String)>,
    presence: Option<truststore::Presence>,
    expected: &'a [(Certificate, String)],
    rejected: &'a [(Certificate, String)],
    swap: truststore::SwapCheck,
}

impl Checked<'_> {
    /// Every file of the store that holds a certificate (a rejected one may be in several).
    fn holding(&self, cert: &Certificate) -> Vec<String> {
        self.store.certificates().filter(|(_, c)| *c == cert).map(|(f, _)| f.display().to_string()).collect()
    }

    fn found(&self) -> bool {
        self.presence.as_ref().is_none_or(truststore::Presence::is_present)
    }

    fn swapping(&self) -> bool {
        !self.expected.is_empty() || !self.rejected.is_empty()
    }

    fn passed(&self) -> bool {
        self.lint.passed() && self.found() && self.swap.done()
    }
}

/// `truststore check`: checks a trust-store folder, and whether it holds the current
/// certificate when one is named; exit code 1 when UPM would fail on it, or it lacks that
/// certificate.
fn check_cmd(
    dir: &Path,
    product_user: Option<&str>,
    current: Option<&Current>,
    expect: &[String],
    reject: &[String],
    json: bool,
) -> Result<u8, Failure> {
    let uid = product_user.map(uid_of).transpose()?;
    // The certificates first: a key or file that cannot be read is bad input, before any finding.
    let current = current.map(Current::load).transpose()?;
    let (expected, rejected) = swap_certificates(expect, reject)?;
    let store = truststore::TrustStore::load(dir)?;
    let lint = truststore::check_store(&store, OffsetDateTime::now_utc(), uid);
    let presence = current.as_ref().map(|(cert, _)| truststore::presence(&store, cert));
    let swap =
        truststore::swap_check(&store, expected.iter().map(|(c, _)| c), rejected.iter().map(|(c, _)| c));
    let checked = Checked { store, lint, current, presence, expected: &expected, rejected: &rejected, swap };
    if json {
        print_json(&check_json(&checked));
    } else {
        print_check(&checked);
        warn_check(dir, &checked);
    }
    Ok(if checked.passed() { 0 } else { 1 })
}

/// `truststore check --json`: the lint, and the swap and the current certificate when asked.
fn check_json(c: &Checked) -> serde_json::Value {
    let mut value = serde_json::json!({ "ok": c.passed(), "lint": c.lint });
    if c.swapping() {
        let entries = |certs: &[(Certificate, String)], presences: &[truststore::Presence]| {
            certs
                .iter()
                .zip(presences)
                .map(|((cert, source), presence)| {
                    serde_json::json!({
                        "source": source,
                        "subject": cert.subject(),
                        "serial": cert.serial_hex(),
                        "sha256_fingerprint": cert.fingerprint(),
                        "present": presence.is_present(),
                        "presence": presence,
                    })
                })
                .collect::<Vec<_>>()
        };
        value["swap"] = serde_json::json!({
            "done": c.swap.done(),
            "expected": entries(c.expected, &c.swap.expected),
            "rejected": entries(c.rejected, &c.swap.rejected),
        });
        for (entry, (cert, _)) in
            value["swap"]["rejected"].as_array_mut().into_iter().flatten().zip(c.rejected)
        {
            entry["files"] = serde_json::json!(c.holding(cert));
        }
    }
    if let (Some((cert, source)), Some(presence)) = (&c.current, &c.presence) {
        value["current_certificate"] = serde_json::json!({
            "source": source,
            "subject": cert.subject(),
            "serial": cert.serial_hex(),
            "sha256_fingerprint": cert.fingerprint(),
            "not_after": certs::rfc3339(cert.not_after()),
            "presence": presence,
        });
    }
    value
}

/// `truststore check` for people: the lint, the current certificate, each expected and
/// rejected one.
fn print_check(c: &Checked) {
    print_lint(&c.lint);
    if let (Some((cert, _)), Some(presence)) = (&c.current, &c.presence) {
        println!("{}", presence_line(cert, presence));
    }
    for ((cert, source), presence) in c.expected.iter().zip(&c.swap.expected) {
        let state = match presence.file().filter(|_| presence.is_present()) {
            Some(file) => format!("present ({})", file.display()),
            None => "missing".to_owned(),
        };
        println!("Expected {source} ({}, SHA-256 {}): {state}.", cert.subject(), cert.fingerprint());
    }
    for (cert, source) in c.rejected {
        let files = c.holding(cert);
        let state =
            if files.is_empty() { "gone".to_owned() } else { format!("still there ({})", files.join(", ")) };
        println!("Rejected {source} ({}, SHA-256 {}): {state}.", cert.subject(), cert.fingerprint());
    }
    if c.swapping() && c.swap.done() {
        println!("The swap is done: every expected certificate is there and no rejected one is.");
    }
}

/// The sentences on stderr of a `truststore check` that did not pass: what the swap still
/// needs, and what UPM fails on or the missing current certificate.
fn warn_check(dir: &Path, c: &Checked) {
    if !c.swap.done() {
        let add: Vec<String> = c
            .expected
            .iter()
            .zip(&c.swap.expected)
            .filter(|(_, p)| !p.is_present())
            .map(|((_, source), _)| format!("add {source}"))
            .collect();
        let remove: Vec<String> = c
            .rejected
            .iter()
            .flat_map(|(cert, _)| c.holding(cert))
            .map(|file| format!("remove {file}"))
            .collect();
        eprintln!(
            "countersign: the swap is not done in {}: {}.",
            dir.display(),
            add.into_iter().chain(remove).collect::<Vec<_>>().join("; ")
        );
    }
    if !c.lint.passed() {
        let n = c.lint.findings.iter().filter(|f| f.severity == Severity::Error).count();
        eprintln!(
            "countersign: the trust store {} has {n} problem(s) UPM fails on; see the list above.",
            dir.display()
        );
    } else if !c.found() {
        eprintln!(
            "countersign: the trust store {} does not hold your current certificate; UPM will refuse apps signed under it.",
            dir.display()
        );
    }
}

/// "Your current certificate: present (file)", "missing", "an older one (file)", ...
fn presence_line(cert: &Certificate, presence: &truststore::Presence) -> String {
    use truststore::Presence;
    let what = |r: &truststore::Related| {
        let kind = if r.same_key { "same key" } else { "same subject, another key" };
        let until = r.not_after.get(..10).unwrap_or(&r.not_after);
        format!("{}: {kind}, serial {}, valid until {until}", r.file.display(), r.serial)
    };
    let state = match presence {
        Presence::Present { file } => format!("present ({})", file.display()),
        Presence::Missing => {
            "missing. Copy it into the trust store (countersign truststore package makes a ready folder)"
                .to_owned()
        }
        Presence::Older(r) if r.same_key => format!(
            "an older one ({}). Replace it with the current certificate; apps signed before verify under the same key",
            what(r)
        ),
        Presence::Older(r) => format!(
            "an older one ({}). Add the current certificate beside it; keep the older one while apps signed with that key are installed",
            what(r)
        ),
        Presence::Newer(r) => {
            format!("missing, but a newer one is there ({}). Sign with the newer certificate", what(r))
        }
    };
    format!("Your current certificate ({}, SHA-256 {}): {state}.", cert.subject(), cert.fingerprint())
}

/// Prints a trust-store check as text: the count, the Atlassian CAs, the findings, the verdict.
fn print_lint(lint: &truststore::Lint) {
    println!("Trust store {}: {} certificate(s).", lint.dir.display(), lint.certificates);
    for (name, present) in &lint.atlassian_cas {
        println!("  Atlassian CA {name}: {}", if *present { "present" } else { "absent" });
    }
    for f in &lint.findings {
        let mark = match f.severity {
            Severity::Error => "[FAIL]",
            Severity::Warning => "[warn]",
        };
        let file = f.file.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default();
        println!("  {mark} {file}{}", f.message);
        if let Some(fix) = &f.fix {
            let how = f.remedy.map(|r| format!(" {}", super::hints::for_remedy(r))).unwrap_or_default();
            println!("         Fix: {fix}{how}");
        }
    }
    println!(
        "{}",
        if lint.passed() {
            "UPM can use this trust store."
        } else {
            "UPM will refuse apps because of the failures above."
        }
    );
}
