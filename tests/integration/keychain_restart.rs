//! The keychain service dies while Countersign is using it: GNOME Keyring is stopped with a
//! call of ours waiting on it, then killed, and D-Bus starts a new one, locked, as it does
//! on a desktop. Countersign must say exactly that (not "locked", which sends people after
//! the wrong fix), lose no key, list no key without its secret, and work again once the
//! keyring is unlocked.
//!
//! It kills and replaces the session's keyring daemon, so it takes the keychain alone
//! (`Keychain::alone`: no other test of the process uses it meanwhile), and runs only where the keyring
//! is a throwaway one whose password it is told: `.ci/run` sets
//! `COUNTERSIGN_TEST_KEYRING_PASSWORD`. Elsewhere it skips (and fails when `CI` is set).
// Linux only: it needs GNOME Keyring.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::keychain::{Keychain, keyring_daemon, unlock_keyring};
use crate::common::*;
use countersign::keys::Algorithm;
use countersign::keystore::{KeyHealth, KeyStore, KeyStoreError, KeychainProblem, Secrets};

const PASSWORD_ENV: &str = "COUNTERSIGN_TEST_KEYRING_PASSWORD";

/// Bytes waiting, unread, in the sockets of process `pid` (`ss` reads the kernel's queues).
fn unread_bytes(pid: u32) -> u64 {
    let out = Command::new("ss").args(["-xpn"]).output().expect("ss runs");
    let needle = format!("pid={pid},");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&needle))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
        .sum()
}

fn signal(pid: u32, sig: &str) {
    assert!(
        Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success(),
        "kill {sig} {pid}"
    );
}

/// Runs `op` on a thread while the keyring daemon is stopped, waits until the request sits
/// unread in the daemon's socket, then kills the daemon: `op` is cut off mid-call.
fn kill_daemon_during<T: Send>(op: impl FnOnce() -> T + Send) -> T {
    let daemon = keyring_daemon().expect("a keyring daemon owns org.freedesktop.secrets");
    signal(daemon, "-STOP");
    // Counted once it is stopped: from then on its queues only grow. (Counted before, a
    // message it was still reading could hide ours: seen once under a full test run.)
    let idle = unread_bytes(daemon);
    std::thread::scope(|s| {
        let call = s.spawn(op);
        let start = Instant::now();
        while unread_bytes(daemon) <= idle {
            if start.elapsed() > Duration::from_secs(60) {
                // Killed, the daemon lets the call return, so the test fails instead of the
                // scope waiting for ever on a call to a stopped daemon.
                signal(daemon, "-KILL");
                let _ = call.join();
                panic!("the call never reached the keyring daemon");
            }
            std::thread::yield_now();
        }
        signal(daemon, "-KILL");
        call.join().expect("the call returns")
    })
}

/// Leaves an unlocked keyring behind whatever happens, so that the tests after this one
/// (which share the session's keyring) find one.
struct UnlockOnDrop<'a>(&'a str);

impl Drop for UnlockOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            unlock_keyring(self.0, keyring_daemon());
        }
    }
}

fn assert_restarted(result: Result<impl std::fmt::Debug, KeyStoreError>, what: &str) {
    match result {
        Err(e @ KeyStoreError::Keychain { problem: KeychainProblem::Restarted, .. }) => {
            let text = e.to_string();
            for must in [
                "stopped while Countersign was using it",
                "comes back locked",
                "no listed key lost its private key",
                "Unlock the keyring",
            ] {
                assert!(text.contains(must), "{what}: {text:?} should say {must:?}");
            }
        }
        other => panic!("{what}: expected the keychain-restarted error, got {other:?}"),
    }
}

#[test]
fn a_keyring_that_dies_mid_call_is_reported_as_such_and_no_key_is_lost() {
    let Some(k) = Keychain::alone() else { return };
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let msg = format!(
                "{PASSWORD_ENV} is not set: this test replaces the session's keyring daemon, so it runs only on a throwaway keyring (.ci/run's)"
            );
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            skipped(&msg);
            return;
        }
    };
    if !have_tool("ss", "--version") || !have_tool("dbus-send", "--help") {
        return;
    }
    let _restore = UnlockOnDrop(&password);
    let store = KeyStore::new(k.home(), Secrets::platform(&k.service).expect("keychain"));
    let kept = store.generate("kept", Algorithm::Ed25519).unwrap();
    let doomed = store.generate("doomed", Algorithm::Ed25519).unwrap();

    // A read cut off mid-call: retried on a new connection, which finds a new daemon that
    // is locked; the error says so.
    assert_restarted(kill_daemon_during(|| store.load("kept").map(|(r, _)| r.name)), "reading a key");
    // The same connection, later: still the same sentence's cause, told as locked.
    let locked = store.load("kept").map(|(r, _)| r.name);
    assert!(matches!(&locked, Err(KeyStoreError::Keychain { .. })), "{locked:?}");

    // Unlocked again (a new daemon): the connection, whose session died with the old one,
    // is renewed without a word, and the key is there.
    unlock_keyring(&password, keyring_daemon());
    let (record, _) = store.load("kept").expect("the key reads again once the keyring is unlocked");
    assert_eq!(record.fingerprint, kept.fingerprint);

    // A delete cut off mid-call: its outcome is unknown, so the key is not listed again
    // (a listed key must never lack its secret), and its secret, which the dead daemon never
    // deleted, is an unlisted entry that can be listed again: nothing is lost.
    assert_restarted(kill_daemon_during(|| store.delete("doomed").map(|r| r.name)), "deleting a key");
    unlock_keyring(&password, keyring_daemon());
    let names: Vec<String> = store.list().unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, vec!["kept".to_owned()], "the interrupted delete left the key unlisted");
    assert_eq!(
        store.orphans().unwrap(),
        Some(vec![doomed.id.clone()]),
        "its secret is still in the keychain, reported as unlisted"
    );
    store.adopt(&doomed.id, "doomed-again").unwrap();
    for r in store.list().unwrap() {
        assert_eq!(store.health(&r).unwrap(), KeyHealth::Ok, "{}", r.name);
    }
    println!(
        "the keyring daemon was killed twice mid-call; both calls were reported as a restarted keyring, and no key was lost"
    );
}
