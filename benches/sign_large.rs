//! Signs and verifies jars of 1, 32 and 256 MiB with the release `countersign` binary (into a
//! bundle folder of its own, with the app's copy, and in place) and with `openssl pkeyutl` in
//! the same run, then four 48 MiB jars in one command against one command per jar, and prints
//! wall time and peak memory of each, beside the processor and its SHA-512 speed (the
//! `sha2` crate's and OpenSSL's), the limit of every Ed25519 figure.
//!
//! `cargo bench --bench sign_large`; `COUNTERSIGN_BENCH_SIZES` (MiB, comma-separated; add
//! 5120 for a 5 GB zip64 jar), `COUNTERSIGN_BENCH_RUNS` and `COUNTERSIGN_BENCH_BATCH_MB`
//! change sizes and repetitions. Each command runs as a child
//! process, so its peak resident memory is the kernel's own count (`wait4`'s ru_maxrss).
//! Timings are printed, never asserted: the bench fails only when a command fails or the
//! two signatures differ.
//!
//! The measuring needs `wait4` (Unix); elsewhere the bench says so and does nothing.

#[cfg(unix)]
#[path = "sign_large/unix.rs"]
mod unix;

fn main() {
    #[cfg(unix)]
    unix::main();
    #[cfg(not(unix))]
    eprintln!("sign_large: skipped: it measures peak memory with wait4, which only Unix has.");
}
