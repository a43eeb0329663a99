//! The measurements of `sign_large` (see its header): Unix only, for `wait4`'s peak memory.
// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
#[allow(unsafe_code)] // wait4 has no safe wrapper in std
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

/// Median wall time and highest peak memory of a few runs of one operation.
struct Row {
    name: String,
    walls: Vec<Duration>,
    peak_rss_kib: i64,
}

impl Row {
    fn median(&self) -> f64 {
        median(self.walls.clone()).as_secs_f64()
    }

    /// The median of this row's runs each divided by `other`'s run of the same round: the
    /// two ran seconds apart, so a machine whose speed drifts over minutes (a shared virtual
    /// one) cancels out, where a ratio of medians compares different moments.
    fn paired_ratio(&self, other: &Row) -> f64 {
        let mut ratios: Vec<f64> =
            self.walls.iter().zip(&other.walls).map(|(a, b)| a.as_secs_f64() / b.as_secs_f64()).collect();
        ratios.sort_by(f64::total_cmp);
        ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn record(&mut self, name: &str, m: Measured) {
        match self.0.iter_mut().find(|r| r.name == name) {
            Some(r) => {
                r.walls.push(m.wall);
                r.peak_rss_kib = r.peak_rss_kib.max(m.peak_rss_kib);
            }
            None => {
                self.0.push(Row { name: name.to_owned(), walls: vec![m.wall], peak_rss_kib: m.peak_rss_kib })
            }
        }
    }

    fn get(&self, name: &str) -> &Row {
        self.0.iter().find(|r| r.name == name).expect("a measured row")
    }
}

/// The processor, as the kernel names it (Linux), else the architecture.
fn processor() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// SHA-512 throughput in MB/s: the `sha2` crate Countersign signs with (passes over 64 MiB in
/// memory) and OpenSSL's libcrypto (`openssl speed`, 16 KiB blocks), taken in turns (this
/// machine's speed drifts by a third within minutes), medians of three turns. So a reader
/// can tell the hash from the rest of each figure.
fn sha512_speeds() -> (f64, Option<f64>) {
    use sha2::{Digest, Sha512};
    let data: Vec<u8> = (0..64usize << 20).map(|i| i.to_le_bytes()[0] ^ 0x5a).collect();
    let ours_once = || {
        let walls: Vec<Duration> = (0..5)
            .map(|_| {
                let start = Instant::now();
                let mut hash = Sha512::new();
                for piece in data.chunks(64 << 10) {
                    hash.update(piece);
                }
                std::hint::black_box(hash.finalize());
                start.elapsed()
            })
            .collect();
        data.len() as f64 / median(walls).as_secs_f64() / 1e6
    };
    let openssl_once = || {
        let out = Command::new("openssl")
            .args(["speed", "-evp", "sha512", "-bytes", "16384", "-seconds", "1"])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        // The last line: "sha512  <1000s of bytes per second>k".
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|l| {
                l.split_whitespace().nth(1).and_then(|v| v.trim_end_matches('k').parse::<f64>().ok())
            })
            .map(|kb| kb / 1000.0)
    };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..3 {
        ours.push(ours_once());
        theirs.extend(openssl_once());
    }
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    (mid(ours).unwrap_or_default(), mid(theirs))
}

fn ratio_note(ratio: f64, target: f64) -> String {
    if ratio <= target { format!("target {target:.1}x met") } else { format!("TARGET {target:.1}x MISSED") }
}

/// What the environment asks for: sizes in MiB of content (5120, a 5 GB zip64 jar, is worth a
/// run by hand, for the memory), runs per size, and the batch's jar size.
struct Settings {
    sizes: Vec<usize>,
    runs_override: Option<usize>,
    batch_mib: usize,
}

impl Settings {
    fn from_env() -> Self {
        let sizes = std::env::var("COUNTERSIGN_BENCH_SIZES")
            .ok()
            .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 32, 256]);
        let runs_override = std::env::var("COUNTERSIGN_BENCH_RUNS").ok().and_then(|v| v.parse().ok());
        let batch_mib =
            std::env::var("COUNTERSIGN_BENCH_BATCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
        Settings { sizes, runs_override, batch_mib }
    }
}

/// The bench's folder, its key (`key.pem`, `pub.pem`) and certificate (`bench.crt`), and the
/// measurements so far.
struct Bench<'a> {
    dir: &'a Path,
    bin: &'a str,
    table: Table,
    summary: Vec<String>,
}

impl Bench<'_> {
    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl").args(args).current_dir(self.dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn make_key(&self) {
        self.openssl(&["genpkey", "-algorithm", "ed25519", "-out", "key.pem"]);
        self.openssl(&["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
        self.openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/CN=Bench",
            "-days",
            "30",
            "-out",
            "bench.crt",
        ]);
    }

    fn record(&mut self, name: &str, program: &str, args: &[&str]) -> i64 {
        let m = measure(self.dir, program, args);
        let peak = m.peak_rss_kib;
        self.table.record(name, m);
        peak
    }

    /// One jar of `mib` MiB: signed into a bundle and in place, and verified, by Countersign
    /// and (below 2 GiB) by openssl, `runs` times; the ratios go into the summary.
    fn one_size(&mut self, mib: usize, runs: usize) {
        let jar = format!("app-{mib}.jar");
        make_jar(&self.dir.join(&jar), mib);
        warm(&self.dir.join(&jar));
        let mb = std::fs::metadata(self.dir.join(&jar)).expect("jar").len() as f64 / 1e6;
        let names = SizeRows {
            bundle: format!("sign {mb:.0} MB into a bundle: countersign"),
            sign: format!("sign {mb:.0} MB: countersign"),
            osign: format!("sign {mb:.0} MB: openssl"),
            verify: format!("verify {mb:.0} MB: countersign"),
            overify: format!("verify {mb:.0} MB: openssl"),
        };
        // openssl reads the whole file into memory and cannot take one beyond its buffer limits.
        let openssl_can = mib < 2048;
        for run in 0..runs {
            self.one_run(&jar, mib, run, &names, openssl_can);
        }
        if openssl_can {
            let o = self.table.get(&names.osign);
            let b = self.table.get(&names.bundle).paired_ratio(o);
            let s = self.table.get(&names.sign).paired_ratio(o);
            let v = self.table.get(&names.verify).paired_ratio(self.table.get(&names.overify));
            // The targets of issue 19: a small file pays process start and fsyncs, a large
            // one the hash; verifying hashes once where openssl also reads the file first.
            let (sign_target, verify_target) = if mib <= 1 { (1.3, 1.3) } else { (1.0, 0.9) };
            self.summary.push(format!(
                "{mb:.0} MB: sign into a bundle {b:.2}x openssl ({}), in place {s:.2}x ({}), verify {v:.2}x ({})",
                ratio_note(b, sign_target),
                ratio_note(s, sign_target),
                ratio_note(v, verify_target)
            ));
        }
        std::fs::remove_file(self.dir.join(&jar)).expect("remove jar");
    }

    fn one_run(&mut self, jar: &str, mib: usize, run: usize, names: &SizeRows, openssl_can: bool) {
        let bin = self.bin;
        // Into a folder of its own, which gets a copy of the app (what a support engineer
        // sends): a fresh folder each run, removed after.
        let out = format!("bundle-{mib}-{run}");
        self.record(
            &names.bundle,
            bin,
            &["sign", jar, "--key-file", "key.pem", "--cert", "bench.crt", "--out", &out],
        );
        std::fs::remove_dir_all(self.dir.join(&out)).expect("remove the bundle");
        // Next to the jar, as a release script does; --overwrite for the runs after the first.
        self.record(
            &names.sign,
            bin,
            &["sign", jar, "--key-file", "key.pem", "--cert", "bench.crt", "--overwrite"],
        );
        let sig = format!("{jar}.sig");
        self.record(&names.verify, bin, &["verify", jar, "--sig", &sig, "--cert", "bench.crt"]);
        if !openssl_can {
            return;
        }
        self.record(
            &names.osign,
            "openssl",
            &["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", jar, "-out", "sig.bin"],
        );
        self.record(
            &names.overify,
            "openssl",
            &[
                "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", jar, "-sigfile",
                "sig.bin",
            ],
        );
        let mut ours = String::new();
        File::open(self.dir.join(&sig)).and_then(|mut f| f.read_to_string(&mut ours)).expect("our .sig");
        let theirs = std::fs::read(self.dir.join("sig.bin")).expect("openssl's signature");
        assert_eq!(Base64::decode_vec(&ours).expect("Base64"), theirs, "signatures differ from openssl's");
    }

    /// Four jars: one command, against one command per jar, one after another.
    fn batch(&mut self, batch_mib: usize, runs: usize) {
        let d = self.dir;
        let jars: Vec<String> = (1..=4).map(|i| format!("batch-{i}.jar")).collect();
        for j in &jars {
            make_jar(&d.join(j), batch_mib);
            warm(&d.join(j));
        }
        let (together, apart) =
            (format!("4 x {batch_mib} MiB: one command"), format!("4 x {batch_mib} MiB: one by one"));
        for run in 0..runs {
            let out = format!("batch-out-{run}");
            let mut args = vec!["sign"];
            args.extend(jars.iter().map(String::as_str));
            args.extend(["--key-file", "key.pem", "--cert", "bench.crt", "--out", &out]);
            self.record(&together, self.bin, &args);
            let start = Instant::now();
            let mut peak = 0;
            for (i, j) in jars.iter().enumerate() {
                let out = format!("apart-{run}-{i}");
                peak = peak.max(
                    measure(
                        d,
                        self.bin,
                        &["sign", j, "--key-file", "key.pem", "--cert", "bench.crt", "--out", &out],
                    )
                    .peak_rss_kib,
                );
            }
            self.table.record(&apart, Measured { wall: start.elapsed(), peak_rss_kib: peak });
            // Each run's bundles hold copies of the jars: gone before the next run.
            std::fs::remove_dir_all(d.join(&out)).expect("remove the batch's bundles");
            for i in 0..jars.len() {
                std::fs::remove_dir_all(d.join(format!("apart-{run}-{i}"))).expect("remove a bundle");
            }
        }
        let b = self.table.get(&together).paired_ratio(self.table.get(&apart));
        self.summary
            .push(format!("4 jars in one command: {b:.2}x the time of one by one ({})", ratio_note(b, 0.6)));
    }

    /// The processor and its SHA-512 speeds, the table, the ratios and the memory verdict.
    fn print(&self) {
        let (ours, theirs) = sha512_speeds();
        println!(
            "\n{}, {} cores; SHA-512: sha2 {ours:.0} MB/s, OpenSSL {}",
            processor(),
            std::thread::available_parallelism().map_or(1, usize::from),
            theirs.map_or_else(|| "unknown".to_owned(), |t| format!("{t:.0} MB/s")),
        );
        println!("median wall time, highest peak RSS\n");
        println!("{:<36} {:>5} {:>10} {:>14}", "operation", "runs", "wall s", "peak RSS MiB");
        for r in &self.table.0 {
            println!(
                "{:<36} {:>5} {:>10.3} {:>14.1}",
                r.name,
                r.walls.len(),
                r.median(),
                r.peak_rss_kib as f64 / 1024.0
            );
        }
        println!("\nratios: medians of each round's pair, run seconds apart");
        for line in &self.summary {
            println!("{line}");
        }
        let peak = self
            .table
            .0
            .iter()
            .filter(|r| !r.name.contains("openssl"))
            .map(|r| r.peak_rss_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0;
        println!(
            "countersign peak memory: {peak:.1} MiB ({})",
            if peak < 64.0 { "target met: under 64 MiB" } else { "TARGET MISSED: 64 MiB or more" }
        );
        println!("signatures identical to openssl's: yes");
    }
}

/// The names of one size's rows in the table.
struct SizeRows {
    bundle: String,
    sign: String,
    osign: String,
    verify: String,
    overify: String,
}

/// Reads the file once, so that the first measured run does not pay for the disk.
fn warm(path: &Path) {
    std::io::copy(&mut File::open(path).expect("jar"), &mut std::io::sink()).expect("read");
}

pub fn main() {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIPPED: openssl is not installed; this benchmark compares against it.");
        return;
    }
    let settings = Settings::from_env();
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = binary();
    let mut bench = Bench {
        dir: dir.path(),
        bin: bin.to_str().expect("utf-8 path"),
        table: Table::default(),
        summary: Vec::new(),
    };
    bench.make_key();
    for &mib in &settings.sizes {
        // Small files are over in milliseconds: more pairs for a steady median.
        let runs = settings.runs_override.unwrap_or(if mib <= 32 { 7 } else { 3 }).max(1);
        bench.one_size(mib, runs);
    }
    bench.batch(settings.batch_mib, settings.runs_override.unwrap_or(3).max(1));
    bench.print();
}
