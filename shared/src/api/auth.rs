//! Who is calling: API tokens, the admin token, and the actor recorded in
//! the audit log.
//!
//! An API token is `ec_` followed by 43 base64url characters (32 random
//! bytes): the prefix lets secret scanners recognise leaked tokens. It is
//! shown once; the store keeps only its SHA-256, under a global key that maps
//! it to its account and token id. Revoking deletes that key, so the very
//! next request with the token gets 401.

use crate::base::crypto::{base64url, random_bytes, secrets_equal, sha256_hex};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId, TokenId};
use crate::base::input::bearer;
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The prefix of every API token.
pub const TOKEN_PREFIX: &str = "ec_";
const TOKEN_LEN: usize = 3 + 43;

/// A plaintext API token, held only between minting and the response.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// A new random token.
    pub fn generate() -> Self {
        ApiToken(format!(
            "{TOKEN_PREFIX}{}",
            base64url(&random_bytes::<32>())
        ))
    }

    /// Reads a presented token; `None` if it cannot be one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == TOKEN_LEN
            && text.starts_with(TOKEN_PREFIX)
            && text[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| ApiToken(text.to_string()))
    }

    /// The SHA-256 (hex) under which the token is stored.
    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// The plaintext, to be shown once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(ec_…)")
    }
}

/// Who did something, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator, with the `admin_token` variable.
    Admin,
    /// A business system, with an API token.
    Token(TokenId),
    /// A website visitor, with a visitor token.
    Visitor(String),
    /// An agent, through a signed agent link.
    Agent(AgentId),
    /// edgechat itself (webhook delivery disabling a failing endpoint).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Admin => f.write_str("admin"),
            Actor::Token(id) => write!(f, "token:{id}"),
            Actor::Visitor(id) => write!(f, "visitor:{id}"),
            Actor::Agent(id) => write!(f, "agent:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An authenticated API caller: an account, acting through one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account every read and write is confined to.
    pub account: AccountId,
    /// Who to record in the audit log.
    pub actor: Actor,
}

/// The global record behind `token:<sha256>`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TokenRecord {
    pub v: u32,
    pub account: AccountId,
    pub token: TokenId,
}

/// Authenticates an `Authorization` header carrying an API token.
pub fn authenticate(kv: &dyn KeyValue, authorization: Option<&str>) -> Result<Caller> {
    let Some(presented) = bearer(authorization) else {
        return Err(Error::Unauthorized(
            "send an API token as Authorization: Bearer <token>".into(),
        ));
    };
    let invalid = || Error::Unauthorized("the API token is invalid or has been revoked".into());
    let token = ApiToken::parse(presented).ok_or_else(invalid)?;
    let record: TokenRecord =
        doc::read(kv, &keys::token_hash(&token.digest()))?.ok_or_else(invalid)?;
    Ok(Caller {
        account: record.account,
        actor: Actor::Token(record.token),
    })
}

/// Checks an `Authorization` header against the `admin_token` variable, in
/// constant time. An empty configured token never matches.
pub fn authenticate_admin(authorization: Option<&str>, admin_token: &str) -> Result<()> {
    let presented = bearer(authorization).ok_or_else(|| {
        Error::Unauthorized("send the admin token as Authorization: Bearer <token>".into())
    })?;
    if admin_token.is_empty() || !secrets_equal(presented.as_bytes(), admin_token.as_bytes()) {
        return Err(Error::Unauthorized("the admin token is not valid".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;

    #[test]
    fn tokens_are_prefixed_and_parse_back() {
        let token = ApiToken::generate();
        assert!(token.expose().starts_with("ec_"));
        assert_eq!(ApiToken::parse(token.expose()), Some(token.clone()));
        assert_eq!(ApiToken::parse("ec_short"), None);
        assert_ne!(token.digest(), token.expose());
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let token = ApiToken::generate();
        assert!(!format!("{token:?}").contains(&token.expose()[3..]));
    }

    #[test]
    fn a_missing_or_unknown_token_is_unauthorized() {
        let kv = MemoryStore::new();
        assert!(matches!(
            authenticate(&kv, None),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            authenticate(&kv, Some("Bearer nope")),
            Err(Error::Unauthorized(_))
        ));
        let unknown = format!("Bearer {}", ApiToken::generate().expose());
        assert!(matches!(
            authenticate(&kv, Some(&unknown)),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn the_admin_token_must_match_exactly() {
        assert!(authenticate_admin(Some("Bearer s3cret"), "s3cret").is_ok());
        assert!(authenticate_admin(Some("Bearer s3cre"), "s3cret").is_err());
        assert!(authenticate_admin(None, "s3cret").is_err());
        assert!(authenticate_admin(Some("Bearer "), "").is_err());
    }
}
