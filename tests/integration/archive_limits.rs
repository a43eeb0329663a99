//! Artifact inspection stays bounded on hostile archives: clear errors, no exhaustion.

use crate::common::*;
use countersign::archive::{self, ArchiveError};

/// 100k entries (a big fat jar has that many) are read; a zip whose end record claims more
/// than the limit is refused by that count alone, before its directory is parsed, whether
/// the count is in the classic record or the zip64 one.
#[test]
fn entry_counts_are_checked_before_the_directory_is_parsed() {
    use std::io::Write;
    let dir = tempdir();
    let path = dir.path().join("many.jar");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("atlassian-plugin.xml", opts).unwrap();
    zip.write_all(br#"<atlassian-plugin key="com.acme.many" name="Many"><plugin-info><version>1.0</version></plugin-info></atlassian-plugin>"#).unwrap();
    for i in 0..100_000 {
        zip.start_file(format!("e/{i}"), opts).unwrap();
    }
    zip.finish().unwrap();
    let info = archive::inspect(&path).unwrap();
    assert_eq!((info.entries, info.plugin_key()), (100_001, Some("com.acme.many")));

    // Over 65,535 entries the zip crate writes zip64 records: doctor the zip64 count to a
    // million. Refused by count (the directory itself holds 100,001, so a refusal naming a
    // million proves the count was read first).
    let mut bytes = std::fs::read(&path).unwrap();
    let record = bytes.windows(4).rposition(|w| w == b"PK\x06\x06").expect("a zip64 end record");
    for field in [24, 32] {
        bytes[record + field..record + field + 8].copy_from_slice(&1_000_000u64.to_le_bytes());
    }
    let doctored = dir.path().join("claims-a-million.jar");
    std::fs::write(&doctored, &bytes).unwrap();
    match archive::inspect(&doctored) {
        Err(e @ ArchiveError::TooManyEntries { entries: 1_000_000, .. }) => {
            assert!(e.to_string().contains("1000000 entries"), "{e}")
        }
        other => panic!("expected a refusal by the zip64 count, got {other:?}"),
    }

    // The classic record, in a small zip: a claimed 65,000 is under the limit and fails as
    // a damaged zip instead; the count is only a gate, never trusted as the content.
    make_zip(&dir.path().join("small.jar"), &[("a", b"x")]);
    let mut small = std::fs::read(dir.path().join("small.jar")).unwrap();
    let eocd = small.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
    small[eocd + 8..eocd + 12].copy_from_slice(&[0xe8, 0xfd, 0xe8, 0xfd]); // 65,000 twice
    std::fs::write(dir.path().join("liar.jar"), &small).unwrap();
    assert!(archive::inspect(&dir.path().join("liar.jar")).is_err());
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
    make_zip(
        &odd,
        &[
            ("../../etc/passwd", b"x"),
            ("/abs/path", b"y"),
            ("atlassian-plugin.xml", b"<atlassian-plugin key=\"k\"/>"),
        ],
    );
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
