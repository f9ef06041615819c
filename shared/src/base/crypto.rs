//! Hashing, randomness, constant-time comparison and sealing of small secrets.
//!
//! Sealing exists for one purpose: an idempotent replay must return the API
//! token it created, yet no token may be stored in plaintext. The stored
//! response is encrypted under a key derived (HMAC) from the `signing_key`
//! Spin variable *and* the caller's Idempotency-Key, which itself is stored
//! only as a hash; so neither a copy of the store nor the variable alone opens it.
//! The cipher is ChaCha20-Poly1305 (RFC 8439, RustCrypto's
//! `chacha20poly1305`) with a random 96-bit nonce. Nothing here is
//! hand-written cryptography: hashing and MACs are RustCrypto's `sha2` and
//! `hmac`, comparisons `subtle`'s, base64url the `base64` crate's.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
    a.ct_eq(b).into()
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

/// Base64url without padding.
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else, including
/// padding and non-zero unused bits in the last character (only the
/// canonical encoding of some bytes is accepted).
pub fn from_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Standard base64 with padding (what Standard Webhooks uses for secrets
/// and signatures).
pub fn base64_std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64 with padding; `None` for anything else.
pub fn from_base64_std(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts and authenticates `plaintext` under `key`:
/// `nonce ‖ ciphertext ‖ tag`, with a fresh random nonce.
pub fn seal(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    seal_with_nonce(key, &random_bytes(), b"", plaintext)
}

fn seal_with_nonce(key: &[u8; 32], nonce: &[u8; NONCE_LEN], aad: &[u8], msg: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        // Fails only for messages over 256 GiB.
        .unwrap_or_else(|_| unreachable!("a sealed secret is small"));
    [&nonce[..], &sealed].concat()
}

/// [`seal`], bound to `context` (authenticated, not encrypted): it opens
/// only with [`open_bound`] and the same context, so a sealed value copied
/// to another record (another account's endpoint) does not open there.
pub fn seal_bound(key: &[u8; 32], context: &[u8], plaintext: &[u8]) -> Vec<u8> {
    seal_with_nonce(key, &random_bytes(), context, plaintext)
}

/// Opens what [`seal_bound`] sealed with the same key and context.
pub fn open_bound(key: &[u8; 32], context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    open_with_aad(key, context, sealed)
}

/// Checks and decrypts what [`seal`] produced; `None` if it was tampered
/// with or sealed under another key.
pub fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    open_with_aad(key, b"", sealed)
}

fn open_with_aad(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, msg) = sealed.split_at(NONCE_LEN);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        .ok()
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

    /// RFC 8439, section 2.8.2: the AEAD test vector, through the same
    /// code that seals (only the nonce is fixed here).
    #[test]
    fn sealing_matches_the_rfc_8439_test_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [
            0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
        ];
        let aad = [
            0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
        ];
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you \
            only one tip for the future, sunscreen would be it.";
        let sealed = seal_with_nonce(&key, &nonce, &aad, plaintext);
        let (ciphertext, tag) = sealed[NONCE_LEN..].split_at(plaintext.len());
        assert_eq!(
            hex(ciphertext),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6\
             3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36\
             92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
             3ff4def08e4b7a9de576d26586cec64b6116"
        );
        assert_eq!(hex(tag), "1ae10b594f09e26a7e902ecbd0600691");
        assert_eq!(
            open_with_aad(&key, &aad, &sealed).as_deref(),
            Some(&plaintext[..])
        );
    }

    #[test]
    fn sealed_data_opens_only_with_the_same_key() {
        let secret = b"a response with ec_secret in it, longer than one block of keystream";
        let sealed = seal(&[1; 32], secret);
        assert!(!sealed.windows(9).any(|w| w == b"ec_secret"));
        assert_eq!(open(&[1; 32], &sealed).as_deref(), Some(&secret[..]));
        assert_eq!(open(&[2; 32], &sealed), None);
        assert_ne!(
            seal(&[1; 32], secret),
            sealed,
            "every seal has its own nonce"
        );
    }

    #[test]
    fn tampered_seals_do_not_open() {
        let sealed = seal(&[7; 32], b"hello");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert_eq!(open(&[7; 32], &tampered), None, "byte {i}");
        }
        assert_eq!(open(&[7; 32], &sealed[..sealed.len() - 1]), None);
        assert_eq!(open(&[7; 32], b"short"), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(secrets_equal(b"s3cret", b"s3cret"));
        assert!(!secrets_equal(b"s3cret", b"s3creT"));
        assert!(!secrets_equal(b"s3cret", b"s3cret-longer"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn base64url_is_unpadded_and_canonical() {
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(from_base64url("-_8").as_deref(), Some(&b"\xfb\xff"[..]));
        for bad in ["-_8=", "-_9", "a", "ab+/", "a b"] {
            assert_eq!(from_base64url(bad), None, "{bad}");
        }
    }

    #[test]
    fn bound_seals_open_only_in_their_context() {
        let sealed = seal_bound(&[3; 32], b"acc_1/wh_1", b"whsec_x");
        assert_eq!(
            open_bound(&[3; 32], b"acc_1/wh_1", &sealed).as_deref(),
            Some(&b"whsec_x"[..])
        );
        assert_eq!(open_bound(&[3; 32], b"acc_2/wh_1", &sealed), None);
        assert_eq!(open(&[3; 32], &sealed), None);
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
