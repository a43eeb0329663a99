//! The history of signings through the real binary: recorded by `sign`, listed, searched,
//! printed as JSON, exported as CSV, and read past a torn line.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use serde_json::Value;

const HEADER: &str = "time,file,plugin_key,app_name,version,size,sha256,key_name,key_fingerprint,algorithm,note,bundle_dir,artifact_path,files,signature_base64,override_compromised";

/// The binary with its own data folder and working folder.
fn cmd(d: &Path, args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args).current_dir(d).env("COUNTERSIGN_HOME", d.join("home"));
    c
}

fn run_in(d: &Path, args: &[&str]) -> (i32, String, String) {
    decode(cmd(d, args).output().expect("the binary runs"))
}

fn ok(d: &Path, args: &[&str]) -> String {
    let (code, out, err) = run_in(d, args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// Two jars signed with a key file (no certificate) and notes (one with a comma, one a
/// would-be formula), each into its own folder (`tools/`, `reports/`); the history in `home/`.
fn sign_two() -> Fixture {
    let f = Fixture::folder()
        .own_home()
        .openssl_key()
        .jar("tools-4.2.0.jar", "com.acme.tools", "4.2.0", 20_000)
        .jar("reports-1.0.jar", "com.acme.reports", "1.0", 10_000)
        .out_dir("tools")
        .out_dir("reports");
    SignCmd::new(&f)
        .jar("tools-4.2.0.jar")
        .out("tools")
        .args(&["--note", "for Globex, ticket SUP-1234"])
        .ok();
    SignCmd::new(&f)
        .jar("reports-1.0.jar")
        .out("reports")
        .args(&["--note", "=HYPERLINK(\"x\") for \"Initech\""])
        .ok();
    f
}

/// A small RFC 4180 reader: rows of fields, quotes undone.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the CSV does not end with a line end");
    rows
}

#[test]
fn signings_are_listed_newest_first_and_searched() {
    require!(openssl);
    let f = sign_two();
    let d = f.path();
    let out = ok(d, &["history"]);
    let tools = out.find("tools-4.2.0.jar").unwrap_or_else(|| panic!("{out}"));
    let reports = out.find("reports-1.0.jar").unwrap_or_else(|| panic!("{out}"));
    assert!(reports < tools, "newest first: {out}");
    for must in [
        "com.acme.tools 4.2.0",
        "com.acme.reports 1.0",
        "note: for Globex, ticket SUP-1234",
        "signed with a key file (Ed25519, public key ",
        "2 signings.",
    ] {
        assert!(out.contains(must), "{must:?} missing: {out}");
    }
    let out_dir = std::path::absolute(d.join("tools")).unwrap();
    assert!(out.contains(&format!("bundle: {}", out_dir.display())), "{out}");

    let found = ok(d, &["history", "GLOBEX", "sup-1234"]);
    assert!(found.contains("tools-4.2.0.jar") && !found.contains("reports-1.0.jar"), "{found}");
    assert!(found.contains("1 of 2 signings match"), "{found}");
    let none = ok(d, &["history", "globex", "initech"]);
    assert!(none.contains("No signing matches") && !none.contains(".jar"), "{none}");
    let by_version = ok(d, &["history", "reports", "1.0"]);
    assert!(
        by_version.contains("reports-1.0.jar") && !by_version.contains("tools-4.2.0.jar"),
        "{by_version}"
    );
}

#[test]
fn json_lists_the_entries_as_recorded() {
    require!(openssl);
    let f = sign_two();
    let d = f.path();
    let v = json(&ok(d, &["history", "--json"]));
    assert_eq!(v["ok"], true);
    assert_eq!(v["total"], 2);
    assert_eq!(v["skipped_lines"], 0);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let (reports, tools) = (&entries[0], &entries[1]);
    assert_eq!(tools["file"], "tools-4.2.0.jar");
    assert_eq!(tools["plugin_key"], "com.acme.tools");
    assert_eq!(tools["app_name"], "Test App");
    assert_eq!(tools["version"], "4.2.0");
    assert_eq!(tools["key_name"], Value::Null);
    assert_eq!(tools["algorithm"], "Ed25519");
    assert_eq!(tools["note"], "for Globex, ticket SUP-1234");
    assert_eq!(tools["size"], std::fs::metadata(d.join("tools-4.2.0.jar")).unwrap().len());
    let sha = openssl(&["dgst", "-sha256", "-r", "tools-4.2.0.jar"], d);
    assert!(String::from_utf8_lossy(&sha).starts_with(tools["sha256"].as_str().unwrap()));
    assert_eq!(
        tools["signature_base64"],
        std::fs::read_to_string(d.join("tools/tools-4.2.0.jar.sig")).unwrap().as_str()
    );
    assert_eq!(
        tools["files"],
        serde_json::json!(["tools-4.2.0.jar", "tools-4.2.0.jar.sig", "INSTALL.md", "manifest.json"])
    );
    let manifest = json(&std::fs::read_to_string(d.join("reports/manifest.json")).unwrap());
    assert_eq!(reports["key_fingerprint"], manifest["public_key_sha256"]);
    assert_eq!(reports["time"], manifest["signed_at"]);
    assert_eq!(tools["key_fingerprint"], reports["key_fingerprint"]);
    assert!(Path::new(tools["artifact_path"].as_str().unwrap()).is_absolute());
    assert!(tools["artifact_path"].as_str().unwrap().ends_with("tools-4.2.0.jar"));

    let filtered = json(&ok(d, &["history", "initech", "--json"]));
    assert_eq!(filtered["total"], 2);
    assert_eq!(filtered["entries"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["entries"][0]["file"], "reports-1.0.jar");
}

#[test]
fn csv_export_parses_back_and_never_replaces_a_file() {
    require!(openssl);
    let f = sign_two();
    let d = f.path();
    let out = ok(d, &["history", "--csv", "all.csv"]);
    assert!(out.contains("Wrote 2 signings to all.csv."), "{out}");
    let text = std::fs::read_to_string(d.join("all.csv")).unwrap();
    assert!(text.starts_with(&format!("{HEADER}\r\n")), "{text}");
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 3, "{text}");
    let header: Vec<&str> = HEADER.split(',').collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "{rows:?}");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let listed = json(&ok(d, &["history", "--json"]));
    for (row, entry) in rows[1..].iter().zip(listed["entries"].as_array().unwrap()) {
        for name in ["time", "file", "plugin_key", "version", "sha256", "key_fingerprint", "bundle_dir"] {
            assert_eq!(row[col(name)], entry[name].as_str().unwrap(), "{name}");
        }
        assert_eq!(row[col("size")], entry["size"].to_string());
        assert_eq!(row[col("key_name")], "");
    }
    assert_eq!(rows[1][col("note")], "'=HYPERLINK(\"x\") for \"Initech\"", "a formula is defused");
    assert_eq!(rows[2][col("note")], "for Globex, ticket SUP-1234");
    assert_eq!(rows[2][col("files")], "tools-4.2.0.jar; tools-4.2.0.jar.sig; INSTALL.md; manifest.json");

    // Filtered export.
    ok(d, &["history", "globex", "--csv", "globex.csv"]);
    let rows = parse_csv(&std::fs::read_to_string(d.join("globex.csv")).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][col("file")], "tools-4.2.0.jar");

    // An existing file stays as it was.
    std::fs::write(d.join("taken.csv"), "keep me").unwrap();
    let (code, out, err) = run_in(d, &["history", "--csv", "taken.csv"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("taken.csv already exists") && err.contains("choose another file name"), "{err}");
    assert_eq!(std::fs::read_to_string(d.join("taken.csv")).unwrap(), "keep me");
    let (code, out, _) = run_in(d, &["history", "--csv", "taken.csv", "--json"]);
    assert_eq!(code, 2);
    assert_eq!(json(&out)["ok"], false);
}

#[test]
fn a_torn_line_is_skipped_with_a_warning() {
    require!(openssl);
    let fixture = sign_two();
    let d = fixture.path();
    let history_file = d.join("home/history.jsonl");
    let mut f = std::fs::OpenOptions::new().append(true).open(&history_file).unwrap();
    f.write_all(br#"{"time":"2026-01-01T00:00:00Z","file":"torn.jar","artifact_pa"#).unwrap();
    drop(f);

    let (code, out, err) = run_in(d, &["history"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("warning: 1 line in") && err.contains("skipped"), "{err}");
    assert!(
        out.contains("tools-4.2.0.jar") && out.contains("reports-1.0.jar") && !out.contains("torn.jar"),
        "{out}"
    );

    // The next signing starts on a line of its own and is listed too.
    make_app_jar(&d.join("third-3.0.jar"), "com.acme.third", "3.0", 1_000);
    SignCmd::new(&fixture).jar("third-3.0.jar").ok();
    let v = json(&ok(d, &["history", "--json"]));
    assert_eq!(v["skipped_lines"], 1);
    let files: Vec<&str> =
        v["entries"].as_array().unwrap().iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["third-3.0.jar", "reports-1.0.jar", "tools-4.2.0.jar"]);
}

#[test]
fn an_empty_history_says_so_and_a_failed_record_does_not_fail_signing() {
    require!(openssl);
    let dir = tempdir();
    let d = dir.path();
    let out = ok(d, &["history"]);
    assert!(out.contains("No signings recorded yet"), "{out}");
    assert!(!d.join("home").exists(), "listing creates nothing");

    // The data folder is a file: the history cannot be written, yet the bundle is.
    std::fs::write(d.join("home"), "not a folder").unwrap();
    openssl_ed25519_key(d, "key.pem");
    make_app_jar(&d.join("app-1.0.jar"), "com.acme.app", "1.0", 1_000);
    let (code, out, err) = run_in(d, &["sign", "app-1.0.jar", "--key-file", "key.pem"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("warning: Could not add to the signing history"), "{err}");
    assert!(d.join("app-1.0.jar.sig").is_file());
}
