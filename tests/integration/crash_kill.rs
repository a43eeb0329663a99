//! Crash safety: the real binary is killed with SIGKILL at random moments while it signs and
//! while it changes the key index, many times over. Afterwards no bundle may look complete
//! unless it is, every file present must be whole, the index must load and no key may be
//! lost. A full disk and a read-only output folder end in one sentence and leave nothing.
// Linux only: it needs SIGKILL, a private mount namespace (unshare) and /proc.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::keychain::Keychain;
use crate::common::*;
use countersign::atomic::TEMP_PREFIX;

/// A random number below `n` (n > 0).
fn below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

/// Starts `cmd` and kills it with SIGKILL after `after`, unless it ended first. Returns
/// whether it was killed (rather than finishing on its own).
fn kill_after(mut cmd: Command, after: Duration) -> bool {
    let mut child: Child =
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "the command failed on its own before the kill");
            return false;
        }
        if started.elapsed() >= after {
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How long `cmd` takes to run to the end, as the upper bound of the kill moments.
fn duration_of(mut cmd: Command) -> Duration {
    let started = Instant::now();
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    started.elapsed()
}

/// A moment between 0 and 120% of `full`, so that some runs finish and some are killed in
/// every phase: start-up, hashing, staging, renaming. Every other moment falls in the last
/// fifth, where the files are written and renamed into place.
fn random_moment(full: Duration) -> Duration {
    let full = full.as_micros() as u64;
    let micros =
        if below(2) == 0 { below(full * 12 / 10 + 1) } else { full * 8 / 10 + below(full * 4 / 10 + 1) };
    Duration::from_micros(micros)
}

/// The text with what differs between two complete runs made alike masked: digests (runs of
/// 32 or more hex digits) and digits (the signing time).
fn mask_run_specific(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let run = text[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if run >= 32 {
            out.push(b'H');
            i += run;
        } else {
            out.push(if text[i].is_ascii_digit() { b'0' } else { text[i] });
            i += 1;
        }
    }
    out
}

fn is_partial(name: &str) -> bool {
    Path::new(name).file_name().is_some_and(|n| n.to_string_lossy().starts_with(TEMP_PREFIX))
}

/// A folder with an openssl-made Ed25519 key (`key.pem`), its certificate (`vendor.crt`) and
/// an app (`app.jar`) of about `size` bytes, its history in `home/`; `None` (skipped)
/// without openssl.
fn signing_bench(plugin_key: &str, size: usize) -> Option<Fixture> {
    if !openssl_available() {
        return None;
    }
    Some(Fixture::openssl().own_home().jar("app.jar", plugin_key, "1.0", size))
}

/// `sign` of the bench's app into `out`, a folder bundle or (`zip`) a zip.
fn sign_into(f: &Fixture, out: &Path, zip: bool) -> Command {
    let sign = SignCmd::new(f).out(out);
    (if zip { sign.arg("--zip") } else { sign }).command()
}

/// What complete runs write into `name`, and how long the shortest of three took. Their
/// text files (INSTALL.md, manifest.json) carry the signing time and the manifest's hash, so
/// those are compared with both masked. The kill moments are fractions of how long a
/// complete run takes: the shortest of three, since one slow run (this shared machine's
/// speed drifts) put most moments after the end.
fn reference(f: &Fixture, name: &str, zip: bool) -> (std::path::PathBuf, Duration) {
    let out = f.path().join(name);
    std::fs::create_dir(&out).unwrap();
    let mut took = duration_of(sign_into(f, &out, zip));
    for again in 0..2 {
        let timing = f.path().join(format!("{name}-timing-{again}"));
        std::fs::create_dir(&timing).unwrap();
        took = took.min(duration_of(sign_into(f, &timing, zip)));
        std::fs::remove_dir_all(&timing).unwrap();
    }
    (out, took)
}

/// Every finished file a killed run left in `out` is whole: byte-identical to the complete
/// run's in `reference_dir` (text files with the run's own figures masked), a zip readable
/// to its end with all its members.
fn assert_each_finished_file_is_whole(round: usize, out: &Path, reference_dir: &Path, finished: &[&String]) {
    for f in finished {
        let bytes = std::fs::read(out.join(f)).unwrap();
        if f.ends_with(".md") || f.ends_with(".json") {
            assert!(
                mask_run_specific(&bytes)
                    == mask_run_specific(&std::fs::read(reference_dir.join(f)).unwrap()),
                "round {round}: {f} is not whole"
            );
        } else if f.ends_with(".zip") {
            // Whole when every member reads back with its CRC (verify runs below too).
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
                .unwrap_or_else(|e| panic!("round {round}: {f} is not whole: {e}"));
            for i in 0..archive.len() {
                let mut member = archive.by_index(i).unwrap();
                std::io::copy(&mut member, &mut std::io::sink())
                    .unwrap_or_else(|e| panic!("round {round}: {f} is not whole: {e}"));
            }
            let reference_members =
                zip::ZipArchive::new(std::fs::File::open(reference_dir.join(f)).unwrap()).unwrap().len();
            assert_eq!(archive.len(), reference_members, "round {round}: {f} is missing members");
        } else {
            assert!(
                bytes == std::fs::read(reference_dir.join(f)).unwrap(),
                "round {round}: {f} differs from a complete run's"
            );
        }
    }
}

/// `verify` on what a killed run left in `out`: a bundle that looks whole (its manifest, or
/// its zip, is there) verifies, any other is refused. Returns whether it looked whole.
fn assert_verified_only_if_whole(
    work: &Path,
    round: usize,
    out: &Path,
    zip: bool,
    finished: &[&String],
) -> bool {
    // The command line's folder bundle leaves the app beside the folder, not in it.
    if !zip {
        std::fs::copy(work.join("app.jar"), out.join("app.jar")).unwrap();
    }
    let (code, stdout, stderr) =
        run(&["verify", &out.join(if zip { "app-signed.zip" } else { "." }).display().to_string()], work);
    let looks_complete = if zip {
        finished.iter().any(|f| f.ends_with(".zip"))
    } else {
        finished.iter().any(|f| *f == "manifest.json")
    };
    if looks_complete {
        assert_eq!(
            code, 0,
            "round {round}: a bundle that looks whole does not verify: {finished:?}\n{stdout}{stderr}"
        );
    } else {
        assert_ne!(code, 0, "round {round}: an incomplete bundle verified: {finished:?}");
    }
    looks_complete
}

/// Signs a 24 MB jar into fresh folders (bundle folder and zip) and kills the process at
/// random moments. After each kill: a folder with a manifest verifies, one without it is
/// refused as incomplete, a zip present verifies, and every file present is byte-identical
/// to the one a complete run writes (text files with the signing time and hashes masked).
#[test]
fn killing_a_signing_never_leaves_a_bundle_that_looks_whole() {
    let Some(f) = signing_bench("com.acme.crash", 24 << 20) else { return };
    let work = f.path();
    let (ref_folder, folder_time) = reference(&f, "reference-folder", false);
    let (ref_zip, zip_time) = reference(&f, "reference-zip", true);
    let complete_folder = listing(&ref_folder);
    assert!(complete_folder.iter().any(|f| f == "manifest.json"), "{complete_folder:?}");
    println!(
        "complete bundles: folder {complete_folder:?}, zip {:?}; {folder_time:?} folder, {zip_time:?} zip",
        listing(&ref_zip)
    );

    const ROUNDS: usize = 200;
    let (mut killed, mut partial_bundles, mut whole_bundles, mut leftovers) = (0, 0, 0, 0);
    for round in 0..ROUNDS {
        let zip = round % 2 == 1;
        let out = work.join(format!("out-{round}"));
        std::fs::create_dir(&out).unwrap();
        let full = if zip { zip_time } else { folder_time };
        if !kill_after(sign_into(&f, &out, zip), random_moment(full)) {
            continue;
        }
        killed += 1;
        let present: Vec<String> = listing(&out);
        leftovers += present.iter().filter(|f| is_partial(f)).count();
        let finished: Vec<&String> = present.iter().filter(|f| !is_partial(f)).collect();
        assert_each_finished_file_is_whole(round, &out, if zip { &ref_zip } else { &ref_folder }, &finished);
        if finished.is_empty() {
            continue;
        }
        if assert_verified_only_if_whole(work, round, &out, zip, &finished) {
            whole_bundles += 1;
        } else {
            partial_bundles += 1;
        }
    }
    println!(
        "signing: {ROUNDS} runs, {killed} killed: {whole_bundles} left a whole bundle, {partial_bundles} an incomplete one that verify refuses, {leftovers} hidden {TEMP_PREFIX}* files; no corrupt outcome"
    );
    assert!(killed >= ROUNDS / 2, "only {killed} of {ROUNDS} runs were killed before they finished");
    a_bundle_without_its_manifest_does_not_verify(work, &ref_folder, &complete_folder);
    signing_again_clears_the_leftovers(&f, ROUNDS);
    // The history survives being killed mid-append: it loads, with any cut-off line skipped.
    let (code, _, stderr) = f.run(&["history", "--json"]);
    assert_eq!(code, 0, "history after the kills: {stderr}");
}

/// Random kills rarely land between the renames (microseconds apart), so that state is
/// made by hand: every file of a complete bundle but the manifest, renamed last.
fn a_bundle_without_its_manifest_does_not_verify(work: &Path, ref_folder: &Path, complete_folder: &[String]) {
    let between = work.join("between-renames");
    std::fs::create_dir(&between).unwrap();
    for f in complete_folder.iter().filter(|f| *f != "manifest.json") {
        std::fs::copy(ref_folder.join(f), between.join(f)).unwrap();
    }
    std::fs::copy(work.join("app.jar"), between.join("app.jar")).unwrap();
    let (code, _, stderr) = run(&["verify", &between.display().to_string()], work);
    assert_eq!(code, 2, "a bundle without its manifest must not verify: {stderr}");
    assert!(stderr.contains("no manifest.json"), "{stderr}");
}

/// The next signing into a folder clears what killed ones left there, once they are a
/// minute old (made so here) and their process is gone.
fn signing_again_clears_the_leftovers(f: &Fixture, rounds: usize) {
    let mut swept = 0;
    for round in 0..rounds {
        let out = f.path().join(format!("out-{round}"));
        let partials: Vec<String> = listing(&out).into_iter().filter(|f| is_partial(f)).collect();
        if partials.is_empty() {
            continue;
        }
        for p in &partials {
            let file = std::fs::File::options().write(true).open(out.join(p)).unwrap();
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(120)).unwrap();
        }
        let mut again = sign_into(f, &out, round % 2 == 1);
        again.arg("--overwrite");
        duration_of(again);
        let left: Vec<String> = listing(&out).into_iter().filter(|f| is_partial(f)).collect();
        assert!(left.is_empty(), "round {round}: {left:?} were not cleared");
        swept += partials.len();
    }
    println!("signing again into the same folders cleared all {swept} leftovers");
}

/// One key-index change, by name, and its command line.
fn key_change(round: usize, temporary: &[String], precious: &str) -> (String, Vec<String>) {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match (below(5), temporary.first()) {
        (0 | 1, _) | (_, None) => {
            let name = format!("temp-{round}");
            (name.clone(), args(&["keys", "generate", "--name", &name]))
        }
        (2, Some(old)) => {
            (format!("renamed-{round}"), args(&["keys", "rename", old, &format!("renamed-{round}")]))
        }
        (3, Some(old)) => (old.clone(), args(&["keys", "delete", old, "--yes"])),
        _ => (
            precious.to_owned(),
            args(&[
                "cert",
                "self-sign",
                precious,
                "--cn",
                "Acme Ltd",
                "--days",
                "30",
                "--out",
                &format!("cert-{round}.crt"),
            ]),
        ),
    }
}

/// The index as `keys list --json` reports it: (name, fingerprint, keychain state), and the
/// keychain entries no key lists.
fn listed(k: &Keychain) -> (Vec<(String, String, String)>, Vec<String>) {
    let (code, out, err) = k.run(&["keys", "list", "--json"]);
    assert_eq!(code, 0, "the index no longer loads: {out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                k["fingerprint"].as_str().unwrap().to_owned(),
                k["keychain"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let orphans = json["unlisted_keychain_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    (keys, orphans)
}

/// Generates, renames, deletes and certifies keys in the real keychain and kills each
/// command at a random moment. After every kill the index loads, every key it lists has
/// its secret, and the keys made before the storm are all there with the same fingerprints.
#[test]
fn killing_key_changes_never_corrupts_the_index_or_loses_a_key() {
    let Some(k) = Keychain::new() else { return };
    let precious = ["precious-ed", "precious-ec"];
    k.ok(&["keys", "generate", "--name", precious[0]]);
    k.ok(&["keys", "generate", "--name", precious[1], "--algorithm", "p384"]);
    let (before, _) = listed(&k);
    let timing = (0..3)
        .map(|_| {
            let took = duration_of(k.cmd(&k.home(), &k.service, &["keys", "generate", "--name", "timing"]));
            k.ok(&["keys", "delete", "timing", "--yes"]);
            took
        })
        .min()
        .unwrap();

    const ROUNDS: usize = 150;
    let (mut killed, mut max_orphans) = (0, 0);
    let mut temporary: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let (_, args) = key_change(round, &temporary, precious[round % 2]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if kill_after(k.cmd(&k.home(), &k.service, &args), random_moment(timing)) {
            killed += 1;
        }
        let (keys, orphans) = listed(&k);
        for (name, fingerprint, _) in before.iter().filter(|(n, _, _)| precious.contains(&n.as_str())) {
            assert!(
                keys.iter().any(|(n, f, state)| n == name && f == fingerprint && state == "ok"),
                "round {round} ({args:?}): lost {name}: {keys:?}"
            );
        }
        for (name, _, state) in &keys {
            assert_eq!(
                state, "ok",
                "round {round} ({args:?}): key {name} is listed without a working secret"
            );
        }
        max_orphans = max_orphans.max(orphans.len());
        temporary = keys.into_iter().map(|(n, _, _)| n).filter(|n| !precious.contains(&n.as_str())).collect();
    }
    // Every unlisted entry the kills left is a whole key: adopting each lists it, working.
    let (_, orphans) = listed(&k);
    for (i, id) in orphans.iter().enumerate() {
        k.ok(&["keys", "adopt", id, "--name", &format!("adopted-{i}")]);
    }
    let (keys, left) = listed(&k);
    assert!(left.is_empty(), "{left:?}");
    for (name, _, state) in &keys {
        assert_eq!(state, "ok", "{name} after adoption");
    }
    // The precious keys still sign.
    let dir = k.path().join("sign");
    std::fs::create_dir(&dir).unwrap();
    make_app_jar(&dir.join("app.jar"), "com.acme.after", "1.0", 100);
    k.ok(&["sign", "sign/app.jar", "--key", precious[0], "--out", "sign"]);
    println!(
        "key index: {ROUNDS} changes, {killed} killed mid-way; index loaded every time, no key lost, at most {max_orphans} unlisted keychain entries (reported by `keys list`), {} at the end, all adopted back as working keys",
        orphans.len()
    );
    assert!(killed >= ROUNDS / 5, "only {killed} of {ROUNDS} changes were killed");
}

/// Runs `countersign sign` with its output folder on a tiny tmpfs (in a private mount
/// namespace, so no root is needed), after `prepare` (shell) ran there. Returns the exit
/// code, stderr, and what the folder held afterwards.
fn sign_on_tmpfs(work: &Path, size: &str, prepare: &str, zip: bool) -> Option<(i32, String, Vec<String>)> {
    let script = format!(
        r#"set -e; mount -t tmpfs -o size={size} tmpfs "$1"; {prepare}
set +e; "$2" sign app.jar --key-file key.pem --cert vendor.crt --out "$1" {zip} >/dev/null 2>"$3"; code=$?
echo "exit=$code"; cd "$1" && ls -A"#,
        zip = if zip { "--zip" } else { "" }
    );
    let out_dir = work.join("tiny");
    std::fs::create_dir_all(&out_dir).unwrap();
    let err_file = work.join("stderr.txt");
    let out = Command::new("unshare")
        .args(["-r", "-m", "sh", "-c", &script, "sh"])
        .arg(&out_dir)
        .arg(env!("CARGO_BIN_EXE_countersign"))
        .arg(&err_file)
        .current_dir(work)
        .env("COUNTERSIGN_HOME", work.join("home"))
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = stdout.lines();
    let code = lines.next()?.strip_prefix("exit=")?.parse().ok()?;
    let files = lines.map(str::to_owned).collect();
    Some((code, std::fs::read_to_string(err_file).unwrap_or_default(), files))
}

/// A full disk (a tmpfs with little room) and a read-only folder: one sentence, exit 2, and
/// nothing but what was there before.
#[test]
fn a_full_disk_or_read_only_folder_leaves_nothing_behind() {
    let Some(f) = signing_bench("com.acme.full", 300 << 10) else { return };
    let work = f.path();
    if sign_on_tmpfs(work, "64k", "true", false).is_none() {
        let msg =
            "no private mount namespace (`unshare -r -m` failed), so no tiny tmpfs for the full-disk test";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        skipped(msg);
        return;
    }
    // The zip (which holds the 300 KB jar) cannot fit at all; the folder bundle fits only
    // when the filler leaves room. Fillers of several sizes make the disk run out at
    // different files of the bundle.
    let mut cases: Vec<(String, String, bool)> = vec![("64k".into(), "true".into(), true)];
    for free in [0, 1, 2, 3, 4, 6] {
        cases.push((
            "64k".into(),
            format!(r#"head -c $((65536 - {free} * 1024)) /dev/zero > "$1/filler" 2>/dev/null || true"#),
            false,
        ));
    }
    cases.push(("64k".into(), r#"touch "$1/existing.txt"; mount -o remount,ro "$1""#.into(), false));
    let mut refused = 0;
    for (size, prepare, zip) in &cases {
        let Some((code, stderr, files)) = sign_on_tmpfs(work, size, prepare, *zip) else {
            panic!("the tmpfs run failed: {prepare}")
        };
        let before: Vec<&str> =
            ["filler", "existing.txt"].into_iter().filter(|f| files.iter().any(|g| g == f)).collect();
        if code == 0 {
            continue; // there was room after all
        }
        refused += 1;
        assert_eq!(code, 2, "{prepare}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{prepare}: one sentence: {stderr}");
        assert!(
            stderr.contains("free space")
                || stderr.contains("may not write")
                || stderr.contains("read-only")
                || stderr.contains("writable"),
            "{prepare}: the sentence says what to do: {stderr}"
        );
        assert_eq!(files, before, "{prepare}: something was left behind");
    }
    assert!(refused >= 3, "only {refused} of {} cases ran out of room", cases.len());
    println!("full disk / read-only: {refused} of {} runs refused cleanly", cases.len());
}
