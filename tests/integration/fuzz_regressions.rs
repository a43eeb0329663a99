//! Replays, without cargo-fuzz, every input the fuzz targets once crashed or hung on
//! (`tests/fuzz-regressions/<target>/`) and every seed (`fuzz/seeds/<target>/`) through the
//! same code the targets run (`fuzz/harness.rs`, included here). Each input must come back
//! as `Ok` or `Err`, without a panic and in bounded time; memory is bounded by the limits in
//! the parsers themselves (the archive and bundle size caps), which these inputs exercise.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../../fuzz/harness.rs"]
mod harness;

/// Far more than any input needs (the slowest, an encrypted key, takes milliseconds); a
/// regression that hangs would be caught here rather than run forever in CI.
const MAX_SECONDS_PER_INPUT: u64 = 20;

fn inputs(root: &Path, target: &str) -> Vec<PathBuf> {
    let dir = root.join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(root: &Path) -> usize {
    let mut count = 0;
    let mut failures = Vec::new();
    for (target, run) in harness::TARGETS {
        for file in inputs(root, target) {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| run(&data));
            let took = started.elapsed();
            if outcome.is_err() {
                failures.push(format!("{target}: {} panicked", file.display()));
            } else if took > Duration::from_secs(MAX_SECONDS_PER_INPUT) {
                failures.push(format!("{target}: {} took {took:?}", file.display()));
            }
            count += 1;
        }
    }
    assert!(failures.is_empty(), "fuzz inputs that fail:\n{}", failures.join("\n"));
    count
}

#[test]
fn found_crashes_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let n = replay(&root);
    println!("replayed {n} fuzz regression inputs");
}

#[test]
fn seed_corpus_parses_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let n = replay(&root);
    assert!(n >= harness::TARGETS.len(), "fuzz/seeds holds only {n} inputs; every target should have seeds");
}

/// The seeds are real files: the ones that should parse do, so the fuzzer starts from
/// inputs that reach deep into each parser rather than from bytes refused at the door.
#[test]
fn seeds_are_the_real_thing() {
    use countersign::{archive, certs::Certificate, keys::PrivateKey, signing::Signature};
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |p: &str| std::fs::read(seeds.join(p)).unwrap_or_else(|e| panic!("fuzz/seeds/{p}: {e}"));

    let jar =
        archive::inspect_reader(std::io::Cursor::new(read("archive/app-1.0.jar")), Path::new("app-1.0.jar"))
            .unwrap();
    assert_eq!(jar.plugin_key(), Some("com.acme.tools"));
    let obr =
        archive::inspect_reader(std::io::Cursor::new(read("archive/app-1.0.obr")), Path::new("app-1.0.obr"))
            .unwrap();
    assert_eq!((obr.kind, obr.main_jar.as_deref()), (archive::ArtifactKind::Obr, Some("app-1.0.jar")));

    assert_eq!(Certificate::all_from_file_bytes(&read("certs/chain.crt"), "chain.crt").unwrap().len(), 2);
    let passphrase = || Ok(zeroize::Zeroizing::new(harness::PASSPHRASE.to_owned()));
    for key in ["keys/ed-enc.key", "keys/ed-enc.key.der", "keys/ed-scrypt.key", "keys/p384-enc.key"] {
        PrivateKey::from_file_bytes(&read(key), key, passphrase).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    assert_eq!(Signature::decode(&read("signature/app-1.0.jar.sig"), "sig").unwrap().as_bytes().len(), 64);

    // The bundle verifies, signed by the seed's throwaway key (whose private half is gone).
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("app-1.0-signed.zip");
    std::fs::write(&zip, read("bundle/app-1.0-signed.zip")).unwrap();
    let loaded = countersign::bundle::load_bundle(&zip).unwrap();
    assert_eq!(loaded.manifest.artifact.plugin_key.as_deref(), Some("com.acme.tools"));
}

/// The key files the fuzzer found asking for hours of PBKDF2 or terabytes of scrypt are
/// refused before any passphrase is asked for, with a sentence that names the setting.
#[test]
fn runaway_key_derivation_is_refused_up_front() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/keys");
    let files: Vec<PathBuf> = inputs(dir.parent().unwrap(), "keys")
        .into_iter()
        .filter(|f| {
            f.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("pbkdf2") || n.to_string_lossy().starts_with("scrypt")
            })
        })
        .collect();
    assert!(files.len() >= 5, "the key-derivation regressions are missing from {}", dir.display());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let asked = std::cell::Cell::new(false);
        let result = countersign::keys::PrivateKey::from_file_bytes(&data, "hostile.key", || {
            asked.set(true);
            Ok(zeroize::Zeroizing::new(harness::PASSPHRASE.to_owned()))
        });
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("its encryption asks for"), "{}: {message}", file.display());
        assert!(
            !asked.get(),
            "{}: the passphrase was asked for before the parameters were checked",
            file.display()
        );
    }
}
