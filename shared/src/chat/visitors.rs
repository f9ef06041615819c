//! Visitor ids and visitor tokens: what a website visitor holds.
//!
//! A visitor has no account with us. **Visitor ids are minted by edgechat**
//! (`POST /v1/widget/visitors`), one per browser, and are signed:
//! `vis_<32 hex random><24 hex MAC>`, the MAC a truncated HMAC-SHA256 under
//! `signing_key` over the account and the random part. Every public route
//! that takes a `visitor` verifies it, so a stranger cannot type a name
//! (`john`) and act as that customer or probe which ids exist: anything that
//! is not an id minted for this site is refused alike. The id is also the
//! [`CustomerId`] of the visitor's own (untagged) customer record. Rotating
//! `signing_key` invalidates every visitor id; the widget then mints a new one.
//!
//! Starting a conversation returns a *visitor token*:
//!
//! `vt1.<base64url payload>.<base64url HMAC-SHA256>`, where the payload is
//! `{"a": account, "u": visitor, "c": conversation, "exp": unix seconds}` and
//! the MAC is keyed with the `signing_key` Spin variable over a context
//! string and the encoded payload. Nothing is stored: verifying is one HMAC
//! and a constant-time compare, and rotating `signing_key` revokes every
//! visitor token at once.
//!
//! Decisions:
//! - A token names **one conversation**: a visitor id is a bearer of sorts
//!   (it sits in the browser's storage), so a token for one of a visitor's
//!   conversations must not open the others.
//! - A token keeps working after its conversation is closed: a visitor
//!   message reopens it (see `chat::conversations`).
//! - Tokens expire after [`TOKEN_TTL_MILLIS`] (24 h); the widget starts a new
//!   conversation after that.
//! - A bad, tampered or expired token is 401 with `WWW-Authenticate: Bearer`;
//!   a valid token used on another conversation's path is 404, exactly like
//!   a conversation that does not exist.

use crate::base::crypto::{
    base64url, constant_time_eq, from_base64url, hex, hmac_sha256, random_bytes,
};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, ConversationId, CustomerId};
use crate::base::input::bearer;
use crate::base::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What starts every visitor id.
pub const ID_PREFIX: &str = "vis_";
const ID_RANDOM_BYTES: usize = 16;
const ID_MAC_BYTES: usize = 12;
const ID_CONTEXT: &[u8] = b"edgechat visitor id v1\n";

fn id_mac(key: &[u8], account: &AccountId, random_hex: &str) -> String {
    let mac = hmac_sha256(
        key,
        &[
            ID_CONTEXT,
            account.as_str().as_bytes(),
            b"\n",
            random_hex.as_bytes(),
        ],
    );
    hex(&mac[..ID_MAC_BYTES])
}

/// Mints a new visitor id for a browser on `account`'s site.
pub fn mint_id(key: &[u8], account: &AccountId) -> CustomerId {
    let random_hex = hex(&random_bytes::<ID_RANDOM_BYTES>());
    let mac = id_mac(key, account, &random_hex);
    // Prefix and lowercase hex are valid customer-id characters, 60 in all.
    CustomerId::parse(&format!("{ID_PREFIX}{random_hex}{mac}"))
        .expect("a minted visitor id is a valid customer id")
}

/// Verifies that `text` is a visitor id minted for `account` under `key`
/// (constant-time MAC compare). Every refusal reads the same, so that a
/// refusal tells nothing about which ids exist.
pub fn verify_id(key: &[u8], account: &AccountId, text: &str) -> Result<CustomerId> {
    let refused = || {
        Error::field(
            "visitor",
            "is not a visitor id minted for this site: get one from POST /v1/widget/visitors",
        )
    };
    let rest = text.strip_prefix(ID_PREFIX).ok_or_else(refused)?;
    if key.is_empty()
        || rest.len() != 2 * (ID_RANDOM_BYTES + ID_MAC_BYTES)
        || !rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(refused());
    }
    let (random_hex, mac) = rest.split_at(2 * ID_RANDOM_BYTES);
    if !constant_time_eq(id_mac(key, account, random_hex).as_bytes(), mac.as_bytes()) {
        return Err(refused());
    }
    CustomerId::parse(text).map_err(|_| refused())
}

/// How long a visitor token is valid.
pub const TOKEN_TTL_MILLIS: i64 = 24 * 3_600 * 1_000;
const PREFIX: &str = "vt1.";
const CONTEXT: &[u8] = b"edgechat visitor token v1\n";

/// Who a verified visitor token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// The account of the site the visitor chats on.
    #[serde(rename = "a")]
    pub account: AccountId,
    /// The visitor, as a customer of that account.
    #[serde(rename = "u")]
    pub customer: CustomerId,
    /// The one conversation the token opens.
    #[serde(rename = "c")]
    pub conversation: ConversationId,
    /// Expiry, Unix seconds.
    pub exp: i64,
}

/// Mints a token for `visitor`'s conversation, valid from `now` for
/// [`TOKEN_TTL_MILLIS`].
pub fn mint(
    key: &[u8],
    account: &AccountId,
    customer: &CustomerId,
    conversation: &ConversationId,
    now: Timestamp,
) -> String {
    let claims = Visitor {
        account: account.clone(),
        customer: customer.clone(),
        conversation: conversation.clone(),
        exp: now.plus_millis(TOKEN_TTL_MILLIS).millis() / 1_000,
    };
    // A struct of strings and an integer always serialises.
    let payload = base64url(&serde_json::to_vec(&claims).unwrap_or_default());
    let mac = hmac_sha256(key, &[CONTEXT, payload.as_bytes()]);
    format!("{PREFIX}{payload}.{}", base64url(&mac))
}

/// Verifies the visitor token in an `Authorization` header.
pub fn authenticate(key: &[u8], authorization: Option<&str>, now: Timestamp) -> Result<Visitor> {
    let token = bearer(authorization).ok_or_else(|| {
        Error::Unauthorized(
            "send the visitor token from starting the conversation as Authorization: Bearer <visitor_token>"
                .into(),
        )
    })?;
    verify(key, token, now)
}

/// Verifies a visitor token: signature (constant time), then expiry.
pub fn verify(key: &[u8], token: &str, now: Timestamp) -> Result<Visitor> {
    let invalid = || Error::Unauthorized("the visitor token is not valid".into());
    let rest = token.strip_prefix(PREFIX).ok_or_else(invalid)?;
    let (payload, mac) = rest.split_once('.').ok_or_else(invalid)?;
    let mac = from_base64url(mac).ok_or_else(invalid)?;
    if key.is_empty() || !constant_time_eq(&hmac_sha256(key, &[CONTEXT, payload.as_bytes()]), &mac)
    {
        return Err(invalid());
    }
    let claims: Visitor = from_base64url(payload)
        .and_then(|bytes| crate::storage::doc::from_json(&bytes).ok())
        .ok_or_else(invalid)?;
    if claims.exp.saturating_mul(1_000) <= now.millis() {
        return Err(Error::Unauthorized(
            "the visitor token has expired; start a new conversation".into(),
        ));
    }
    Ok(claims)
}

impl Visitor {
    /// The conversation this token opens, if it is `id`; otherwise 404, as
    /// for a conversation that does not exist.
    pub fn conversation(&self, id: &str) -> Result<ConversationId> {
        if self.conversation.as_str() == id {
            Ok(self.conversation.clone())
        } else {
            Err(Error::NotFound(format!("there is no conversation {id:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-key";
    const NOW: Timestamp = Timestamp::from_millis(1_767_225_600_000);

    fn token() -> (String, Visitor) {
        let account = AccountId::generate();
        let customer = CustomerId::parse("v-1").unwrap();
        let conversation = ConversationId::generate();
        let token = mint(KEY, &account, &customer, &conversation, NOW);
        let visitor = verify(KEY, &token, NOW).unwrap();
        (token, visitor)
    }

    #[test]
    fn a_minted_token_verifies_to_its_visitor_and_conversation() {
        let (_, visitor) = token();
        assert_eq!(visitor.customer.as_str(), "v-1");
        assert!(visitor.conversation(visitor.conversation.as_str()).is_ok());
    }

    #[test]
    fn tokens_expire_after_a_day() {
        let (token, _) = token();
        let later = NOW.plus_millis(TOKEN_TTL_MILLIS);
        assert!(matches!(
            verify(KEY, &token, later),
            Err(Error::Unauthorized(_))
        ));
        assert!(verify(KEY, &token, later.plus_millis(-1_000)).is_ok());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_rejected() {
        let (token, _) = token();
        assert!(verify(b"other-key", &token, NOW).is_err());
        let mut bytes = token.clone().into_bytes();
        bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
        assert!(verify(KEY, &String::from_utf8(bytes).unwrap(), NOW).is_err());
        assert!(verify(KEY, "vt1.garbage", NOW).is_err());
        assert!(verify(b"", &token, NOW).is_err());
    }

    fn flip_last(text: &str) -> String {
        let (head, last) = text.split_at(text.len() - 1);
        format!("{head}{}", if last == "0" { "1" } else { "0" })
    }

    #[test]
    fn minted_visitor_ids_verify_only_for_their_site_and_key() {
        let account = AccountId::generate();
        let id = mint_id(KEY, &account);
        assert!(id.as_str().starts_with(ID_PREFIX));
        assert_eq!(verify_id(KEY, &account, id.as_str()).unwrap(), id);
        assert_ne!(mint_id(KEY, &account), id, "ids are random");

        let refusals = [
            verify_id(KEY, &AccountId::generate(), id.as_str()),
            verify_id(b"other-key", &account, id.as_str()),
            verify_id(b"", &account, id.as_str()),
            verify_id(KEY, &account, "john"),
            verify_id(KEY, &account, &id.as_str()[..id.as_str().len() - 1]),
            verify_id(KEY, &account, &id.as_str().to_uppercase()),
            verify_id(KEY, &account, &flip_last(id.as_str())),
        ];
        let details: Vec<String> = refusals
            .into_iter()
            .map(|r| match r {
                Err(Error::Invalid(fields)) => {
                    format!("{}: {}", fields[0].field, fields[0].message)
                }
                other => panic!("not refused: {other:?}"),
            })
            .collect();
        // One wording for every refusal: nothing to learn from it.
        assert!(details.iter().all(|d| d == &details[0]), "{details:?}");
    }

    #[test]
    fn a_token_for_another_conversation_is_not_found() {
        let (_, visitor) = token();
        let other = ConversationId::generate();
        assert!(matches!(
            visitor.conversation(other.as_str()),
            Err(Error::NotFound(_))
        ));
    }
}
