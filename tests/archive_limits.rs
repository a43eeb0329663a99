//! Artifact inspection stays bounded on hostile archives: clear errors, no exhaustion.

mod common;

use common::*;
use countersign::archive::{self, ArchiveError};

#[test]
fn an_archive_with_100k_entries_is_refused_by_count() {
    use std::io::Write;
    let dir = tempdir();
    let path = dir.path().join("many.jar");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..100_000 {
        zip.start_file(format!("e/{i}"), opts).unwrap();
        zip.write_all(b"").unwrap();
    }
    zip.finish().unwrap();
    match archive::inspect(&path) {
        Err(e @ ArchiveError::TooManyEntries { entries: 100_000, .. }) => {
            assert!(e.to_string().contains("100000 entries"), "{e}");
        }
        other => panic!("expected a refusal by entry count, got {other:?}"),
    }
}

#[test]
fn an_oversized_manifest_is_refused_not_read_whole() {
    let dir = tempdir();
    let path = dir.path().join("big-manifest.jar");
    let mut manifest = b"Manifest-Version: 1.0\r\nX-Long: ".to_vec();
    manifest.extend(std::iter::repeat_n(b'a', 10 << 20));
    make_zip(&path, &[("META-INF/MANIFEST.MF", &manifest)]);
    let err = archive::inspect(&path).unwrap_err();
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("META-INF/MANIFEST.MF"), "{err}");
}

#[test]
fn a_zip_with_a_prepended_stub_and_odd_entry_names_is_still_read() {
    let dir = tempdir();
    let plain = dir.path().join("plain.jar");
    make_app_jar(&plain, "com.acme.stub", "1.0", 10);
    let mut bytes = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
    bytes.extend(std::fs::read(&plain).unwrap());
    let stubbed = dir.path().join("stubbed.jar");
    std::fs::write(&stubbed, bytes).unwrap();
    let info = archive::inspect(&stubbed).unwrap();
    assert_eq!(info.plugin_key(), Some("com.acme.stub"));

    let odd = dir.path().join("odd.jar");
    make_zip(&odd, &[("../../etc/passwd", b"x"), ("/abs/path", b"y"), ("atlassian-plugin.xml", b"<atlassian-plugin key=\"k\"/>")]);
    let info = archive::inspect(&odd).unwrap();
    assert_eq!(info.plugin_key(), Some("k"));
    // Inspection extracts nothing, so hostile names have nowhere to go.
    assert_eq!(listing(dir.path()), ["odd.jar", "plain.jar", "stubbed.jar"]);
}

#[test]
fn a_descriptor_that_is_not_xml_is_named_in_the_error() {
    let dir = tempdir();
    let path = dir.path().join("bad-xml.jar");
    make_zip(&path, &[("atlassian-plugin.xml", b"<atlassian-plugin key='a'><unclosed></atlassian-plugin>")]);
    let err = archive::inspect(&path).unwrap_err();
    assert!(err.to_string().contains("atlassian-plugin.xml cannot be read"), "{err}");
}
