//! MD5 signing helpers shared by the three clients.
//!
//! Why here: all three providers sign with plain MD5 but differ in case (dingyin upper, oper and juhe
//! lower) and in what bytes are hashed (dingyin GBK, the others UTF-8). The callers build the exact
//! byte string; this module only hashes and compares. Comparisons of a received sign against the
//! expected one are constant-time ([`subtle`]) and case-insensitive, because a provider that flips the
//! case of its hex digits has still signed the same bytes.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// MD5 of `bytes` as 32 lower-case hex digits.
pub fn md5_lower(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// MD5 of `bytes` as 32 upper-case hex digits.
pub fn md5_upper(bytes: &[u8]) -> String {
    hex::encode_upper(Md5::digest(bytes))
}

/// Whether a received hex sign equals the expected one, ignoring ASCII case, in constant time
/// (for equal lengths; a length mismatch is not secret).
pub fn sign_matches(received: &str, expected: &str) -> bool {
    let a = received.trim().to_ascii_lowercase();
    let b = expected.to_ascii_lowercase();
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_known_vectors() {
        // python3 -c "import hashlib;print(hashlib.md5(b'').hexdigest(), hashlib.md5(b'abc').hexdigest())"
        assert_eq!(md5_lower(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_lower(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_upper(b"abc"), "900150983CD24FB0D6963F7D28E17F72");
    }

    #[test]
    fn sign_comparison_ignores_case_and_rejects_others() {
        assert!(sign_matches("900150983CD24FB0D6963F7D28E17F72", "900150983cd24fb0d6963f7d28e17f72"));
        assert!(!sign_matches("900150983cd24fb0d6963f7d28e17f73", "900150983cd24fb0d6963f7d28e17f72"));
        assert!(!sign_matches("", "900150983cd24fb0d6963f7d28e17f72"));
        assert!(!sign_matches("900150983cd24fb0d6963f7d28e17f7", "900150983cd24fb0d6963f7d28e17f72"));
    }
}
