//! API tokens: minted (shown once), listed (never the secret), revoked (the
//! next request with the token gets 401).
//!
//! The account's token list (`acct:<a>:tokens`) holds metadata and each
//! token's SHA-256; the global `token:<sha256>` key is what authentication
//! reads. A token is listed before it becomes usable, and stops being usable
//! (its global key is deleted) before it is unlisted, so no usable token is
//! ever missing from the list.
//!
//! The last token that is not being revoked cannot be revoked (409): an
//! account without a token could never mint one again. Revoking therefore
//! first marks the token `revoking` in the list, checking atomically (a
//! shared-document update) that another usable token remains; then deletes
//! its global key; then unlists it. A crash in between leaves a listed token
//! that a retried revoke finishes.

use crate::api::audit;
use crate::api::auth::{Actor, ApiToken, Caller, TokenRecord};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, TokenId};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many live tokens an account may have.
pub const MAX_TOKENS: usize = 100;
/// Longest token name.
pub const MAX_NAME_LEN: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenMeta {
    id: TokenId,
    name: String,
    created_at: Timestamp,
    sha256: String,
    /// Being revoked: no longer counts as the account's way back in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    revoking: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenList {
    v: u32,
    items: Vec<TokenMeta>,
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenView {
    /// The token's public id.
    pub id: TokenId,
    /// What the business called it.
    pub name: String,
    /// When it was minted.
    pub created_at: Timestamp,
}

/// A freshly minted token: the only time the secret is shown.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    /// The token's public id.
    pub id: TokenId,
    /// What the business called it.
    pub name: String,
    /// The secret, `ec_…`.
    pub token: String,
    /// When it was minted.
    pub created_at: Timestamp,
}

/// Reads `{name}` from a create request.
pub fn parse_create(body: &Value) -> Result<String> {
    let mut errors = Errors::new();
    let name = Object::new(body, "", &mut errors)
        .and_then(|object| object.required_str("name", MAX_NAME_LEN, &mut errors));
    errors.finish(name.unwrap_or_default())
}

/// Mints a token for `account` and records it in the audit log as `actor`.
pub fn issue(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    name: &str,
) -> Result<IssuedToken> {
    let token = ApiToken::generate();
    let meta = TokenMeta {
        id: TokenId::generate(),
        name: name.to_string(),
        created_at: clock.now(),
        sha256: token.digest(),
        revoking: false,
    };
    doc::update(kv, &keys::tokens(account), |list: Option<TokenList>| {
        let mut list = list.unwrap_or_default();
        if list.items.len() >= MAX_TOKENS {
            return Err(Error::Conflict(format!(
                "an account may have at most {MAX_TOKENS} tokens; revoke one first"
            )));
        }
        list.v = 1;
        list.items.push(meta.clone());
        Ok(Step::Write(list, ()))
    })?;
    let record = TokenRecord {
        v: 1,
        account: account.clone(),
        token: meta.id.clone(),
    };
    doc::write(kv, &keys::token_hash(&meta.sha256), &record)?;
    audit::record(
        kv,
        clock,
        account,
        actor,
        audit::Action::TokenCreated,
        &format!("token:{}", meta.id),
    )?;
    Ok(IssuedToken {
        id: meta.id,
        name: meta.name,
        token: token.expose().to_string(),
        created_at: meta.created_at,
    })
}

/// The account's tokens, oldest first, without secrets.
pub fn list(kv: &dyn KeyValue, account: &AccountId) -> Result<Vec<TokenView>> {
    let list: TokenList = doc::read_shared(kv, &keys::tokens(account))?.unwrap_or_default();
    Ok(list
        .items
        .into_iter()
        .map(|meta| TokenView {
            id: meta.id,
            name: meta.name,
            created_at: meta.created_at,
        })
        .collect())
}

/// Revokes one of the caller's account's tokens (any text that is not one
/// of them is 404, including another account's token ids).
pub fn revoke(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller, id: &str) -> Result<()> {
    let not_found = || Error::NotFound(format!("there is no token {id:?}"));
    let id = TokenId::parse(id).map_err(|_| not_found())?;
    let key = keys::tokens(&caller.account);
    // 1. Mark it, if another usable token remains.
    let sha256 = doc::update(kv, &key, |list: Option<TokenList>| {
        let mut list = list.unwrap_or_default();
        let others = list
            .items
            .iter()
            .filter(|meta| meta.id != id && !meta.revoking)
            .count();
        let meta = list
            .items
            .iter_mut()
            .find(|meta| meta.id == id)
            .ok_or_else(not_found)?;
        if others == 0 && !meta.revoking {
            return Err(Error::Conflict(
                "this is the account's last API token: mint another one before revoking it".into(),
            ));
        }
        let sha256 = meta.sha256.clone();
        if meta.revoking {
            return Ok(Step::Keep(sha256));
        }
        meta.revoking = true;
        Ok(Step::Write(list, sha256))
    })?;
    // 2. Unusable first, 3. unlisted second: see the module docs.
    kv.delete(&keys::token_hash(&sha256))?;
    doc::update(kv, &key, |list: Option<TokenList>| {
        let mut list = list.unwrap_or_default();
        let before = list.items.len();
        list.items.retain(|meta| meta.id != id);
        Ok(if list.items.len() == before {
            Step::Keep(())
        } else {
            Step::Write(list, ())
        })
    })?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::TokenRevoked,
        &format!("token:{id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::authenticate;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;
    use serde_json::json;

    fn setup() -> (MemoryStore, ManualClock, AccountId) {
        World::new().parts()
    }

    fn bearer(token: &IssuedToken) -> String {
        format!("Bearer {}", token.token)
    }

    #[test]
    fn an_issued_token_authenticates_as_its_account() {
        let (kv, clock, account) = setup();
        let issued = issue(&kv, &clock, &account, &Actor::Admin, "crm").unwrap();
        assert!(issued.token.starts_with("ec_"));
        let caller = authenticate(&kv, Some(&bearer(&issued))).unwrap();
        assert_eq!(caller.account, account);
        assert_eq!(caller.actor, Actor::Token(issued.id));
    }

    #[test]
    fn the_store_never_holds_the_plaintext_token() {
        let (kv, clock, account) = setup();
        let issued = issue(&kv, &clock, &account, &Actor::Admin, "crm").unwrap();
        for key in kv.keys() {
            let value = kv.get(&key).unwrap().unwrap();
            let text = String::from_utf8_lossy(&value);
            assert!(
                !key.contains(&issued.token) && !text.contains(&issued.token),
                "{key}"
            );
        }
    }

    #[test]
    fn listing_shows_names_but_never_secrets() {
        let (kv, clock, account) = setup();
        let issued = issue(&kv, &clock, &account, &Actor::Admin, "crm").unwrap();
        let listed = list(&kv, &account).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "crm");
        let json = serde_json::to_string(&listed).unwrap();
        assert!(!json.contains(&issued.token) && !json.contains("sha256"));
    }

    #[test]
    fn a_revoked_token_fails_on_the_next_call() {
        let (kv, clock, account) = setup();
        let keep = issue(&kv, &clock, &account, &Actor::Admin, "keep").unwrap();
        let gone = issue(&kv, &clock, &account, &Actor::Admin, "gone").unwrap();
        let caller = authenticate(&kv, Some(&bearer(&keep))).unwrap();
        revoke(&kv, &clock, &caller, gone.id.as_str()).unwrap();
        assert!(matches!(
            authenticate(&kv, Some(&bearer(&gone))),
            Err(Error::Unauthorized(_))
        ));
        assert!(authenticate(&kv, Some(&bearer(&keep))).is_ok());
        assert_eq!(list(&kv, &account).unwrap().len(), 1);
    }

    #[test]
    fn another_accounts_token_cannot_be_revoked_and_looks_missing() {
        let (kv, clock, account) = setup();
        let other = AccountId::generate();
        let theirs = issue(&kv, &clock, &other, &Actor::Admin, "theirs").unwrap();
        let mine = issue(&kv, &clock, &account, &Actor::Admin, "mine").unwrap();
        let caller = authenticate(&kv, Some(&bearer(&mine))).unwrap();
        let result = revoke(&kv, &clock, &caller, theirs.id.as_str());
        assert!(matches!(result, Err(Error::NotFound(_))));
        assert!(authenticate(&kv, Some(&bearer(&theirs))).is_ok());
    }

    #[test]
    fn token_names_are_required() {
        assert_eq!(parse_create(&json!({"name": "crm"})).unwrap(), "crm");
        for body in [
            json!({}),
            json!({"name": ""}),
            json!({"name": 3}),
            json!([]),
        ] {
            assert!(
                matches!(parse_create(&body), Err(Error::Invalid(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn minting_and_revoking_are_audited() {
        let (kv, clock, account) = setup();
        issue(&kv, &clock, &account, &Actor::Admin, "keep").unwrap();
        let issued = issue(&kv, &clock, &account, &Actor::Admin, "crm").unwrap();
        let caller = authenticate(&kv, Some(&bearer(&issued))).unwrap();
        revoke(&kv, &clock, &caller, issued.id.as_str()).unwrap();
        let log = audit::page(&kv, &clock, &account, None, 10, None).unwrap();
        let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["token.created", "token.created", "token.revoked"]);
        assert_eq!(log.items[2].actor, format!("token:{}", issued.id));
    }

    #[test]
    fn the_last_usable_token_cannot_be_revoked() {
        let (kv, clock, account) = setup();
        let only = issue(&kv, &clock, &account, &Actor::Admin, "only").unwrap();
        let caller = authenticate(&kv, Some(&bearer(&only))).unwrap();
        let refused = revoke(&kv, &clock, &caller, only.id.as_str());
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
        // Nothing changed: the token still works and is listed.
        assert!(authenticate(&kv, Some(&bearer(&only))).is_ok());
        assert_eq!(list(&kv, &account).unwrap().len(), 1);
        // With a second token, the first may go; then the second is the last.
        let second = issue(&kv, &clock, &account, &Actor::Admin, "second").unwrap();
        revoke(&kv, &clock, &caller, only.id.as_str()).unwrap();
        assert!(authenticate(&kv, Some(&bearer(&only))).is_err());
        let refused = revoke(&kv, &clock, &caller, second.id.as_str());
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    }
}
