//! Packaging for the customer: a ready trust-store folder or zip with its instructions, and
//! the swap package that puts a new certificate in and takes an old one out, with its apply
//! scripts. Apart, because it writes files and the rest of the module only reads.

use std::path::{Path, PathBuf};

use super::{ATLASSIAN_CAS, steps};

/// File name of the instructions that go beside a packaged trust store.
pub const INSTRUCTIONS_FILE: &str = "TRUSTSTORE-INSTRUCTIONS.md";

/// Writes a ready `upmconfig/truststore/` holding `cert` (as `<cert_name>.crt`), and
/// optionally Atlassian's CAs, under `out` (a new folder), or into `out` as a zip when it
/// ends in `.zip`; instructions go beside `upmconfig/`, never inside the trust store, where
/// UPM would take them for a certificate.
pub fn package(
    cert: &[crate::certs::Certificate],
    cert_name: &str,
    out: &Path,
    include_atlassian: bool,
) -> Result<Vec<String>, PackageError> {
    if out.exists() {
        return Err(PackageError::Exists(out.to_path_buf()));
    }
    let cert_file = format!("{cert_name}.crt");
    let mut members = store_members(cert, &cert_file, include_atlassian);
    let instructions = format!(
        "# UPM trust store for {}\n\nThis package holds a ready `upmconfig/truststore/` folder. Copy the folder, not this file, into the product's shared home (Data Center) or home directory.\n\nCertificate `{cert_file}`: {}\n- SHA-256 fingerprint: `{}`\n- valid until {}\n\n{}",
        cert.first().map(|c| c.subject()).unwrap_or_default(),
        cert.first().map(|c| c.subject()).unwrap_or_default(),
        cert.first().map(|c| c.fingerprint()).unwrap_or_default(),
        cert.first().map(|c| crate::certs::day(c.not_after())).unwrap_or_default(),
        steps(&cert_file),
    );
    members.push((INSTRUCTIONS_FILE.to_owned(), instructions, 0o644));
    write_members(out, &members)
}

/// Writes `members` (name, text, mode) as the folder or zip `out`; returns their names.
fn write_members(out: &Path, members: &[(String, String, u32)]) -> Result<Vec<String>, PackageError> {
    let names = members.iter().map(|(n, _, _)| n.clone()).collect();
    let is_zip = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        let bytes =
            zip_members(members).map_err(|e| PackageError::Io { path: out.to_path_buf(), source: e })?;
        crate::atomic::write_file(out, &bytes, false)?;
    } else {
        write_folder(out, members)?;
    }
    Ok(names)
}

/// The trust-store folder's files: the certificate (and chain) as `cert_file`, and optionally
/// Atlassian's CAs.
fn store_members(
    cert: &[crate::certs::Certificate],
    cert_file: &str,
    include_atlassian: bool,
) -> Vec<(String, String, u32)> {
    let mut members =
        vec![(format!("upmconfig/truststore/{cert_file}"), cert.iter().map(|c| c.to_pem()).collect(), 0o644)];
    if include_atlassian {
        for (name, pem) in ATLASSIAN_CAS {
            members.push((format!("upmconfig/truststore/{name}"), pem.to_owned(), 0o644));
        }
    }
    members
}

/// File name, in a swap kit, of the list of certificates to remove: one SHA-256 fingerprint a
/// line (as openssl prints it), then two spaces and the file name it was delivered as; lines
/// starting with `#` are comments. The kit's scripts read it.
pub const REMOVE_LIST_FILE: &str = "remove.sha256";
/// File name, in a swap kit, of the script that applies it on Linux (and Docker, Kubernetes).
pub const LINUX_SCRIPT_FILE: &str = "apply-linux.sh";
/// File name, in a swap kit, of the script that applies it on Windows.
pub const WINDOWS_SCRIPT_FILE: &str = "apply-windows.ps1";

const SWAP_STEPS: &str = include_str!("../../resources/truststore-swap/INSTRUCTIONS.md.template");
const LINUX_SCRIPT: &str = include_str!("../../resources/truststore-swap/apply-linux.sh");
const WINDOWS_SCRIPT: &str = include_str!("../../resources/truststore-swap/apply-windows.ps1");

/// A certificate a swap kit removes from the customer's trust store.
#[derive(Debug, Clone)]
pub struct Removal {
    /// The old certificate; found in the store by its content (SHA-256 fingerprint).
    pub certificate: crate::certs::Certificate,
    /// The file name it was delivered under (e.g. `acme.crt`), for people to look for; the
    /// customer may have renamed it.
    pub delivered_as: String,
}

/// [`package`], as a swap kit: the trust store with `cert`, plus the list of certificates to
/// remove ([`REMOVE_LIST_FILE`]), a script for Linux and one for Windows that remove them by
/// fingerprint and add the new one, and instructions that say how on Linux, Docker,
/// Kubernetes and Windows. With nothing to remove, it is [`package`].
///
/// Refused before anything is written: `out` exists, or a certificate to remove is one the
/// kit adds.
pub fn package_swap(
    cert: &[crate::certs::Certificate],
    cert_name: &str,
    remove: &[Removal],
    out: &Path,
    include_atlassian: bool,
) -> Result<Vec<String>, PackageError> {
    if remove.is_empty() {
        return package(cert, cert_name, out, include_atlassian);
    }
    if out.exists() {
        return Err(PackageError::Exists(out.to_path_buf()));
    }
    let cert_file = format!("{cert_name}.crt");
    let mut members = store_members(cert, &cert_file, include_atlassian);
    let adds: Vec<crate::certs::Certificate> = members
        .iter()
        .filter_map(|(name, pem, _)| {
            crate::certs::Certificate::all_from_file_bytes(pem.as_bytes(), name).ok()
        })
        .flatten()
        .collect();
    let mut removals: Vec<&Removal> = Vec::new();
    for r in remove {
        if adds.contains(&r.certificate) {
            return Err(PackageError::RemovesAdded {
                subject: r.certificate.subject(),
                fingerprint: r.certificate.fingerprint(),
            });
        }
        if !removals.iter().any(|kept| kept.certificate == r.certificate) {
            removals.push(r);
        }
    }
    // A file name is one line of plain text in the list and the instructions.
    let clean = |name: &str| -> String {
        let n: String = name.chars().filter(|c| !c.is_control()).collect();
        n.trim().to_owned()
    };
    let (subject, fingerprint, until) = cert
        .first()
        .map(|c| (c.subject(), c.fingerprint(), crate::certs::day(c.not_after())))
        .unwrap_or_default();
    let mut list = String::from(
        "# The certificates to remove from the UPM trust store: SHA-256 fingerprint, then the\n# file name it was delivered as (it may have been renamed). Read by apply-linux.sh and\n# apply-windows.ps1.\n",
    );
    let mut text = format!(
        "# Certificate swap for the UPM trust store: {subject}\n\nThe vendor has replaced a signing certificate. This kit removes the old certificate from UPM's trust store and adds the new one.\n\n**Add** `{cert_file}` (in this kit's `upmconfig/truststore/`): {subject}\n- SHA-256 fingerprint: `{fingerprint}`\n- valid until {until}\n\n**Remove** (listed in `{REMOVE_LIST_FILE}`):\n",
    );
    for r in &removals {
        let c = &r.certificate;
        let name = clean(&r.delivered_as);
        list.push_str(&format!("{}  {name}\n", c.fingerprint()));
        text.push_str(&format!(
            "- `{name}` (the file name it was delivered as; it may have been renamed, so look for it by fingerprint): {}\n  - SHA-256 fingerprint: `{}`\n  - valid until {}\n",
            c.subject(),
            c.fingerprint(),
            crate::certs::day(c.not_after()),
        ));
    }
    text.push('\n');
    let mut names: Vec<String> = Vec::new();
    for r in &removals {
        let name = format!("`{}`", clean(&r.delivered_as));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let names = names.join(" or ");
    let case = removals.iter().map(|r| r.certificate.fingerprint()).collect::<Vec<_>>().join("|");
    let ps = removals
        .iter()
        .map(|r| format!("'{}'", r.certificate.fingerprint().replace(':', "")))
        .collect::<Vec<_>>()
        .join(", ");
    text.push_str(
        &SWAP_STEPS
            .replace("{{CERT_FILE}}", &cert_file)
            .replace("{{FINGERPRINTS_CASE}}", &case)
            .replace("{{FINGERPRINTS_PS}}", &ps)
            .replace("{{OLD_NAMES}}", &names),
    );
    text.push_str(&steps(&cert_file));
    members.push((INSTRUCTIONS_FILE.to_owned(), text, 0o644));
    members.push((REMOVE_LIST_FILE.to_owned(), list, 0o644));
    members.push((LINUX_SCRIPT_FILE.to_owned(), LINUX_SCRIPT.to_owned(), 0o755));
    members.push((WINDOWS_SCRIPT_FILE.to_owned(), WINDOWS_SCRIPT.to_owned(), 0o644));
    write_members(out, &members)
}

fn zip_members(members: &[(String, String, u32)]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let to_io = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    for dir in ["upmconfig/", "upmconfig/truststore/"] {
        zip.add_directory(dir, SimpleFileOptions::default().unix_permissions(0o755)).map_err(to_io)?;
    }
    for (name, text, mode) in members {
        zip.start_file(name.as_str(), SimpleFileOptions::default().unix_permissions(*mode)).map_err(to_io)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish().map_err(to_io)?.into_inner())
}

/// Builds the folder under a temporary name beside `out` and renames it into place, so it
/// appears whole or not at all.
fn write_folder(out: &Path, members: &[(String, String, u32)]) -> Result<(), PackageError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| PackageError::Io { path: out.to_path_buf(), source };
    let temp = tempfile::Builder::new().prefix(crate::atomic::TEMP_PREFIX).tempdir_in(&parent).map_err(io)?;
    for (name, text, mode) in members {
        let path = temp.path().join(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(io)?;
        set_mode(&path, *mode);
    }
    for dir in ["upmconfig", "upmconfig/truststore"] {
        set_mode(&temp.path().join(dir), 0o755);
    }
    set_mode(temp.path(), 0o755);
    let kept = temp.keep();
    std::fs::rename(&kept, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        io(e)
    })
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Why a trust-store package could not be written; nothing is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Something exists at the output path already; packages never overwrite.
    #[error("{} already exists. Choose a new path for the trust-store package; Countersign does not overwrite.", .0.display())]
    Exists(PathBuf),
    /// The package's folder or zip could not be built, or its folder not moved into place.
    #[error("Could not write the trust-store package {}: {source}.", .path.display())]
    Io {
        /// The package's output path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A certificate to remove is one the package adds.
    #[error(
        "The certificate to remove ({subject}, SHA-256 {fingerprint}) is one the package adds. Name the old certificate to remove and the new one to add; nothing was written."
    )]
    RemovesAdded {
        /// Its subject, RFC 4514 form.
        subject: String,
        /// Its SHA-256 fingerprint.
        fingerprint: String,
    },
    /// The zip package could not be written.
    #[error(transparent)]
    Write(#[from] crate::atomic::WriteError),
}
