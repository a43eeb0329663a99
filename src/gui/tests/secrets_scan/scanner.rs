//! The scanner: many needles looked for at once in files, zips and texts, as they are and with
//! the text folded (a wrapped PEM body, a PEM inside a JSON string, colon-separated hex).

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::keys::{KeySecrets, Needle};

/// Looks for many needles at once: candidates by their first 8 bytes, then compared whole.
pub(super) struct Scanner {
    pub(super) needles: Vec<Needle>,
    by_prefix: HashMap<[u8; 8], Vec<usize>>,
    pub(super) files: usize,
    pub(super) zip_members: usize,
    pub(super) texts: usize,
    pub(super) bytes: u64,
    pub(super) leaks: Vec<String>,
}

/// Markers of a plaintext private key in any PEM, whoever's key it is.
const PLAIN_PEM_MARKERS: [&str; 3] =
    ["-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----"];

impl Scanner {
    pub(super) fn new(keys: &[KeySecrets]) -> Self {
        let mut needles: Vec<Needle> = keys.iter().flat_map(KeySecrets::needles).collect();
        let mut seen = BTreeSet::new();
        needles.retain(|n| seen.insert(n.bytes.clone()));
        let mut by_prefix: HashMap<[u8; 8], Vec<usize>> = HashMap::new();
        for (i, n) in needles.iter().enumerate() {
            assert!(n.bytes.len() >= 16, "{} is too short to look for without false alarms", n.what);
            by_prefix.entry(n.bytes[..8].try_into().unwrap()).or_default().push(i);
        }
        Scanner { needles, by_prefix, files: 0, zip_members: 0, texts: 0, bytes: 0, leaks: Vec::new() }
    }

    /// What of the needles `hay` holds, as it is and with the text folded: whitespace, JSON and
    /// C escapes of line breaks and the colons of `openssl -text` hex removed (a wrapped PEM
    /// body, a PEM inside a JSON string, `9d:61:b1:…`).
    pub(super) fn hits(&self, hay: &[u8]) -> Vec<String> {
        let mut found = BTreeSet::new();
        let folded = fold(hay);
        for view in [hay, folded.as_slice()] {
            if view.len() < 8 {
                continue;
            }
            for start in 0..=view.len() - 8 {
                let Some(candidates) = self.by_prefix.get(&view[start..start + 8]) else { continue };
                for &i in candidates {
                    if view[start..].starts_with(&self.needles[i].bytes) {
                        found.insert(self.needles[i].what.clone());
                    }
                }
            }
        }
        if let Ok(text) = std::str::from_utf8(hay) {
            for m in PLAIN_PEM_MARKERS {
                if text.contains(m) {
                    found.insert(format!("a plaintext PEM private key ({m})"));
                }
            }
        }
        found.into_iter().collect()
    }

    pub(super) fn scan_text(&mut self, label: &str, text: &[u8]) {
        self.texts += 1;
        self.scan_bytes(label, text);
    }

    fn scan_bytes(&mut self, label: &str, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        for hit in self.hits(bytes) {
            self.leaks.push(format!("{label}: {hit}"));
        }
        if bytes.starts_with(b"PK\x03\x04") {
            self.scan_zip(label, bytes);
        }
    }

    /// Every member of a zip (a -signed.zip, the jar in it, a trust-store zip), decompressed.
    fn scan_zip(&mut self, label: &str, bytes: &[u8]) {
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                self.leaks
                    .push(format!("{label}: starts like a zip but could not be opened to scan inside ({e})"));
                return;
            }
        };
        for i in 0..archive.len() {
            let mut member = archive.by_index(i).unwrap();
            let name = format!("{label}!{}", String::from_utf8_lossy(member.name_raw()));
            let mut content = Vec::new();
            member.by_ref().take(256 << 20).read_to_end(&mut content).unwrap();
            drop(member);
            self.zip_members += 1;
            self.scan_bytes(&format!("{name} (name)"), name.as_bytes());
            self.scan_bytes(&name, &content);
        }
    }

    /// Every file below `dir` (and its name), except the test's own plaintext key files.
    pub(super) fn scan_tree(&mut self, dir: &Path, except: &[PathBuf]) {
        // The window's tests share this process and its temporary folder (inside the scanned
        // tree): a file another test removes between listing and reading is gone, not a leak.
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(list) => list.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) if gone(&e) => return,
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        entries.sort();
        for p in entries {
            if except.contains(&p) {
                continue;
            }
            let label = p.display().to_string();
            self.scan_bytes(&format!("{label} (name)"), label.as_bytes());
            let meta = match std::fs::symlink_metadata(&p) {
                Ok(meta) => meta,
                Err(e) if gone(&e) => continue,
                Err(e) => panic!("cannot read {label}: {e}"),
            };
            if meta.is_dir() {
                self.scan_tree(&p, except);
            } else if meta.is_file() {
                let bytes = match std::fs::read(&p) {
                    Ok(bytes) => bytes,
                    Err(e) if gone(&e) => continue,
                    Err(e) => panic!("cannot read {label}: {e}"),
                };
                self.files += 1;
                self.scan_bytes(&label, &bytes);
            }
        }
    }
}

fn fold(hay: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        let b = hay[i];
        if b == b'\\' && matches!(hay.get(i + 1), Some(b'n' | b'r' | b't')) {
            i += 2;
            continue;
        }
        if !(b.is_ascii_whitespace() || b == b':') {
            out.push(b);
        }
        i += 1;
    }
    out
}
