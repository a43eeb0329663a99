//! Hex forms of digests: lower-case for file hashes (as `sha256sum` prints them) and
//! colon-separated upper-case for certificate fingerprints (as `openssl x509 -fingerprint`).

use std::fmt::Write;

/// Lower-case hex without separators (`0aff`), as `sha256sum` prints a digest.
pub fn lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Upper-case hex bytes joined by colons (`0A:FF`), as `openssl x509 -fingerprint` prints.
pub fn colon_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The first 16 characters of a hex digest and an ellipsis, to name a key or file in a list.
pub fn short(hex: &str) -> String {
    format!("{}…", hex.get(..16).unwrap_or(hex))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::lower(&[0x0a, 0xff]), "0aff");
        assert_eq!(super::colon_upper(&[0x0a, 0xff]), "0A:FF");
    }
}
