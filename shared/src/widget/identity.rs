//! Identify: the page says who its logged-in user is.
//!
//! `POST /v1/widget/identify {site, visitor, id, email?, firstname?,
//! lastname?, hash?}` → `{verified}`.
//!
//! **What a page may assert.** Customers are tagged by the business's
//! backend (`PUT /api/v1/customers/{id}`, API token): that is the trusted
//! record, and nothing a page sends ever changes it. A page can only say
//! "this visitor (a minted visitor id, see [`crate::chat::visitors`]) is the
//! user with external id X", and:
//! - When the account has an **identity secret** (`PUT
//!   /api/v1/widget/identity-secret`), `hash` must be the lowercase hex
//!   HMAC-SHA256 of the external id (as text: `123` and `"123"` are the
//!   same) under that secret, computed by the business's server when it
//!   renders the page. A missing or wrong hash is 401 and lands in the audit
//!   log. A verified identify ties the visitor to the oldest customer record
//!   tagged with X: conversations the visitor starts then belong to that
//!   customer (the agent sees its tags) and its visibility override applies.
//! - Without a secret, identify is an **unverified hint**: it is kept with
//!   the visitor and shown on its conversations as `identity` with
//!   `verified: false`, and it ties the visitor to no customer.
//! - `email`, `firstname` and `lastname` are always only what the page
//!   claimed (shown in `identity`, never copied into a customer record);
//!   `labels` are the backend's tags and are refused.
//! - The answer is only `{verified}`: it never says whether a customer with
//!   that external id exists, so identify is no oracle.
//!
//! The secret is stored sealed with the `signing_key` Spin variable, never
//! shown again, and compared in constant time.

use crate::api::accounts;
use crate::api::audit;
use crate::api::auth::{Actor, Caller};
#[cfg(test)]
use crate::api::customers::Customer;
use crate::api::customers::{self, ExternalId, Lookup};
use crate::base::crypto::{constant_time_eq, hex, hmac_sha256, open, seal};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, CustomerId, SiteKey};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::chat::visitors;
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Shortest identity secret accepted.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest identity secret accepted.
pub const MAX_SECRET_LEN: usize = 256;
const SEAL_CONTEXT: &[u8] = b"edgechat identity secret v1";

#[derive(Debug, Serialize, Deserialize)]
struct StoredSecret {
    v: u32,
    /// base64url of the sealed secret.
    sealed: String,
    updated_at: Timestamp,
}

/// Whether an identity secret is set (the secret itself is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretStatus {
    /// A secret is set: identify requires a valid `hash`.
    pub configured: bool,
    /// When it was last set.
    pub updated_at: Option<Timestamp>,
}

fn seal_key(signing_key: &[u8]) -> [u8; 32] {
    hmac_sha256(signing_key, &[SEAL_CONTEXT])
}

/// Reads `{secret}` (16 to 256 characters).
pub fn parse_secret(body: &Value) -> Result<String> {
    let mut errors = Errors::new();
    let secret = Object::new(body, "", &mut errors).and_then(|object| {
        let secret = object.required_str("secret", MAX_SECRET_LEN, &mut errors)?;
        if secret.chars().count() < MIN_SECRET_LEN {
            errors.add(
                "secret",
                format!("must be at least {MIN_SECRET_LEN} characters"),
            );
            return None;
        }
        Some(secret)
    });
    errors.finish_with(secret)
}

/// Sets (or replaces) the identity secret.
pub fn put_secret(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    signing_key: &[u8],
    secret: &str,
) -> Result<SecretStatus> {
    let now = clock.now();
    let stored = StoredSecret {
        v: 1,
        sealed: crate::base::crypto::base64url(&seal(&seal_key(signing_key), secret.as_bytes())),
        updated_at: now,
    };
    doc::write(kv, &keys::identity_secret(&caller.account), &stored)?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::IdentitySecretUpdated,
        "widget",
    )?;
    Ok(SecretStatus {
        configured: true,
        updated_at: Some(now),
    })
}

/// Removes the identity secret: identify is accepted unverified again.
pub fn delete_secret(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller) -> Result<()> {
    kv.delete(&keys::identity_secret(&caller.account))?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::IdentitySecretDeleted,
        "widget",
    )
}

/// Whether a secret is set.
pub fn secret_status(kv: &dyn KeyValue, account: &AccountId) -> Result<SecretStatus> {
    let stored: Option<StoredSecret> = doc::read(kv, &keys::identity_secret(account))?;
    Ok(SecretStatus {
        configured: stored.is_some(),
        updated_at: stored.map(|s| s.updated_at),
    })
}

fn read_secret(
    kv: &dyn KeyValue,
    account: &AccountId,
    signing_key: &[u8],
) -> Result<Option<Vec<u8>>> {
    let Some(stored) = doc::read::<StoredSecret>(kv, &keys::identity_secret(account))? else {
        return Ok(None);
    };
    crate::base::crypto::from_base64url(&stored.sealed)
        .and_then(|sealed| open(&seal_key(signing_key), &sealed))
        .map(Some)
        .ok_or_else(|| {
            Error::Corrupt("the identity secret cannot be opened (was signing_key rotated?)".into())
        })
}

/// The hash a business computes for an external id: hex HMAC-SHA256.
pub fn identity_hash(secret: &[u8], external_id: &str) -> String {
    hex(&hmac_sha256(secret, &[external_id.as_bytes()]))
}

/// An identify request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyInput {
    /// The site the widget is on.
    pub site: SiteKey,
    /// The visitor id as sent; verified against the site in [`identify`].
    pub visitor: String,
    /// The user's id in the business's system.
    pub id: ExternalId,
    /// Email, as the page claims it.
    pub email: Option<String>,
    /// First name, as the page claims it.
    pub firstname: Option<String>,
    /// Last name, as the page claims it.
    pub lastname: Option<String>,
    /// The HMAC of `id`, if sent.
    pub hash: Option<String>,
}

/// Reads the identify body. `id`, `email` and the names are validated
/// exactly as customer tagging validates them.
pub fn parse_identify(body: &Value) -> Result<IdentifyInput> {
    let mut errors = Errors::new();
    let input = Object::new(body, "", &mut errors).and_then(|object| {
        let site = object.required_parsed(
            "site",
            "is required: the site key of the widget",
            SiteKey::parse,
            &mut errors,
        );
        let visitor = object.required_str("visitor", 128, &mut errors);
        if object.get("labels").is_some() {
            errors.add(
                "labels",
                "labels are your backend's tags: set them with PUT /api/v1/customers/{id}, never from the page",
            );
        }
        let hash = match object.get("hash") {
            None => Some(None),
            Some(Value::String(h)) if h.len() <= 128 => Some(Some(h.to_ascii_lowercase())),
            Some(_) => {
                errors.add("hash", "must be the hex HMAC-SHA256 of id");
                None
            }
        };
        // Reuse the tagging parser for id, email and names.
        let mut claimed = serde_json::Map::new();
        for name in ["id", "email", "firstname", "lastname"] {
            if let Some(v) = object.get(name) {
                claimed.insert(name.into(), v.clone());
            }
        }
        let claimed = match customers::parse_put("identify", &Value::Object(claimed)) {
            Ok((_, input)) => Some(input),
            Err(Error::Invalid(list)) => {
                for e in list {
                    errors.add(e.field, e.message);
                }
                None
            }
            Err(e) => {
                errors.add("body", e.to_string());
                None
            }
        };
        let id = match claimed.as_ref().map(|c| c.id.clone()) {
            Some(Some(id)) => Some(id),
            Some(None) => {
                errors.add("id", "is required: the user's id in your system");
                None
            }
            None => None,
        };
        let claimed = claimed?;
        Some(IdentifyInput {
            site: site?,
            visitor: visitor?,
            id: id?,
            email: claimed.email,
            firstname: claimed.firstname,
            lastname: claimed.lastname,
            hash: hash?,
        })
    });
    errors.finish_with(input)
}

/// The answer to identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identified {
    /// Whether the hash was checked against the account's identity secret.
    pub verified: bool,
}

/// What the page last said about who a visitor is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user's id in the business's system, as text.
    pub external_id: String,
    /// The page proved it with the identity secret's HMAC.
    pub verified: bool,
    /// Verified only: the tagged customer with that external id, when one
    /// existed at identify time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_id: Option<CustomerId>,
    /// As the page claimed it (never verified).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    /// As the page claimed it (never verified).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub firstname: Option<String>,
    /// As the page claimed it (never verified).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lastname: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredIdentity {
    v: u32,
    identity: Identity,
    identified_at: Timestamp,
}

/// Identifies a visitor (see the module docs).
pub fn identify(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    signing_key: &[u8],
    input: &IdentifyInput,
) -> Result<Identified> {
    let account = accounts::require_by_site_key(kv, &input.site)?;
    let visitor = visitors::verify_id(signing_key, &account, &input.visitor)?;
    let actor = Actor::Visitor(visitor.to_string());
    let external = input.id.index_text();
    let verified = match read_secret(kv, &account, signing_key)? {
        None => false,
        Some(secret) => {
            let expected = identity_hash(&secret, &external);
            let presented = input.hash.as_deref().unwrap_or_default();
            if !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
                audit::record(
                    kv,
                    clock,
                    &account,
                    &actor,
                    audit::Action::WidgetIdentifyRefused,
                    &format!("visitor:{visitor}"),
                )?;
                return Err(Error::Unauthorized(if input.hash.is_none() {
                    "this site verifies identities: send hash, the hex HMAC-SHA256 of id under the identity secret, computed on your server".into()
                } else {
                    "hash does not match id: compute it on your server as hex HMAC-SHA256(identity secret, id)".into()
                }));
            }
            true
        }
    };
    let customer_id = if verified {
        customers::find(kv, &account, &Lookup::ExternalId(external.clone()))?
            .into_iter()
            .min_by_key(|c| c.created_at)
            .map(|c| c.customer_id)
    } else {
        None
    };
    let identity = Identity {
        external_id: external,
        verified,
        customer_id,
        email: input.email.clone(),
        firstname: input.firstname.clone(),
        lastname: input.lastname.clone(),
    };
    // The page repeats identify on every load: only a change is written
    // and audited.
    if self::identity(kv, &account, &visitor)?.as_ref() != Some(&identity) {
        let stored = StoredIdentity {
            v: 1,
            identity,
            identified_at: clock.now(),
        };
        doc::write(kv, &keys::visitor_identity(&account, &visitor), &stored)?;
        audit::record(
            kv,
            clock,
            &account,
            &actor,
            audit::Action::WidgetIdentified,
            &format!("visitor:{visitor}"),
        )?;
    }
    Ok(Identified { verified })
}

/// What the page last said about `visitor`, if it identified it.
pub fn identity(
    kv: &dyn KeyValue,
    account: &AccountId,
    visitor: &CustomerId,
) -> Result<Option<Identity>> {
    Ok(
        doc::read::<StoredIdentity>(kv, &keys::visitor_identity(account, visitor))?
            .map(|stored| stored.identity),
    )
}

/// The tagged customer a visitor proved to be (verified identify only).
pub fn verified_customer(
    kv: &dyn KeyValue,
    account: &AccountId,
    visitor: &CustomerId,
) -> Result<Option<CustomerId>> {
    Ok(identity(kv, account, visitor)?
        .filter(|identity| identity.verified)
        .and_then(|identity| identity.customer_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;
    use serde_json::json;

    const SIGNING_KEY: &[u8] = b"test-signing-key";
    const SECRET: &str = "0123456789abcdef-secret";

    struct Setup {
        kv: MemoryStore,
        clock: ManualClock,
        caller: Caller,
        site: String,
        visitor: CustomerId,
    }

    fn setup() -> Setup {
        let (World { kv, clock, caller }, site) = World::with_account(Actor::Admin);
        let visitor = visitors::mint_id(SIGNING_KEY, &caller.account);
        Setup {
            kv,
            clock,
            caller,
            site: site.to_string(),
            visitor,
        }
    }

    impl Setup {
        fn body(&self, extra: Value) -> IdentifyInput {
            let mut body = json!({"site": self.site, "visitor": self.visitor, "id": 123});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            parse_identify(&body).unwrap()
        }

        fn identify(&self, extra: Value) -> Result<Identified> {
            identify(&self.kv, &self.clock, SIGNING_KEY, &self.body(extra))
        }

        /// The business's backend tags `john` with external id 123.
        fn tag_john(&self) -> Customer {
            let (john, input) = customers::parse_put(
                "john",
                &json!({"id": 123, "email": "john@example.com", "firstname": "John", "labels": ["crm"]}),
            )
            .unwrap();
            customers::put(&self.kv, &self.clock, &self.caller, &john, &input).unwrap();
            customers::get(&self.kv, &self.caller.account, "john").unwrap()
        }
    }

    #[test]
    fn without_a_secret_identify_is_an_unverified_hint_that_changes_no_customer() {
        let s = setup();
        let john = s.tag_john();
        let out = s
            .identify(json!({"email": "attacker@evil.example", "firstname": "Mallory"}))
            .unwrap();
        assert_eq!(out, Identified { verified: false });
        assert_eq!(
            customers::get(&s.kv, &s.caller.account, "john").unwrap(),
            john
        );
        let hint = identity(&s.kv, &s.caller.account, &s.visitor)
            .unwrap()
            .unwrap();
        assert!(!hint.verified);
        assert_eq!(hint.customer_id, None, "an unverified hint links no one");
        assert_eq!(hint.email.as_deref(), Some("attacker@evil.example"));
        assert_eq!(
            verified_customer(&s.kv, &s.caller.account, &s.visitor).unwrap(),
            None
        );
        assert!(
            customers::get(&s.kv, &s.caller.account, s.visitor.as_str()).is_err(),
            "no customer record is written for the visitor either"
        );
    }

    #[test]
    fn a_verified_identify_ties_the_visitor_to_the_tagged_customer_without_changing_it() {
        let s = setup();
        put_secret(&s.kv, &s.clock, &s.caller, SIGNING_KEY, SECRET).unwrap();
        let john = s.tag_john();
        let hash = identity_hash(SECRET.as_bytes(), "123");
        let out = s
            .identify(json!({"hash": hash, "email": "attacker@evil.example"}))
            .unwrap();
        assert!(out.verified);
        assert_eq!(
            verified_customer(&s.kv, &s.caller.account, &s.visitor).unwrap(),
            Some(john.customer_id.clone())
        );
        assert_eq!(
            customers::get(&s.kv, &s.caller.account, "john").unwrap(),
            john,
            "the page never changes the backend's tags"
        );
    }

    #[test]
    fn with_a_secret_only_the_right_hash_is_accepted() {
        let s = setup();
        put_secret(&s.kv, &s.clock, &s.caller, SIGNING_KEY, SECRET).unwrap();
        assert!(!s.kv.keys().iter().any(|k| {
            String::from_utf8(s.kv.get(k).unwrap().unwrap_or_default())
                .unwrap_or_default()
                .contains(SECRET)
        }));
        let good = identity_hash(SECRET.as_bytes(), "123");
        for wrong in [
            None,
            Some("00".repeat(32)),
            Some(identity_hash(SECRET.as_bytes(), "124")),
        ] {
            let extra = wrong.map_or(json!({}), |h| json!({ "hash": h }));
            let refused = s.identify(extra);
            assert!(
                matches!(refused, Err(Error::Unauthorized(_))),
                "{refused:?}"
            );
        }
        assert_eq!(
            identity(&s.kv, &s.caller.account, &s.visitor).unwrap(),
            None
        );
        let log = audit::page(&s.kv, &s.clock, &s.caller.account, None, 100, None).unwrap();
        assert_eq!(
            log.items
                .iter()
                .filter(|e| e.action == "widget.identify_refused")
                .count(),
            3
        );
        let out = s.identify(json!({ "hash": good.to_uppercase() })).unwrap();
        assert!(out.verified);
    }

    #[test]
    fn a_visitor_id_not_minted_for_the_site_is_refused() {
        let s = setup();
        for visitor in ["john", "vis_0000", s.visitor.as_str()] {
            let other_site = visitors::mint_id(SIGNING_KEY, &AccountId::generate());
            let visitor = if visitor == s.visitor.as_str() {
                other_site.to_string()
            } else {
                visitor.to_string()
            };
            let body = json!({"site": s.site, "visitor": visitor, "id": 123});
            let refused = identify(
                &s.kv,
                &s.clock,
                SIGNING_KEY,
                &parse_identify(&body).unwrap(),
            );
            assert!(
                matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "visitor"),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn identify_needs_site_visitor_and_id_and_never_takes_labels() {
        let site = "site_000000000000000000000000";
        let cases = [
            (json!({"visitor": "v1", "id": 1}), "site"),
            (json!({"site": site, "id": 1}), "visitor"),
            (json!({"site": site, "visitor": "v1"}), "id"),
            (
                json!({"site": site, "visitor": "v1", "id": 1, "email": "x"}),
                "email",
            ),
            (
                json!({"site": site, "visitor": "v1", "id": 1, "labels": ["vip"]}),
                "labels",
            ),
        ];
        for (body, field) in cases {
            let Err(Error::Invalid(errors)) = parse_identify(&body) else {
                panic!("expected a validation error for {body}");
            };
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field} in {errors:?}"
            );
        }
    }

    #[test]
    fn repeating_the_same_identify_writes_and_audits_once() {
        let s = setup();
        for _ in 0..3 {
            s.identify(json!({"email": "a@b.co"})).unwrap();
        }
        s.identify(json!({"email": "c@d.co"})).unwrap();
        let log = audit::page(&s.kv, &s.clock, &s.caller.account, None, 100, None).unwrap();
        assert_eq!(
            log.items
                .iter()
                .filter(|e| e.action == "widget.identified")
                .count(),
            2
        );
    }
}
