//! Hostile archives through the real binary: `countersign inspect` and `countersign sign
//! --key-file` (with an openssl-made key) each end in success or one clear sentence with exit
//! status 2, never a panic (101), a signal or a hang, and never write outside their folder.
//! `tests/archive_limits.rs` covers the entry count, the oversized manifest and the stub at the
//! library level; here the same shapes and more go through the command line.
// Linux only: it needs memory limits through setrlimit.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// What a hostile file must lead to.
enum Expect {
    /// Inspection and signing succeed; the plugin key read (if any) is this one.
    Ok(Option<&'static str>),
    /// Both refuse with exit 2 and one sentence mentioning all of these.
    Refused(&'static [&'static str]),
}

/// The outcome of one run of the binary.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// No run of the binary on these small files may take anywhere near this long; past it the
/// run counts as hung. (A guard against hangs, not a timing assertion: it never decides a
/// pass, only turns a hang into a failure instead of a stuck test.)
const HANG_GUARD: Duration = Duration::from_secs(300);

/// The data segment (heap) every run gets: plenty for these small files, a quarter of what
/// reading the 1 GiB bomb whole would take. Past it an allocation fails and the binary
/// aborts, which fails the test (a signal is never an acceptable outcome).
const HEAP_LIMIT: u64 = 256 << 20;

/// Runs the binary in `cwd` with its heap limited to [`HEAP_LIMIT`]; a signal, a panic
/// (exit 101) or a hang fails the test.
fn run_guarded(args: &[&str], cwd: &Path) -> Ran {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    // Output goes to files outside the folders under test (pipes could fill and stall).
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = bin();
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out_file.reopen().unwrap())
        .stderr(err_file.reopen().unwrap());
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            let limit =
                libc::rlimit { rlim_cur: HEAP_LIMIT as libc::rlim_t, rlim_max: HEAP_LIMIT as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("countersign {args:?} hung (still running after {HANG_GUARD:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&std::fs::read(out_file.path()).unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&std::fs::read(err_file.path()).unwrap()).into_owned();
    let Some(code) = status.code() else {
        panic!(
            "countersign {args:?} was killed by signal {:?} (an allocation past the heap limit aborts)\n{stderr}",
            status.signal()
        )
    };
    Ran { code, stdout, stderr }
}

/// A folder with an openssl-made key and certificate; each hostile file goes into `work/`.
struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Option<Self> {
        if !openssl_available() {
            return None;
        }
        let dir = tempdir();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        openssl_ed25519_key(&dir.path().join("work"), "key.pem");
        openssl_self_signed(&dir.path().join("work"), "key.pem", "vendor.crt", "365");
        Some(Bench { dir })
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Runs `inspect` and `sign` on `work/<name>` and checks both against `expect`.
    fn check(&self, name: &str, expect: &Expect) {
        let work = self.work();
        let before_root = listing(self.dir.path());
        let inspect = run_guarded(&["inspect", name, "--json"], &work);
        assert_eq!(listing(self.dir.path()), before_root, "inspecting {name} wrote something");

        let out = format!("out-{name}");
        std::fs::create_dir(work.join(&out)).unwrap();
        let sign = run_guarded(
            &["sign", name, "--key-file", "key.pem", "--cert", "vendor.crt", "--out", &out, "--zip"],
            &work,
        );
        for (what, ran) in [("inspect", &inspect), ("sign", &sign)] {
            assert!(
                ran.code == 0 || ran.code == 2,
                "{what} {name}: exit {} (101 is a panic)\n{}{}",
                ran.code,
                ran.stdout,
                ran.stderr
            );
            assert!(
                !ran.stderr.contains("panicked") && !ran.stderr.contains("RUST_BACKTRACE"),
                "{what} {name}: {}",
                ran.stderr
            );
        }
        match expect {
            Expect::Ok(key) => {
                assert_eq!(inspect.code, 0, "inspect {name}: {}", inspect.stderr);
                let json: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
                assert_eq!(json["plugin_key"].as_str(), *key, "inspect {name}: {}", inspect.stdout);
                assert_eq!(sign.code, 0, "sign {name}: {}", sign.stderr);
                let stem = Path::new(name).file_stem().unwrap().to_string_lossy().into_owned();
                let zip = format!("{out}/{stem}-signed.zip");
                let verify = run_guarded(&["verify", &zip], &work);
                assert_eq!(verify.code, 0, "verify {zip}: {}{}", verify.stdout, verify.stderr);
            }
            Expect::Refused(needles) => {
                for (what, ran) in [("inspect", &inspect), ("sign", &sign)] {
                    assert_eq!(ran.code, 2, "{what} {name} should be refused: {}{}", ran.stdout, ran.stderr);
                    let lines: Vec<&str> = ran.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
                    assert_eq!(lines.len(), 1, "{what} {name}: one sentence on stderr: {}", ran.stderr);
                    assert!(
                        lines[0].starts_with("countersign: ") && lines[0].ends_with('.'),
                        "{what} {name}: {}",
                        ran.stderr
                    );
                    for n in *needles {
                        assert!(ran.stderr.contains(n), "{what} {name} should mention {n:?}: {}", ran.stderr);
                    }
                }
                assert!(
                    listing(&work.join(&out)).is_empty(),
                    "a refused signing of {name} left {:?}",
                    listing(&work.join(&out))
                );
            }
        }
        // Whatever happened, nothing appeared outside the work folder, and inside it only
        // the bundle folder.
        let mut expected_root = before_root.clone();
        expected_root.extend(listing(&work.join(&out)).into_iter().map(|f| format!("work/{out}/{f}")));
        expected_root.sort();
        assert_eq!(listing(self.dir.path()), expected_root, "{name} wrote outside its bundle folder");
    }
}

// ---------------------------------------------------------------------------------------
// A zip writer for what the zip crate will not write: duplicate names, names that are not
// UTF-8, headers that lie.

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

struct RawEntry {
    name: Vec<u8>,
    /// The bytes as stored (already compressed for method 8).
    data: Vec<u8>,
    method: u16,
    crc: u32,
    uncompressed: u32,
    flags: u16,
}

impl RawEntry {
    fn stored(name: impl AsRef<[u8]>, data: &[u8]) -> Self {
        RawEntry {
            name: name.as_ref().to_vec(),
            data: data.to_vec(),
            method: 0,
            crc: crc32(data),
            uncompressed: data.len() as u32,
            flags: 0,
        }
    }
}

fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes());
            h.extend(e.flags.to_le_bytes());
            h.extend(e.method.to_le_bytes());
            h.extend([0u8; 4]); // time, date
            h.extend(e.crc.to_le_bytes());
            h.extend((e.data.len() as u32).to_le_bytes());
            h.extend(e.uncompressed.to_le_bytes());
            h.extend((e.name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend(0u16.to_le_bytes()); // comment
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(&e.name);
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&e.data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// `len` zero bytes, deflated (by the zip crate, so at full speed): the compressed bytes and
/// the CRC-32 of the inflated ones.
fn deflated_zeros(len: u64) -> (Vec<u8>, u32) {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    zip.start_file("zeros", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        zip.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    let bytes = zip.finish().unwrap().into_inner();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut entry = archive.by_index_raw(0).unwrap();
    let crc = entry.crc32();
    let mut compressed = Vec::new();
    entry.read_to_end(&mut compressed).unwrap();
    (compressed, crc)
}

const DESCRIPTOR: &[u8] = br#"<atlassian-plugin key="com.acme.hostile" name="Hostile"><plugin-info><version>1.0</version></plugin-info></atlassian-plugin>"#;

fn descriptor(key: &str) -> Vec<u8> {
    format!(r#"<atlassian-plugin key="{key}" name="N"><plugin-info><version>1.0</version></plugin-info></atlassian-plugin>"#).into_bytes()
}

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

// ---------------------------------------------------------------------------------------

/// A descriptor that inflates to 1 GiB from about a megabyte: refused by the inflate cap,
/// within a heap limit of a quarter of what reading it whole would take. The same bomb
/// with a header claiming 100 bytes, and one inside the main jar of an OBR.
#[test]
fn zip_bombs_are_refused_by_the_inflate_cap_without_big_memory() {
    let Some(b) = Bench::new() else { return };
    const INFLATED: u64 = 1 << 30;
    let (bomb, crc) = deflated_zeros(INFLATED);
    let honest = RawEntry {
        name: b"atlassian-plugin.xml".to_vec(),
        data: bomb.clone(),
        method: 8,
        crc,
        uncompressed: INFLATED as u32,
        flags: 0,
    };
    let file = raw_zip(&[honest]);
    println!("bomb: {} bytes inflating to {INFLATED}", file.len());
    assert!((file.len() as u64) < INFLATED / 100, "the bomb is small");
    std::fs::write(b.work().join("bomb.jar"), &file).unwrap();
    b.check("bomb.jar", &Expect::Refused(&["atlassian-plugin.xml", "zip bomb"]));

    let liar = RawEntry {
        name: b"atlassian-plugin.xml".to_vec(),
        data: bomb.clone(),
        method: 8,
        crc,
        uncompressed: 100,
        flags: 0,
    };
    std::fs::write(b.work().join("liar.jar"), raw_zip(&[liar])).unwrap();
    b.check("liar.jar", &Expect::Refused(&["liar.jar", "atlassian-plugin.xml"]));

    let manifest_bomb = RawEntry {
        name: b"META-INF/MANIFEST.MF".to_vec(),
        data: bomb.clone(),
        method: 8,
        crc,
        uncompressed: INFLATED as u32,
        flags: 0,
    };
    std::fs::write(
        b.work().join("mf-bomb.jar"),
        raw_zip(&[RawEntry::stored("atlassian-plugin.xml", DESCRIPTOR), manifest_bomb]),
    )
    .unwrap();
    b.check("mf-bomb.jar", &Expect::Refused(&["META-INF/MANIFEST.MF", "zip bomb"]));

    // In an OBR: the main jar holds the bomb. Only the (small) main jar is extracted.
    let inner = raw_zip(&[RawEntry {
        name: b"atlassian-plugin.xml".to_vec(),
        data: bomb,
        method: 8,
        crc,
        uncompressed: INFLATED as u32,
        flags: 0,
    }]);
    std::fs::write(
        b.work().join("bomb.obr"),
        zip_bytes(&[("obr.xml", b"<repository/>"), ("main.jar", &inner)]),
    )
    .unwrap();
    b.check("bomb.obr", &Expect::Refused(&["main.jar!/atlassian-plugin.xml", "zip bomb"]));
}

/// Entry names that climb out or are absolute: inspecting and signing extract nothing, so
/// nothing appears anywhere but the bundle folder (checked by `Bench::check` on the whole
/// test folder, and here on the absolute paths named).
#[test]
fn traversal_and_absolute_entry_names_write_nothing_anywhere() {
    let Some(b) = Bench::new() else { return };
    let mut tag = [0u8; 6];
    getrandom::fill(&mut tag).unwrap();
    let tag = countersign::hex::lower(&tag);
    let absolute = format!("/tmp/countersign-escaped-{tag}.txt");
    let names = [
        "../../../countersign-escaped.txt".to_owned(),
        "../escaped.txt".to_owned(),
        absolute.clone(),
        "..\\..\\escaped-windows.txt".to_owned(),
        "C:/escaped-drive.txt".to_owned(),
        "META-INF/../../escaped-middle.txt".to_owned(),
    ];
    let mut entries: Vec<RawEntry> = names.iter().map(|n| RawEntry::stored(n, b"escaped")).collect();
    entries.push(RawEntry::stored("atlassian-plugin.xml", DESCRIPTOR));
    std::fs::write(b.work().join("climb.jar"), raw_zip(&entries)).unwrap();
    b.check("climb.jar", &Expect::Ok(Some("com.acme.hostile")));

    // The same names around an OBR's main jar, and a main jar whose own name is absolute.
    let main = raw_zip(&entries);
    let mut outer: Vec<RawEntry> = names.iter().map(|n| RawEntry::stored(n, b"escaped")).collect();
    outer.push(RawEntry::stored("/absolute-main.jar", &main));
    outer.push(RawEntry::stored("../climbing-main.jar", &main));
    std::fs::write(b.work().join("climb.obr"), raw_zip(&outer)).unwrap();
    b.check("climb.obr", &Expect::Ok(Some("com.acme.hostile")));
    assert!(!Path::new(&absolute).exists(), "{absolute} was written");
    assert!(!Path::new("/escaped-drive.txt").exists());
    assert!(!b.dir.path().parent().unwrap().join("escaped.txt").exists());
}

/// A zip bundle whose members have climbing names, or whose manifest names a climbing file:
/// verifying reads only the members the manifest names, refuses names that are not plain,
/// and writes nothing anywhere.
#[test]
fn a_zip_bundle_with_climbing_names_does_not_escape() {
    let Some(b) = Bench::new() else { return };
    let work = b.work();
    make_app_jar(&work.join("app.jar"), "com.acme.app", "1.0", 3000);
    std::fs::create_dir(work.join("good")).unwrap();
    let (code, _, err) = run(
        &["sign", "app.jar", "--key-file", "key.pem", "--cert", "vendor.crt", "--out", "good", "--zip"],
        &work,
    );
    assert_eq!(code, 0, "{err}");
    let members = zip_members(&work.join("good/app-signed.zip"));
    let member = |name: &str| members.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let manifest: serde_json::Value = serde_json::from_slice(&member("manifest.json")).unwrap();

    // 1. Extra members with climbing and absolute names beside a good bundle: still accepted
    //    (they are never read), and nothing is written.
    let mut entries: Vec<RawEntry> = members.iter().map(|(n, d)| RawEntry::stored(n, d)).collect();
    for n in ["../../escaped.txt", "/tmp/countersign-bundle-escape.txt", "../app.jar"] {
        entries.push(RawEntry::stored(n, b"escaped"));
    }
    std::fs::write(work.join("extra-signed.zip"), raw_zip(&entries)).unwrap();

    // 2. The manifest names the artifact "../app.jar" (and the zip has such a member).
    let mut climbing = manifest.clone();
    climbing["artifact"]["file_name"] = "../app.jar".into();
    let entries = vec![
        RawEntry::stored("../app.jar", &member("app.jar")),
        RawEntry::stored("app.jar.sig", &member("app.jar.sig")),
        RawEntry::stored("vendor.crt", &member("vendor.crt")),
        RawEntry::stored("manifest.json", &serde_json::to_vec(&climbing).unwrap()),
    ];
    std::fs::write(work.join("climbing-signed.zip"), raw_zip(&entries)).unwrap();

    // 3. The manifest names a signature by an absolute path.
    let mut absolute = manifest.clone();
    absolute["signature"]["file"] = "/etc/passwd".into();
    let entries = vec![
        RawEntry::stored("app.jar", &member("app.jar")),
        RawEntry::stored("/etc/passwd", &member("app.jar.sig")),
        RawEntry::stored("manifest.json", &serde_json::to_vec(&absolute).unwrap()),
    ];
    std::fs::write(work.join("absolute-signed.zip"), raw_zip(&entries)).unwrap();

    // 4. The artifact only under a climbing name; the manifest names it plainly.
    let entries = vec![
        RawEntry::stored("../app.jar", &member("app.jar")),
        RawEntry::stored("app.jar.sig", &member("app.jar.sig")),
        RawEntry::stored("vendor.crt", &member("vendor.crt")),
        RawEntry::stored("manifest.json", &member("manifest.json")),
    ];
    std::fs::write(work.join("hidden-signed.zip"), raw_zip(&entries)).unwrap();

    let before = listing(b.dir.path());
    let cases: [(&str, i32, &[&str]); 4] = [
        ("extra-signed.zip", 0, &[]),
        ("climbing-signed.zip", 2, &["not a plain file name", "../app.jar"]),
        ("absolute-signed.zip", 2, &["not a plain file name", "/etc/passwd"]),
        ("hidden-signed.zip", 2, &["has no app.jar"]),
    ];
    for (zip, expected, needles) in cases {
        let ran = run_guarded(&["verify", zip], &work);
        assert_eq!(ran.code, expected, "verify {zip}: {}{}", ran.stdout, ran.stderr);
        for n in needles {
            assert!(ran.stderr.contains(n), "verify {zip} should mention {n:?}: {}", ran.stderr);
        }
        assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
        assert_eq!(listing(b.dir.path()), before, "verifying {zip} wrote something");
    }
    assert!(!Path::new("/tmp/countersign-bundle-escape.txt").exists());
}

/// Two entries of the same name (a descriptor and a manifest each twice, with different
/// keys): readers disagree on which one counts, so whatever Countersign reports, it must
/// not be a crash, and it must say the archive is ambiguous.
#[test]
fn duplicate_entry_names() {
    let Some(b) = Bench::new() else { return };
    let entries = [
        RawEntry::stored("atlassian-plugin.xml", &descriptor("com.acme.first")),
        RawEntry::stored(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nAtlassian-Plugin-Key: com.acme.first\r\n\r\n",
        ),
        RawEntry::stored("atlassian-plugin.xml", &descriptor("com.acme.second")),
        RawEntry::stored(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nAtlassian-Plugin-Key: com.acme.second\r\n\r\n",
        ),
    ];
    std::fs::write(b.work().join("twice.jar"), raw_zip(&entries)).unwrap();
    let ran = run_guarded(&["inspect", "twice.jar", "--json"], &b.work());
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("lists 4 entries but has only 2 different names"),
        "the ambiguity is not reported: {warnings}"
    );
    b.check("twice.jar", &Expect::Ok(Some("com.acme.second")));
}

/// An OBR whose main jar holds another jar (with its own descriptor): the main jar's
/// identity is the app's; the nested jar is neither extracted nor mistaken for the app.
#[test]
fn a_jar_inside_a_jar_inside_an_obr() {
    let Some(b) = Bench::new() else { return };
    let innermost = zip_bytes(&[("atlassian-plugin.xml", &descriptor("com.acme.nested"))]);
    let main = zip_bytes(&[
        ("atlassian-plugin.xml", &descriptor("com.acme.main")),
        ("META-INF/lib/nested.jar", &innermost),
        ("nested.jar", &innermost),
    ]);
    std::fs::write(
        b.work().join("nested.obr"),
        zip_bytes(&[
            ("obr.xml", b"<repository/>"),
            ("main.jar", &main),
            ("dependencies/dep.jar", &innermost),
        ]),
    )
    .unwrap();
    b.check("nested.obr", &Expect::Ok(Some("com.acme.main")));
    let ran = run_guarded(&["inspect", "nested.obr", "--json"], &b.work());
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(json["main_jar"], "main.jar");

    // The only top-level jar has no descriptor, only a nested jar that does: not the app.
    let hollow = zip_bytes(&[("lib/nested.jar", &innermost)]);
    std::fs::write(
        b.work().join("hollow.obr"),
        zip_bytes(&[("obr.xml", b"<repository/>"), ("main.jar", &hollow)]),
    )
    .unwrap();
    b.check("hollow.obr", &Expect::Ok(None));
    // A top-level ".jar" that is not a zip at all: a warning, not a failure.
    std::fs::write(
        b.work().join("fake.obr"),
        zip_bytes(&[("obr.xml", b"<repository/>"), ("main.jar", b"not a zip at all")]),
    )
    .unwrap();
    b.check("fake.obr", &Expect::Ok(None));
}

/// A manifest whose one line is 10 MB is refused by the cap; one just under the cap, and a
/// descriptor with a 3 MB attribute, are read.
#[test]
fn a_manifest_with_a_10_mb_line() {
    let Some(b) = Bench::new() else { return };
    let mut long = b"Manifest-Version: 1.0\r\nAtlassian-Plugin-Key: com.acme.long\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 10 << 20));
    long.extend(b"\r\n\r\n");
    std::fs::write(b.work().join("long-line.jar"), zip_bytes(&[("META-INF/MANIFEST.MF", &long)])).unwrap();
    b.check("long-line.jar", &Expect::Refused(&["META-INF/MANIFEST.MF", "zip bomb"]));

    let mut under = b"Manifest-Version: 1.0\r\nAtlassian-Plugin-Key: com.acme.long\r\nX-Long: ".to_vec();
    under.extend(std::iter::repeat_n(b'a', 1000 << 10));
    std::fs::write(b.work().join("under-cap.jar"), zip_bytes(&[("META-INF/MANIFEST.MF", &under)])).unwrap();
    b.check("under-cap.jar", &Expect::Ok(Some("com.acme.long")));

    let attr = "x".repeat(3 << 20);
    let big = format!(
        r#"<atlassian-plugin key="com.acme.attr" name="{attr}"><plugin-info><version>1.0</version></plugin-info></atlassian-plugin>"#
    );
    std::fs::write(b.work().join("big-attr.jar"), zip_bytes(&[("atlassian-plugin.xml", big.as_bytes())]))
        .unwrap();
    b.check("big-attr.jar", &Expect::Ok(Some("com.acme.attr")));
    // The 3 MB name is cut to what fits a bundle's manifest, and the cut is reported.
    let ran = run_guarded(&["inspect", "big-attr.jar", "--json"], &b.work());
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert!(json.to_string().len() < 64 << 10, "the inspection carries the whole 3 MB name");
    assert!(json["warnings"].to_string().contains("characters long"), "{}", json["warnings"]);
}

/// Bytes that are not UTF-8: in entry names (with and without the zip's UTF-8 flag), in
/// the descriptor (refused, since XML must be text) and in the manifest (read, replaced).
#[test]
fn invalid_utf8_in_names_descriptor_and_manifest() {
    let Some(b) = Bench::new() else { return };
    let bad_name = b"com/acme/\xff\xfe\xc0\x80.class".to_vec();
    let cp437 = [RawEntry::stored(&bad_name, b"x"), RawEntry::stored("atlassian-plugin.xml", DESCRIPTOR)];
    std::fs::write(b.work().join("cp437-name.jar"), raw_zip(&cp437)).unwrap();
    b.check("cp437-name.jar", &Expect::Ok(Some("com.acme.hostile")));

    let mut flagged = RawEntry::stored(&bad_name, b"x");
    flagged.flags = 1 << 11; // "the name is UTF-8", which it is not
    std::fs::write(
        b.work().join("flagged-name.jar"),
        raw_zip(&[flagged, RawEntry::stored("atlassian-plugin.xml", DESCRIPTOR)]),
    )
    .unwrap();
    b.check("flagged-name.jar", &Expect::Ok(Some("com.acme.hostile")));

    let mut flagged_main =
        RawEntry::stored(b"\xffmain.jar", &zip_bytes(&[("atlassian-plugin.xml", DESCRIPTOR)]));
    flagged_main.flags = 1 << 11;
    std::fs::write(
        b.work().join("flagged.obr"),
        raw_zip(&[RawEntry::stored("obr.xml", b"<repository/>"), flagged_main]),
    )
    .unwrap();
    b.check("flagged.obr", &Expect::Ok(Some("com.acme.hostile")));

    let mut bad_xml = br#"<atlassian-plugin key="com.acme."#.to_vec();
    bad_xml.extend(b"\xff\xfe");
    bad_xml.extend(br#"" name="x"/>"#);
    std::fs::write(b.work().join("bad-descriptor.jar"), zip_bytes(&[("atlassian-plugin.xml", &bad_xml)]))
        .unwrap();
    b.check("bad-descriptor.jar", &Expect::Refused(&["atlassian-plugin.xml", "not UTF-8"]));

    let bad_mf =
        b"Manifest-Version: 1.0\r\nBundle-Name: Caf\xe9\r\nAtlassian-Plugin-Key: com.acme.latin1\r\n\r\n";
    std::fs::write(b.work().join("bad-manifest.jar"), zip_bytes(&[("META-INF/MANIFEST.MF", bad_mf)]))
        .unwrap();
    b.check("bad-manifest.jar", &Expect::Ok(Some("com.acme.latin1")));
}

/// A self-extracting stub before the zip: read through the command line, signed as the
/// whole file, and the signature verifies.
#[test]
fn a_zip_with_a_prepended_stub_signs_and_verifies() {
    let Some(b) = Bench::new() else { return };
    let plain = b.dir.path().join("plain.jar");
    make_app_jar(&plain, "com.acme.stub", "1.0", 2000);
    let mut bytes = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'#', 5000));
    bytes.push(b'\n');
    bytes.extend(std::fs::read(&plain).unwrap());
    std::fs::remove_file(plain).unwrap();
    std::fs::write(b.work().join("stubbed.jar"), bytes).unwrap();
    b.check("stubbed.jar", &Expect::Ok(Some("com.acme.stub")));
}

/// True when the bytes hold a zip64 end-of-central-directory record or a zip64 extra field.
fn has_zip64_records(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"PK\x06\x06")
        || bytes.windows(4).any(|w| {
            w == [0x01, 0x00, 0x10, 0x00] || w == [0x01, 0x00, 0x08, 0x00] || w == [0x01, 0x00, 0x18, 0x00]
        })
}

/// Zip64 archives, as the zip crate writes them (`large_file`) and as Info-ZIP's `zip -fz`
/// does: read and signed like any other.
#[test]
fn zip64_archives_are_read() {
    let Some(b) = Bench::new() else { return };
    let mut zip = zip::ZipWriter::new(std::fs::File::create(b.work().join("zip64.jar")).unwrap());
    let opts = zip::write::SimpleFileOptions::default().large_file(true);
    zip.start_file("META-INF/MANIFEST.MF", opts).unwrap();
    zip.write_all(b"Manifest-Version: 1.0\r\nBundle-SymbolicName: com.acme.z64\r\n\r\n").unwrap();
    zip.start_file("atlassian-plugin.xml", opts).unwrap();
    zip.write_all(&descriptor("com.acme.zip64")).unwrap();
    zip.finish().unwrap();
    assert!(
        has_zip64_records(&std::fs::read(b.work().join("zip64.jar")).unwrap()),
        "the zip crate wrote zip64 records"
    );
    b.check("zip64.jar", &Expect::Ok(Some("com.acme.zip64")));

    if !have_tool("zip", "-v") {
        return;
    }
    let src = b.dir.path().join("src");
    std::fs::create_dir_all(src.join("META-INF")).unwrap();
    std::fs::write(src.join("atlassian-plugin.xml"), descriptor("com.acme.infozip")).unwrap();
    std::fs::write(src.join("META-INF/MANIFEST.MF"), b"Manifest-Version: 1.0\r\n\r\n").unwrap();
    let status = Command::new("zip")
        .args(["-q", "-fz", "-r"])
        .arg(b.work().join("infozip64.jar"))
        .args(["atlassian-plugin.xml", "META-INF"])
        .current_dir(&src)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(&src).unwrap();
    assert!(
        has_zip64_records(&std::fs::read(b.work().join("infozip64.jar")).unwrap()),
        "zip -fz wrote zip64 records"
    );
    b.check("infozip64.jar", &Expect::Ok(Some("com.acme.infozip")));
}
