//! Splitting text that may hold several PEM blocks (a key file with EC parameters in
//! front, a certificate chain) into labelled DER documents.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and DER content.
/// The content is zeroized on drop, since it may be a private key.
pub struct Block {
    /// The label of the `-----BEGIN <label>-----` line: `CERTIFICATE`, `PRIVATE KEY`, ...
    pub label: String,
    /// The decoded Base64 content: DER for every label used here.
    pub der: Zeroizing<Vec<u8>>,
}

/// True when the bytes look like PEM text rather than DER.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    let skip_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let trimmed = skip_bom.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &skip_bom[i..]);
    matches!(trimmed, Some(t) if t.starts_with(b"-----BEGIN ")) || contains(bytes, b"\n-----BEGIN ")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every well-formed block in `text`, in order; text between blocks is ignored (openssl
/// writes "Bag Attributes" and similar). A block that does not decode is an error naming it.
pub fn blocks(text: &[u8]) -> Result<Vec<Block>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "the file is not text".to_owned())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let label_end = after[11..].find("-----").ok_or("a PEM header is not closed")? + 11;
        let label = &after[11..label_end];
        let end_marker = format!("-----END {label}-----");
        // The END line is looked for after the BEGIN line, not in it: in "-----BEGIN X-------END
        // X-----" the two overlap.
        let body_start = label_end + 5;
        let end = after[body_start..]
            .find(&end_marker)
            .ok_or_else(|| format!("the {label} block has no END line"))?
            + body_start;
        // Lenient as OpenSSL is: any line length (Atlassian's own CA files have the whole
        // certificate on one line), CRLF, stray spaces. RFC 1421 header lines ("Name: value")
        // are skipped.
        let body = &after[body_start..end];
        let base64: Zeroizing<String> = Zeroizing::new(
            body.lines()
                .filter(|l| !l.contains(':'))
                .flat_map(|l| l.chars().filter(|c| !c.is_ascii_whitespace()))
                .collect(),
        );
        let der = Base64::decode_vec(&base64)
            .map_err(|e| format!("the {label} block is damaged (its Base64 does not decode: {e})"))?;
        out.push(Block { label: label.to_owned(), der: Zeroizing::new(der) });
        rest = &after[end + end_marker.len()..];
    }
    Ok(out)
}

/// PEM with 64-column lines and LF endings, as openssl writes it.
pub fn encode(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .unwrap_or_else(|_| unreachable!("PEM labels used here are valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_several_blocks_with_noise_between_and_crlf() {
        let a = encode("CERTIFICATE", b"first");
        let b = encode("PUBLIC KEY", &[7u8; 100]);
        let text = format!("Bag Attributes\r\n{}\r\njunk\n{}", a.replace('\n', "\r\n"), b);
        let got = blocks(text.as_bytes()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].label, "CERTIFICATE");
        assert_eq!(&got[0].der[..], b"first");
        assert_eq!(&got[1].der[..], &[7u8; 100]);
    }

    /// Found by fuzzing: an END line that starts inside the BEGIN line's dashes.
    #[test]
    fn an_end_line_overlapping_the_begin_line_is_an_error_not_a_panic() {
        let text = b"-----BEGIN EC PRIVATE KEY-------END EC PRIVATE KEY-----\n";
        // (Block has no Debug, since it may hold a private key: no unwrap_err.)
        assert!(blocks(text).err().is_some_and(|e| e.contains("has no END line")));
        let empty = b"-----BEGIN X----------END X-----\n";
        assert!(blocks(empty).is_ok_and(|b| b[0].der.is_empty()));
    }

    #[test]
    fn reads_unwrapped_base64_as_openssl_does() {
        // Every byte value, and then some: 0..=255, then 0..=143.
        let der: Vec<u8> = (0..=255u8).cycle().take(400).collect();
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            Base64::encode_string(&der)
        );
        assert_eq!(&blocks(text.as_bytes()).unwrap()[0].der[..], &der[..]);
    }

    #[test]
    fn encodes_64_column_lines() {
        let pem = encode("CERTIFICATE", &[1u8; 100]);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    }

    #[test]
    fn damaged_block_is_an_error_and_der_is_not_pem() {
        assert!(blocks(b"-----BEGIN X-----\n!!!\n-----END X-----\n").is_err());
        assert!(!looks_like_pem(&[0x30, 0x82, 0x01]));
        assert!(looks_like_pem(b"\n  -----BEGIN PRIVATE KEY-----"));
    }
}
