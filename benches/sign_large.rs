//! Signs and verifies a large jar with the release `countersign` binary and with
//! `openssl pkeyutl` in the same run, and prints wall time and peak memory of each.
//!
//! `cargo bench --bench sign_large` (256 MiB by default; `COUNTERSIGN_BENCH_MB` and
//! `COUNTERSIGN_BENCH_RUNS` change size and repetitions). Each command runs as a child
//! process, so its peak resident memory is the kernel's own count (`wait4`'s ru_maxrss).
//! Timings are printed, never asserted: the bench fails only when a command fails or the
//! two signatures differ.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};

struct Measured {
    wall: Duration,
    peak_rss_kib: i64,
}

/// Runs the command to completion, reaping it with wait4 to read its peak memory.
fn measure(dir: &Path, program: &str, args: &[&str]) -> Measured {
    let stderr_path = dir.join("child-stderr.txt");
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        // Signings are recorded in the data folder's history: keep the bench's out of the user's.
        .env("COUNTERSIGN_HOME", dir.join("home"))
        .stdout(Stdio::null())
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; the pointers are valid for the call.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    // The child is reaped; dropping the handle does not wait again.
    drop(child);
    assert_eq!(reaped, pid, "wait4 failed");
    let exit = std::process::ExitStatus::from_raw(status);
    if !exit.success() {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        panic!("{program} {args:?} failed ({exit}): {err}");
    }
    // ru_maxrss is in KiB on Linux.
    Measured { wall, peak_rss_kib: usage.ru_maxrss }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A real jar (countersign inspects before signing): a descriptor and one stored entry of
/// pseudo-random bytes, written in 1 MiB pieces so the bench itself stays small.
fn make_jar(path: &Path, mib: usize) {
    use zip::write::SimpleFileOptions;
    let file = BufWriter::new(File::create(path).expect("create jar"));
    let mut zip = zip::ZipWriter::new(file);
    let small = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("atlassian-plugin.xml", small).expect("entry");
    zip.write_all(br#"<atlassian-plugin key="com.example.bench" name="Bench" plugins-version="2"><plugin-info><version>1.0</version></plugin-info></atlassian-plugin>"#)
        .expect("write");
    zip.start_file("blob.bin", small.large_file(true)).expect("entry");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for b in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        zip.write_all(&chunk).expect("write");
    }
    zip.finish().expect("finish jar");
}

fn binary() -> PathBuf {
    // Cargo builds the package's binaries for benches and names the path at compile time.
    PathBuf::from(env!("CARGO_BIN_EXE_countersign"))
}

fn main() {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIPPED: openssl is not installed; this benchmark compares against it.");
        return;
    }
    let mib: usize = std::env::var("COUNTERSIGN_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    let runs: usize = std::env::var("COUNTERSIGN_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let bin = binary();
    let bin = bin.to_str().expect("utf-8 path");

    make_jar(&d.join("big.jar"), mib);
    let size = std::fs::metadata(d.join("big.jar")).expect("jar").len();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(d).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "key.pem"]);
    openssl(&["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    openssl(&["req", "-x509", "-new", "-key", "key.pem", "-subj", "/CN=Bench", "-days", "30", "-out", "bench.crt"]);
    // Warm the page cache so every contender reads from memory.
    std::io::copy(&mut File::open(d.join("big.jar")).expect("jar"), &mut std::io::sink()).expect("read");

    let mut rows: Vec<(&str, Vec<Duration>, i64)> = Vec::new();
    let mut record = |name: &'static str, m: Measured| match rows.iter_mut().find(|r| r.0 == name) {
        Some(r) => {
            r.1.push(m.wall);
            r.2 = r.2.max(m.peak_rss_kib);
        }
        None => rows.push((name, vec![m.wall], m.peak_rss_kib)),
    };
    for run in 0..runs {
        let out = format!("out{run}");
        std::fs::create_dir(d.join(&out)).expect("out dir");
        record("countersign sign", measure(d, bin, &["sign", "big.jar", "--key-file", "key.pem", "--cert", "bench.crt", "--out", &out]));
        record("openssl pkeyutl -sign", measure(d, "openssl", &["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "big.jar", "-out", "sig.bin"]));
        let sig_path = format!("{out}/big.jar.sig");
        record("countersign verify", measure(d, bin, &["verify", "big.jar", "--sig", &sig_path, "--cert", "bench.crt"]));
        record("openssl pkeyutl -verify", measure(d, "openssl", &["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "big.jar", "-sigfile", "sig.bin"]));

        let mut ours = String::new();
        File::open(d.join(&sig_path)).and_then(|mut f| f.read_to_string(&mut ours)).expect("our .sig");
        let theirs = std::fs::read(d.join("sig.bin")).expect("openssl's signature");
        assert_eq!(Base64::decode_vec(&ours).expect("Base64"), theirs, "signatures differ from openssl's");
    }

    let mb = size as f64 / 1e6;
    println!("\n{} runs on a {:.1} MB jar ({} MiB of content); median wall time, highest peak RSS\n", runs, mb, mib);
    println!("{:<26} {:>10} {:>10} {:>14}", "operation", "wall s", "MB/s", "peak RSS MiB");
    let mut medians = Vec::new();
    for (name, walls, rss) in &rows {
        let m = median(walls.clone());
        medians.push((*name, m, *rss));
        println!("{:<26} {:>10.3} {:>10.0} {:>14.1}", name, m.as_secs_f64(), mb / m.as_secs_f64(), *rss as f64 / 1024.0);
    }
    let get = |n: &str| medians.iter().find(|r| r.0 == n).map(|r| (r.1.as_secs_f64(), r.2)).expect("row");
    let (cs, cs_rss) = get("countersign sign");
    let (os, _) = get("openssl pkeyutl -sign");
    let (cv, cv_rss) = get("countersign verify");
    let (ov, _) = get("openssl pkeyutl -verify");
    println!("\nsign   time ratio countersign/openssl: {:.2} ({})", cs / os, if cs <= os { "target met: no slower than openssl" } else { "TARGET MISSED: slower than openssl" });
    println!("verify time ratio countersign/openssl: {:.2} ({})", cv / ov, if cv <= ov { "target met: no slower than openssl" } else { "TARGET MISSED: slower than openssl" });
    let peak = cs_rss.max(cv_rss) as f64 / 1024.0;
    println!("countersign peak memory: {:.1} MiB ({})", peak, if peak < 64.0 { "target met: under 64 MiB" } else { "TARGET MISSED: 64 MiB or more" });
    println!("signatures identical to openssl's: yes");
}
