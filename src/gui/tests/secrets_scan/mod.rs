//! Secret hygiene: after every user flow, through the real binary and through the window,
//! no private key may be found anywhere the app writes or shows things: the data folder
//! (keys.json, history.jsonl, anything else), the output folders (bundles, zips and what is
//! inside them), the temporary folder, every command's stdout and stderr, and the window's
//! accessibility tree and clipboard. The keys are known because the test made them with
//! openssl, or decrypted the encrypted backup the user asked for; the scan looks for them in
//! every encoding a leak could take (raw, hex, Base64 in all alignments, PKCS#8 and SEC1 DER,
//! PEM bodies, JSON-escaped and line-wrapped text, the Ed25519 expanded secret).
//!
//! A scan that cannot find anything would pass vacuously, so the scanner is first shown to
//! find each key in the test's own plaintext key files, and in synthetic leaks of each
//! encoding.

mod cli;
mod keys;
mod scanner;
mod window;

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::keychain::Keychain;
use crate::common::*;
use base64ct::{Base64Url, Encoding};
use cli::cli_flows;
use countersign::keys::{Algorithm, KeyError, PrivateKey};
use countersign::keystore::{KeyStore, KeyStoreError, Secrets};
use keys::KeySecrets;
use scanner::Scanner;
use window::window_flows;

const PASS: &str = "correct horse battery staple";

/// Everything the flows showed, and which flows ran.
#[derive(Default)]
struct Shown {
    /// (label, bytes): stdout and stderr of every command, the window's text and clipboard.
    texts: Vec<(String, Vec<u8>)>,
    flows: BTreeSet<String>,
    commands: usize,
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A new Ed25519 key that openssl writes to `path`, encrypted under [`PASS`].
fn openssl_encrypted_ed25519(path: &Path) {
    let dir = path.parent().unwrap();
    let pass = format!("pass:{PASS}");
    openssl(&["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass", &pass, "-out", s(path)], dir);
}

// ---------------------------------------------------------------------------------------

#[test]
fn no_flow_leaves_a_private_key_in_files_output_or_the_window() {
    require!(openssl);
    let _alone = crate::common::keychain::alone();
    let Some(cli_k) = Keychain::system() else { return };
    let Some(win_k) = Keychain::system() else { return };
    // The window runs in this process: its temporary files go to a folder of the test's.
    let win_tmp = win_k.path().join("tmp");
    std::fs::create_dir_all(&win_tmp).unwrap();
    tempfile::env::override_temp_dir(&win_tmp).expect("nothing else set the temporary folder");

    let mut shown = Shown::default();
    let (mut except, mut keys) = cli_flows(&cli_k, &mut shown);
    let (win_except, win_keys) = window_flows(&win_k, &mut shown);
    except.extend(win_except);
    keys.extend(win_keys);

    let mut scanner = Scanner::new(&keys);

    // The scan can fail: it finds each key in the test's own plaintext key files.
    for f in &except {
        let hits = scanner.hits(&std::fs::read(f).unwrap());
        assert!(!hits.is_empty(), "the scanner finds nothing in the plaintext key file {}", f.display());
    }
    for k in &keys {
        let der = &k.forms[0].1;
        let pem = countersign::pem::encode("PRIVATE KEY", der);
        let json = serde_json::to_string(&serde_json::json!({ "secret": pem })).unwrap();
        let b64 = Base64Url::encode_string(&[b"xy".as_slice(), der, b"z"].concat());
        let hex_colons = countersign::hex::lower(&k.forms[2].1)
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        for (what, hay) in [
            ("JSON-escaped PEM", json.into_bytes()),
            ("misaligned Base64url", b64.into_bytes()),
            ("colon hex", hex_colons.into_bytes()),
        ] {
            assert!(!scanner.hits(&hay).is_empty(), "the scanner misses {what} of {}", k.name);
        }
    }

    for root in [cli_k.path(), win_k.path()] {
        scanner.scan_tree(root, &except);
    }
    let texts = std::mem::take(&mut shown.texts);
    for (label, bytes) in &texts {
        scanner.scan_text(label, bytes);
    }

    eprintln!("secret scan coverage:");
    eprintln!(
        "  flows ({}): {}",
        shown.flows.len(),
        shown.flows.iter().cloned().collect::<Vec<_>>().join("; ")
    );
    eprintln!(
        "  {} commands run; {} keys looked for in {} encodings",
        shown.commands,
        keys.len(),
        scanner.needles.len()
    );
    eprintln!(
        "  {} files and {} zip members scanned, {} outputs (stdout, stderr, accessibility trees, clipboard), {} bytes in all",
        scanner.files, scanner.zip_members, scanner.texts, scanner.bytes
    );
    assert!(
        scanner.files >= 30 && scanner.zip_members >= 10 && shown.commands >= 40,
        "the flows wrote and printed what they should"
    );
    assert!(scanner.leaks.is_empty(), "private key material found:\n{}", scanner.leaks.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Debug and error text, through the public API.

fn secrets_of(key: &PrivateKey) -> KeySecrets {
    let der = key.to_pkcs8_der().unwrap();
    KeySecrets::from_pkcs8("key", &der, None)
}

#[track_caller]
fn assert_clean(scanner: &Scanner, what: &str, text: &str) {
    let hits = scanner.hits(text.as_bytes());
    assert!(hits.is_empty(), "{what} shows key material ({hits:?}):\n{text}");
}

#[test]
fn debug_and_error_text_never_show_key_bytes() {
    for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP384] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let scanner = Scanner::new(&[secrets_of(&key)]);
        // The scanner sees the key where it is.
        assert!(!scanner.hits(key.to_pkcs8_pem().unwrap().as_bytes()).is_empty());
        assert!(!scanner.hits(&key.to_pkcs8_der().unwrap()).is_empty());

        assert_clean(&scanner, "PrivateKey {:?}", &format!("{key:?}"));
        assert_clean(&scanner, "PrivateKey {:#?}", &format!("{key:#?}"));
        assert_clean(&scanner, "Some(PrivateKey)", &format!("{:?}", Some(&key)));

        // A store holding the key (in an in-memory keychain), its records and its load result.
        let dir = tempdir();
        let store =
            KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-debug-test").unwrap());
        let record = store.add("k", &key).unwrap();
        assert_clean(&scanner, "KeyStore", &format!("{store:?} {store:#?}"));
        assert_clean(&scanner, "KeyRecord", &format!("{record:?}"));
        let loaded = store.load("k");
        assert_clean(&scanner, "KeyStore::load", &format!("{loaded:?} {loaded:#?}"));
        assert_eq!(loaded.unwrap().1.public_key(), key.public_key());

        // Errors from the key store, with this key in the keychain.
        let errors: Vec<KeyStoreError> = vec![
            store.add("k", &key).unwrap_err(),
            store.load("nobody").unwrap_err(),
            store.add("", &key).unwrap_err(),
            store.add_certificate("k", &[]).unwrap_err(),
        ];
        for e in &errors {
            assert_clean(&scanner, "KeyStoreError", &format!("{e:?} {e:#?} {e}"));
        }

        // Errors reading damaged and encrypted forms of this key: the input holds the key, the
        // error must not repeat it.
        let der = key.to_pkcs8_der().unwrap().to_vec();
        let pem = key.to_pkcs8_pem().unwrap();
        let encrypted = key.to_encrypted_pem(PASS).unwrap();
        let mut damaged = vec![];
        let mut truncated_der = der.clone();
        truncated_der.pop();
        damaged.push(truncated_der);
        let mut extended = der.clone();
        extended.push(0);
        damaged.push(extended);
        let mut wrong_oid = der.clone();
        let oid_at = wrong_oid
            .windows(3)
            .position(|w| w == [0x2b, 0x65, 0x70] || w == [0x2b, 0x81, 0x04])
            .unwrap_or(0);
        wrong_oid[oid_at + 2] ^= 0x01;
        damaged.push(wrong_oid);
        let mut bad_pem = pem.as_bytes().to_vec();
        let body_end = bad_pem.len() - "-----END PRIVATE KEY-----\n".len() - 2;
        bad_pem[body_end] = b'!';
        damaged.push(bad_pem);
        damaged.push(pem.replace("PRIVATE KEY", "RSA PRIVATE KEY").into_bytes());
        damaged.push(pem.replace("PRIVATE KEY", "PUBLIC KEY").into_bytes());
        let mut errors: Vec<KeyError> = Vec::new();
        for bytes in &damaged {
            if let Err(e) =
                PrivateKey::from_file_bytes(bytes, "damaged.pem", || Ok(zeroize::Zeroizing::new(PASS.into())))
            {
                errors.push(e);
            }
        }
        errors.push(
            PrivateKey::from_file_bytes(encrypted.as_bytes(), "b.pem", || {
                Ok(zeroize::Zeroizing::new("wrong horse".into()))
            })
            .unwrap_err(),
        );
        errors.push(
            PrivateKey::from_file_bytes(encrypted.as_bytes(), "b.pem", || {
                Err(KeyError::NoPassphrase { source_name: "b.pem".into() })
            })
            .unwrap_err(),
        );
        errors.push(key.to_encrypted_pem("short").unwrap_err());
        assert!(errors.len() >= 8, "the damaged forms were refused: {errors:?}");
        for e in &errors {
            assert_clean(&scanner, "KeyError", &format!("{e:?} {e:#?} {e}"));
            let wrapped =
                KeyStoreError::from(KeyError::Malformed { source_name: "x".into(), detail: e.to_string() });
            assert_clean(&scanner, "KeyStoreError::Key", &format!("{wrapped:?} {wrapped}"));
        }
    }
}

/// The window's own state is not printable, but its key rows are: no key bytes in them.
#[test]
fn the_windows_key_rows_debug_without_key_bytes() {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let scanner = Scanner::new(&[secrets_of(&key)]);
    let dir = tempdir();
    let store = KeyStore::new(dir.path().join("home"), Secrets::in_memory("countersign-debug-rows").unwrap());
    store.add("k", &key).unwrap();
    let row: crate::gui::KeyRow = store.overview_of(store.get("k").unwrap());
    assert_clean(&scanner, "KeyRow", &format!("{row:?} {row:#?}"));
}
