//! Hashing, randomness, constant-time comparison and sealing of small secrets.
//!
//! Sealing exists for one purpose: an idempotent replay must return the API
//! token it created, yet no token may be stored in plaintext. The stored
//! response is encrypted under a key derived (HMAC) from the `signing_key`
//! Spin variable *and* the caller's Idempotency-Key, which itself is stored
//! only as a hash; so neither a copy of the store nor the variable alone opens it.
//! The cipher is HMAC-SHA256 in counter mode with a random nonce, then
//! HMAC-SHA256 over nonce and ciphertext (encrypt-then-MAC).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether two secrets are equal, without leaking their lengths or where they
/// differ: both are hashed first, then compared in constant time.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    constant_time_eq(&sha256(a), &sha256(b))
}

/// `N` bytes from the operating system's (WASI's) secure random source.
///
/// # Panics
/// If the platform has no random source, which WASI and every supported
/// host provide; minting predictable tokens instead would be worse.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("no secure random source: {e}");
    }
    bytes
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding.
///
/// By hand rather than with the `base64` crate: its generic engine cost
/// every component ~6 KB for these two small functions. The tests check both
/// against that crate's `URL_SAFE_NO_PAD`.
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url without padding; `None` for anything else, including
/// padding and non-zero unused bits in the last character (only the
/// canonical encoding of some bytes is accepted).
pub fn from_base64url(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            n |= u32::from(value) << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        if n << (8 * bytes) & 0xff_ffff != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..=bytes]);
    }
    Some(out)
}

const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 32;

/// Encrypts and authenticates `plaintext` under `key`.
pub fn seal(key: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = random_bytes();
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    apply_keystream(key, &nonce, &mut out[NONCE_LEN..]);
    let tag = hmac_sha256(&hmac_sha256(key, &[b"mac"]), &[&out]);
    out.extend_from_slice(&tag);
    out
}

/// Checks and decrypts what [`seal`] produced; `None` if it was tampered
/// with or sealed under another key.
pub fn open(key: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    let expected = hmac_sha256(&hmac_sha256(key, &[b"mac"]), &[body]);
    if !constant_time_eq(&expected, tag) {
        return None;
    }
    let (nonce, ciphertext) = body.split_at(NONCE_LEN);
    let mut plaintext = ciphertext.to_vec();
    apply_keystream(key, nonce, &mut plaintext);
    Some(plaintext)
}

fn apply_keystream(key: &[u8], nonce: &[u8], data: &mut [u8]) {
    let enc_key = hmac_sha256(key, &[b"enc"]);
    for (counter, chunk) in data.chunks_mut(32).enumerate() {
        let block = hmac_sha256(&enc_key, &[nonce, &(counter as u64).to_be_bytes()]);
        for (byte, k) in chunk.iter_mut().zip(block) {
            *byte ^= k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_matches_the_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sealed_data_opens_only_with_the_same_key() {
        let secret = b"a response with ec_secret in it, longer than one block of keystream";
        let sealed = seal(b"key one", secret);
        assert!(!sealed.windows(9).any(|w| w == b"ec_secret"));
        assert_eq!(open(b"key one", &sealed).as_deref(), Some(&secret[..]));
        assert_eq!(open(b"key two", &sealed), None);
    }

    #[test]
    fn tampered_seals_do_not_open() {
        let mut sealed = seal(b"k", b"hello");
        let middle = sealed.len() / 2;
        sealed[middle] ^= 1;
        assert_eq!(open(b"k", &sealed), None);
        assert_eq!(open(b"k", b"short"), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(secrets_equal(b"s3cret", b"s3cret"));
        assert!(!secrets_equal(b"s3cret", b"s3creT"));
        assert!(!secrets_equal(b"s3cret", b"s3cret-longer"));
    }

    #[test]
    fn base64url_matches_the_base64_crate() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..70 {
            for start in [0, 1, 100, 250] {
                let input = &bytes[start..start + len];
                let encoded = base64url(input);
                assert_eq!(encoded, URL_SAFE_NO_PAD.encode(input));
                assert_eq!(from_base64url(&encoded).as_deref(), Some(input));
            }
        }
        let alphabet = "AQgw_-9zZaA=+/. ";
        let mut texts: Vec<String> = vec![String::new()];
        for _ in 0..4 {
            texts = texts
                .iter()
                .flat_map(|t| alphabet.chars().map(move |c| format!("{t}{c}")))
                .collect();
            for text in &texts {
                assert_eq!(
                    from_base64url(text),
                    URL_SAFE_NO_PAD.decode(text).ok(),
                    "{text:?}"
                );
                let longer = format!("QUJD{text}");
                assert_eq!(
                    from_base64url(&longer),
                    URL_SAFE_NO_PAD.decode(&longer).ok()
                );
            }
        }
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
