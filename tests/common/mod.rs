//! Helpers shared by the integration tests: temporary folders, test artifacts built at run
//! time, the real binary, and the independent verifiers (openssl, the JDK).
#![allow(dead_code)]

pub mod fixtures;
pub mod keychain;

#[allow(unused_imports)] // the window's tests sign no bundles
pub use fixtures::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// True when a required outside tool is present. Without it a test skips with a printed
/// reason on a developer's machine, and fails when `CI` is set; under Wine (see
/// [`under_wine`]) it skips, by name, even then.
pub fn have_tool(tool: &str, version_arg: &str) -> bool {
    // Present means it runs at all: some tools (secret-tool) have no version flag and
    // exit non-zero on any probe.
    let ok = Command::new(tool).arg(version_arg).output().is_ok();
    if !ok {
        if under_wine() {
            skipped(&format!(
                "Wine: `{tool}` is a Linux program, which a Windows test cannot start; the Linux run checks this with it"
            ));
            return false;
        }
        let msg = format!("`{tool}` is not installed; this test needs it as an independent verifier");
        if std::env::var_os("CI").is_some() {
            panic!("{msg} (CI is set, so a missing tool is a failure: .ci/run installs it)");
        }
        skipped(&msg);
    }
    ok
}

/// True when these are the Windows tests running under Wine on Linux (`.ci/run` sets
/// `COUNTERSIGN_TEST_UNDER_WINE`, which Wine passes on from the Linux environment). The
/// independent verifiers (openssl, the JDK) and the Linux desktop tools are Linux programs
/// there, out of a Windows test's reach.
pub fn under_wine() -> bool {
    cfg!(windows) && std::env::var_os("COUNTERSIGN_TEST_UNDER_WINE").is_some()
}

/// Says that the running test skips, and why, on stderr past the test harness's capture
/// (written to the handle, not through `eprintln!`), so that a run's log names every
/// skipped test: `SKIPPED <test>: <reason>`.
pub fn skipped(reason: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// Ends the running test unless the named outside tools are there: `require!(openssl)`,
/// `require!(openssl, java)`. A missing one skips the test with a printed reason on a
/// developer's machine and fails it when `CI` is set (see [`have_tool`]).
macro_rules! require {
    ($($tool:ident),+ $(,)?) => {
        $(if !crate::common::require_tool(stringify!($tool)) {
            return;
        })+
    };
}

/// The check behind [`require!`], by the tool's name.
pub fn require_tool(tool: &str) -> bool {
    match tool {
        "openssl" => openssl_available(),
        "java" => java_available(),
        "sh" => have_tool("sh", "-c"),
        other => have_tool(other, "--version"),
    }
}

pub fn openssl_available() -> bool {
    have_tool("openssl", "version")
}

pub fn java_available() -> bool {
    have_tool("java", "-version")
}

/// The `countersign` binary cargo built for this test run. Integration tests are told where
/// it is; the window's tests (unit tests of the binary itself) find it beside their own
/// executable's `deps/` folder, where cargo puts it before running any test.
pub fn binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_countersign") {
        return PathBuf::from(path);
    }
    let me = std::env::current_exe().unwrap();
    let target_dir = me.parent().and_then(Path::parent).unwrap();
    let path = target_dir.join(format!("countersign{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} is not built: run the tests with `cargo test`", path.display());
    path
}

/// Cargo's folder for tests' scratch files (`target/tmp`), kept between runs.
pub fn target_tmp() -> PathBuf {
    match option_env!("CARGO_TARGET_TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None => binary().parent().and_then(Path::parent).unwrap().join("tmp"),
    }
}

pub fn bin() -> Command {
    let mut c = Command::new(binary());
    c.env_remove("COUNTERSIGN_PASSPHRASE");
    // Every signing is recorded in the data folder's history: keep the tests' out of the
    // user's own. A test with its own data folder sets COUNTERSIGN_HOME again.
    c.env("COUNTERSIGN_HOME", target_tmp().join("countersign-test-home"));
    c
}

/// Runs the binary and returns (exit code, stdout, stderr).
pub fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = bin().args(args).current_dir(cwd).output().expect("the binary runs");
    decode(out)
}

pub fn decode(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs openssl, asserting success, and returns stdout.
pub fn openssl(args: &[&str], cwd: &Path) -> Vec<u8> {
    let out = Command::new("openssl").args(args).current_dir(cwd).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Runs openssl and returns whether it succeeded.
pub fn openssl_ok(args: &[&str], cwd: &Path) -> bool {
    Command::new("openssl").args(args).current_dir(cwd).output().map(|o| o.status.success()).unwrap_or(false)
}

/// A minimal Atlassian app: a jar with a descriptor and a manifest, plus `filler` bytes of
/// stored content so sizes can be chosen.
pub fn make_app_jar(path: &Path, key: &str, version: &str, filler: usize) {
    let descriptor = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<atlassian-plugin key="{key}" name="Test App" plugins-version="2">
  <plugin-info><version>{version}</version><vendor name="Acme Ltd" url="https://acme.example"/></plugin-info>
</atlassian-plugin>
"#
    );
    let manifest = format!(
        "Manifest-Version: 1.0\r\nBundle-SymbolicName: {key}\r\nBundle-Version: {version}\r\nAtlassian-Plugin-Key: {key}\r\n\r\n"
    );
    let mut filler_bytes = vec![0u8; filler];
    let mut x: u32 = 0x9e37_79b9;
    for b in filler_bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    make_zip(
        path,
        &[
            ("META-INF/MANIFEST.MF", manifest.as_bytes()),
            ("atlassian-plugin.xml", descriptor.as_bytes()),
            ("com/acme/Filler.class", &filler_bytes),
        ],
    );
}

pub fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
    use zip::write::SimpleFileOptions;
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, bytes) in entries {
        zip.start_file(
            *name,
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// Every file below `dir`, as sorted relative names.
pub fn listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                // '/' between folders on every system, so that expected listings read the same.
                let parts: Vec<String> = p
                    .strip_prefix(base)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

pub fn tempdir() -> tempfile::TempDir {
    // In the system's temporary folder even where a test redirected tempfile's default
    // (the secret scan does, for the window in its process).
    tempfile::tempdir_in(std::env::temp_dir()).unwrap()
}

/// An Ed25519 key made by openssl, as Atlassian documents (`key.pem` in `dir`).
pub fn openssl_ed25519_key(dir: &Path, name: &str) -> PathBuf {
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", name], dir);
    dir.join(name)
}

/// A self-signed certificate for `key` made by openssl, valid `days` from now.
pub fn openssl_self_signed(dir: &Path, key: &str, out: &str, days: &str) -> PathBuf {
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            key,
            "-subj",
            "/CN=Test Vendor Signing/O=Test Vendor",
            "-days",
            days,
            "-out",
            out,
        ],
        dir,
    );
    dir.join(out)
}

pub fn flip_bit(path: &Path, offset_from_end: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let i = bytes.len() - 1 - offset_from_end.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Where `needle` occurs in this process's own memory (every readable mapping, heap and
/// stacks included), as addresses; `None` where the memory cannot be read this way (not
/// Linux). The needle's own bytes are not counted.
#[cfg(not(target_os = "linux"))]
pub fn occurrences_in_own_memory(_needle: &[u8]) -> Option<Vec<usize>> {
    None
}

/// See the other [`occurrences_in_own_memory`]; Linux reads `/proc/self/mem`.
#[cfg(target_os = "linux")]
pub fn occurrences_in_own_memory(needle: &[u8]) -> Option<Vec<usize>> {
    use std::os::unix::fs::FileExt as _;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let mem = std::fs::File::open("/proc/self/mem").ok()?;
    let own = needle.as_ptr() as usize..needle.as_ptr() as usize + needle.len();
    let mut found = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let name = fields.nth(3).unwrap_or("");
        if !perms.starts_with('r') || name == "[vvar]" || name == "[vsyscall]" || name.starts_with("/dev/") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else {
            continue;
        };
        // Chunks overlap by the needle's length, so an occurrence across a boundary counts.
        let mut at = start;
        while at < end {
            let len = chunk.len().min(end - at);
            let Ok(read) = mem.read_at(&mut chunk[..len], at as u64) else { break };
            for (i, window) in chunk[..read].windows(needle.len()).enumerate() {
                let addr = at + i;
                if window == needle
                    && !own.contains(&addr)
                    && !(chunk.as_ptr() as usize..chunk.as_ptr() as usize + chunk.len()).contains(&addr)
                {
                    found.push(addr);
                }
            }
            if read < len || at + read >= end {
                break;
            }
            at += read - needle.len().min(read);
        }
    }
    found.sort_unstable();
    found.dedup();
    Some(found)
}

/// Standard output of a `--json` command, parsed (panicking with the text when it is not JSON).
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A vendor's self-signed Ed25519 certificate for `cn`, valid for a year, written as PEM to
/// `file` in `dir`.
pub fn vendor_certificate(dir: &Path, file: &str, cn: &str) -> countersign::certs::Certificate {
    use countersign::keys::{Algorithm, PrivateKey};
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let subject = countersign::certs::Subject { common_name: cn.into(), ..Default::default() };
    let cert = countersign::certs::self_signed(
        &key,
        &subject,
        now - time::Duration::minutes(1),
        now + time::Duration::days(365),
    )
    .unwrap();
    std::fs::write(dir.join(file), cert.to_pem()).unwrap();
    cert
}

/// The modes UPM's trust store wants: the folder 755, its files 644 (Unix; nothing elsewhere).
pub fn upm_modes(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for e in std::fs::read_dir(dir).unwrap() {
            std::fs::set_permissions(e.unwrap().path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}
