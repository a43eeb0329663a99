//! Two instances at once: the window (driven headlessly, in this process) and several
//! command lines (separate processes) generate, rename and delete keys in one data folder and
//! one keychain at the same time, some of them racing for the same name. Afterwards the index
//! and the keychain must agree exactly: every listed key has its secret, every secret of ours
//! is listed, and each instance's own changes all landed.
// Linux only: it needs the Secret Service's own listing (secret-tool).
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::harness::Window;
use crate::common::keychain::Keychain;

const RUNS: usize = 10;
const COMMAND_LINES: usize = 3;
const KEYS_EACH: usize = 4;

/// Outcomes of the racing generate/delete of one shared name.
#[derive(Default)]
struct Race {
    made: AtomicUsize,
    deleted: AtomicUsize,
}

/// One command-line instance: makes its own keys, renames one, deletes one, and races the
/// others for the shared name. Every command must succeed, or (for the race only) refuse
/// with the sentence for a name taken or missing.
fn command_line(k: &Keychain, run: usize, me: usize, race: &Race) {
    let name = |i: usize| format!("r{run}-cli{me}-k{i}");
    for i in 0..KEYS_EACH {
        k.ok(&["keys", "generate", "--name", &name(i)]);
    }
    k.ok(&["keys", "rename", &name(0), &format!("r{run}-cli{me}-renamed")]);
    k.ok(&["keys", "delete", &name(1), "--yes"]);
    let shared = format!("r{run}-shared");
    for _ in 0..2 {
        let (code, out, err) = k.run(&["keys", "generate", "--name", &shared]);
        match code {
            0 => _ = race.made.fetch_add(1, Ordering::SeqCst),
            _ => assert!(err.contains("exists already"), "generate {shared}: {out}{err}"),
        }
        let (code, out, err) = k.run(&["keys", "delete", &shared, "--yes"]);
        match code {
            0 => _ = race.deleted.fetch_add(1, Ordering::SeqCst),
            _ => assert!(err.contains("There is no key named"), "delete {shared}: {out}{err}"),
        }
    }
}

/// The window instance: generates, renames and deletes its own keys through its controls
/// while the command lines run, keeping the last one.
fn window_instance(w: &mut Window, run: usize) {
    for i in 0..KEYS_EACH {
        let name = format!("r{run}-win-k{i}");
        w.click("New key…");
        w.type_into("Key name", &name);
        w.click("Generate key");
        w.expect(&format!("Made Ed25519 key \"{name}\""));
        if i + 1 == KEYS_EACH {
            break;
        }
        let renamed = format!("r{run}-win-renamed{i}");
        w.type_into("New name", &renamed);
        w.click("Rename");
        w.click("Delete…");
        w.click(&format!("Delete \"{renamed}\""));
        w.expect_not(&format!("Delete \"{renamed}\""));
    }
}

/// Keychain entries of this test's service, as the Secret Service itself lists them.
fn keychain_ids(k: &Keychain) -> BTreeSet<String> {
    let out = Command::new("secret-tool").args(["search", "--all", "service", &k.service]).output().unwrap();
    // secret-tool prints the attributes on stderr or stdout depending on its version.
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    text.lines().filter_map(|l| l.strip_prefix("attribute.username = ")).map(str::to_owned).collect()
}

/// Every way the index and keychain can disagree, as sentences (empty when they agree).
fn inconsistencies(k: &Keychain) -> Vec<String> {
    let mut problems = Vec::new();
    let (code, out, err) = k.run(&["keys", "list", "--json"]);
    if code != 0 {
        return vec![format!("the index does not load: {out}{err}")];
    }
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys = json["keys"].as_array().unwrap();
    let index = std::fs::read(k.home().join("keys.json")).unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let listed: BTreeSet<String> =
        index["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect();
    let stored = keychain_ids(k);
    for key in keys {
        if key["keychain"] != "ok" {
            problems.push(format!("{} is listed but its keychain entry is {}", key["name"], key["keychain"]));
        }
    }
    for id in listed.difference(&stored) {
        problems.push(format!("index entry {id} has no keychain entry"));
    }
    for id in stored.difference(&listed) {
        problems.push(format!("keychain entry {id} is not listed"));
    }
    if !json["unlisted_keychain_entries"].as_array().unwrap().is_empty() {
        problems.push(format!("keys list reports unlisted entries: {}", json["unlisted_keychain_entries"]));
    }
    if listed.len() != keys.len() {
        problems.push("two keys share a keychain entry".into());
    }
    problems
}

#[test]
fn the_window_and_command_lines_change_keys_at_once_and_index_and_keychain_agree() {
    let _alone = crate::common::keychain::alone();
    // Hundreds of short-lived command lines: the load under which GNOME Keyring 42 can abort.
    crate::common::keychain::again_if_the_daemon_dies(race_in_one_folder);
}

fn race_in_one_folder() {
    let Some(k) = Keychain::system() else { return };
    let mut w = Window::open(&k);
    w.click("I already have a key: import it");
    let mut total_problems = Vec::new();
    let mut operations = 0;
    // Every name that should be listed: each run's survivors, added as the runs go.
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for run in 0..RUNS {
        let race = Race::default();
        std::thread::scope(|s| {
            for me in 0..COMMAND_LINES {
                let (k, race) = (&k, &race);
                s.spawn(move || command_line(k, run, me, race));
            }
            window_instance(&mut w, run);
        });
        // Per command line: KEYS_EACH generates, a rename, a delete, 2 races of 2 steps;
        // the window: KEYS_EACH generates, and a rename and a delete for all but the last.
        operations += COMMAND_LINES * (KEYS_EACH + 2 + 4) + KEYS_EACH + 2 * (KEYS_EACH - 1);

        let problems = inconsistencies(&k);
        total_problems.extend(problems.iter().map(|p| format!("run {run}: {p}")));
        let names: BTreeSet<String> = w.store.list().unwrap().into_iter().map(|r| r.name).collect();
        for me in 0..COMMAND_LINES {
            expected.insert(format!("r{run}-cli{me}-renamed"));
            for i in 2..KEYS_EACH {
                expected.insert(format!("r{run}-cli{me}-k{i}"));
            }
        }
        expected.insert(format!("r{run}-win-k{}", KEYS_EACH - 1));
        let made = race.made.load(Ordering::SeqCst);
        let deleted = race.deleted.load(Ordering::SeqCst);
        assert!(made >= 1 && deleted <= made, "run {run}: the race made {made} and deleted {deleted}");
        if made > deleted {
            expected.insert(format!("r{run}-shared"));
        }
        assert_eq!(
            made - deleted,
            usize::from(names.contains(&format!("r{run}-shared"))),
            "run {run}: made {made}, deleted {deleted}"
        );
        assert_eq!(names, expected, "run {run}: every instance's changes landed, and only those");
    }
    // The window, refreshed, shows what the command lines did too.
    w.harness.state_mut().refresh();
    w.settle();
    w.expect(&format!("r{}-cli0-renamed", RUNS - 1));
    println!(
        "{RUNS} runs of one window and {COMMAND_LINES} command lines at once: {operations} key operations, {} inconsistencies",
        total_problems.len()
    );
    assert!(total_problems.is_empty(), "index and keychain disagree:\n{}", total_problems.join("\n"));
}
