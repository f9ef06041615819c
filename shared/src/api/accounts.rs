//! Accounts: created by the operator (admin token), each with a public site
//! key for the widget and a first API token.

use crate::api::audit;
use crate::api::auth::Actor;
use crate::api::tokens;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, SiteKey};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest account name.
pub const MAX_NAME_LEN: usize = 200;

/// An account as shown to API callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account id.
    pub id: AccountId,
    /// The business's name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredAccount {
    v: u32,
    #[serde(flatten)]
    account: Account,
    site_key: SiteKey,
}

#[derive(Debug, Serialize, Deserialize)]
struct SiteRecord {
    v: u32,
    account: AccountId,
}

/// The answer to creating an account; the API token is shown only here.
#[derive(Debug, Serialize)]
pub struct CreatedAccount {
    /// The new account.
    pub account: Account,
    /// The public key the widget embeds.
    pub site_key: SiteKey,
    /// The first API token (secret, shown once).
    pub api_token: String,
}

/// Reads `{name}` from a create request.
pub fn parse_create(body: &Value) -> Result<String> {
    let mut errors = Errors::new();
    let name = Object::new(body, "", &mut errors)
        .and_then(|object| object.required_str("name", MAX_NAME_LEN, &mut errors));
    errors.finish(name.unwrap_or_default())
}

/// Creates an account with its site key and a first API token named `default`.
pub fn create(kv: &dyn KeyValue, clock: &dyn Clock, name: &str) -> Result<CreatedAccount> {
    let account = Account {
        id: AccountId::generate(),
        name: name.to_string(),
        created_at: clock.now(),
    };
    let site_key = SiteKey::generate();
    let stored = StoredAccount {
        v: 1,
        account: account.clone(),
        site_key: site_key.clone(),
    };
    if !doc::create(kv, &keys::account(&account.id), &stored)? {
        // 80 random bits collided: astronomically unlikely; never overwrite.
        return Err(Error::Conflict(
            "account id collision; retry the request".into(),
        ));
    }
    let site = SiteRecord {
        v: 1,
        account: account.id.clone(),
    };
    doc::write(kv, &keys::site(&site_key), &site)?;
    audit::record(
        kv,
        clock,
        &account.id,
        &Actor::Admin,
        audit::Action::AccountCreated,
        &format!("account:{}", account.id),
    )?;
    let token = tokens::issue(kv, clock, &account.id, &Actor::Admin, "default")?;
    Ok(CreatedAccount {
        account,
        site_key,
        api_token: token.token,
    })
}

/// Mints an API token for an existing account, as the operator: the way back
/// for an account whose integrator lost every token. Audited as `admin`.
pub fn issue_token(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    name: &str,
) -> Result<tokens::IssuedToken> {
    if get(kv, account)?.is_none() {
        return Err(Error::NotFound(format!("there is no account {account}")));
    }
    tokens::issue(kv, clock, account, &Actor::Admin, name)
}

/// The account a public site key belongs to.
pub fn by_site_key(kv: &dyn KeyValue, site_key: &SiteKey) -> Result<Option<AccountId>> {
    Ok(doc::read::<SiteRecord>(kv, &keys::site(site_key))?.map(|record| record.account))
}

/// The account a public site key belongs to, or a 404 that says what to use.
pub fn require_by_site_key(kv: &dyn KeyValue, site_key: &SiteKey) -> Result<AccountId> {
    by_site_key(kv, site_key)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no site {:?}; use the site key of your account",
            site_key.as_str()
        ))
    })
}

/// An account by id.
pub fn get(kv: &dyn KeyValue, id: &AccountId) -> Result<Option<Account>> {
    Ok(doc::read_shared::<StoredAccount>(kv, &keys::account(id))?.map(|stored| stored.account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::authenticate;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use serde_json::json;

    #[test]
    fn the_operator_can_mint_a_token_for_an_existing_account_only() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let created = create(&kv, &clock, "Acme").unwrap();
        let issued = issue_token(&kv, &clock, &created.account.id, "recovery").unwrap();
        let caller = authenticate(&kv, Some(&format!("Bearer {}", issued.token))).unwrap();
        assert_eq!(caller.account, created.account.id);
        assert!(matches!(
            issue_token(&kv, &clock, &AccountId::generate(), "recovery"),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn a_new_account_has_a_site_key_and_a_working_api_token() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let created = create(&kv, &clock, "Acme").unwrap();
        assert_eq!(created.account.name, "Acme");
        let caller = authenticate(&kv, Some(&format!("Bearer {}", created.api_token))).unwrap();
        assert_eq!(caller.account, created.account.id);
        assert_eq!(
            by_site_key(&kv, &created.site_key).unwrap(),
            Some(created.account.id.clone())
        );
        assert_eq!(
            get(&kv, &created.account.id).unwrap(),
            Some(created.account)
        );
    }

    #[test]
    fn account_creation_is_audited_as_the_admin() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let created = create(&kv, &clock, "Acme").unwrap();
        let log = audit::page(&kv, &clock, &created.account.id, None, 10, None).unwrap();
        assert_eq!(log.items[0].action, "account.created");
        assert_eq!(log.items[0].actor, "admin");
    }

    #[test]
    fn an_account_needs_a_name() {
        assert!(parse_create(&json!({"name": "  "})).is_err());
        assert!(parse_create(&json!({"name": "x".repeat(201)})).is_err());
        assert_eq!(parse_create(&json!({"name": " Acme "})).unwrap(), "Acme");
    }
}
