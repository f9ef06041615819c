//! Standard Webhooks v1 signatures and `whsec_` secrets.
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one
//! `v1,…` per secret in force, separated by spaces, as the specification
//! allows: during the 24 hours after a rotation both the new and the old
//! secret sign, so receivers can switch without downtime.
//!
//! A secret is `whsec_` followed by the standard base64 of 32 random bytes;
//! the HMAC key is those bytes (what the official libraries decode). At
//! rest it is sealed (ChaCha20-Poly1305) under a key derived from the
//! `signing_key` Spin variable and bound to its account and endpoint, so a
//! copy of the store alone opens nothing. The plaintext exists only while
//! a delivery is signed and in the one response that creates or rotates it.

use crate::base::crypto::{
    base64_std, base64url, from_base64_std, from_base64url, hmac_sha256, open_bound, random_bytes,
    seal_bound,
};
use crate::base::ids::{AccountId, WebhookId};
use std::fmt;

/// The prefix of every webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A plaintext webhook secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

impl Secret {
    /// A new random secret (32 bytes).
    pub fn generate() -> Self {
        Secret(format!(
            "{SECRET_PREFIX}{}",
            base64_std(&random_bytes::<32>())
        ))
    }

    /// The text to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the bytes the base64 after `whsec_` stands for.
    fn key(&self) -> Vec<u8> {
        self.0
            .strip_prefix(SECRET_PREFIX)
            .and_then(from_base64_std)
            .unwrap_or_default()
    }

    /// Seals the secret for storage with `endpoint` of `account`.
    pub fn seal(&self, signing_key: &[u8], account: &AccountId, endpoint: &WebhookId) -> String {
        base64url(&seal_bound(
            &sealing_key(signing_key),
            &context(account, endpoint),
            self.0.as_bytes(),
        ))
    }

    /// Opens a sealed secret; `None` if it was sealed for another endpoint,
    /// under another `signing_key`, or tampered with.
    pub fn open(
        sealed: &str,
        signing_key: &[u8],
        account: &AccountId,
        endpoint: &WebhookId,
    ) -> Option<Secret> {
        let bytes = from_base64url(sealed)?;
        let plain = open_bound(
            &sealing_key(signing_key),
            &context(account, endpoint),
            &bytes,
        )?;
        String::from_utf8(plain).ok().map(Secret)
    }
}

fn sealing_key(signing_key: &[u8]) -> [u8; 32] {
    hmac_sha256(signing_key, &[b"edgechat webhook secret v1"])
}

fn context(account: &AccountId, endpoint: &WebhookId) -> Vec<u8> {
    format!("{account}/{endpoint}").into_bytes()
}

/// The `webhook-signature` value for one message: `v1,<sig>` per secret.
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let mac = hmac_sha256(
                &secret.key(),
                &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
            );
            format!("v1,{}", base64_std(&mac))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's test suite:
    /// secret, id, timestamp and payload, and the signature it expects.
    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let header = signature_header(
            &[secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_give_two_space_separated_signatures() {
        let (a, b) = (Secret::generate(), Secret::generate());
        let both = signature_header(&[a.clone(), b], "id", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature_header(&[a], "id", 1, b"{}"));
    }

    #[test]
    fn secrets_are_whsec_and_sealed_per_endpoint() {
        let secret = Secret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key().len(), 32);
        let (account, endpoint) = (AccountId::generate(), WebhookId::generate());
        let sealed = secret.seal(b"k", &account, &endpoint);
        assert!(!sealed.contains(&secret.expose()[6..]));
        assert_eq!(
            Secret::open(&sealed, b"k", &account, &endpoint),
            Some(secret)
        );
        assert_eq!(Secret::open(&sealed, b"other", &account, &endpoint), None);
        let elsewhere = WebhookId::generate();
        assert_eq!(Secret::open(&sealed, b"k", &account, &elsewhere), None);
        assert!(!format!("{:?}", Secret::generate()).contains("whsec_A"));
    }
}
