//! Identify: the page tells who its logged-in user is, and the visitor is
//! linked to the customer with that external id.
//!
//! `POST /v1/widget/identify {site, visitor, id, email?, firstname?,
//! lastname?, labels?, hash?}`:
//!
//! - When the account has an **identity secret** (`PUT
//!   /api/v1/widget/identity-secret`), `hash` must be the lowercase hex
//!   HMAC-SHA256 of the external id (as text: `123` and `"123"` are the
//!   same) under that secret, computed by the business's server when it
//!   renders the page. Otherwise the answer is 401 and the refusal lands in
//!   the audit log: a visitor cannot claim someone else's identity. Without
//!   a secret, identify is accepted unverified (as in Intercom/Crisp), and the
//!   answer says `verified: false`.
//! - The visitor's own customer record (its id is the visitor id, the one
//!   conversations use) is tagged with the identity; fields not sent keep
//!   their values.
//! - If another customer record already carries that external id (tagged by
//!   the integrator, or another device of the same user), the visitor is
//!   linked to the oldest such record (`acct:<a>:visitor-link:<visitor>`):
//!   its visibility override then applies to this visitor too.
//!
//! The secret is stored sealed with the `signing_key` Spin variable, never
//! shown again, and compared in constant time.

use crate::api::accounts;
use crate::api::audit;
use crate::api::auth::{Actor, Caller};
use crate::api::customers::{self, CustomerInput, ExternalId, Lookup};
use crate::base::crypto::{constant_time_eq, hex, hmac_sha256, open, seal};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, CustomerId, SiteKey};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
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
    /// The visitor (its customer id).
    pub visitor: CustomerId,
    /// The user's id in the business's system.
    pub id: ExternalId,
    /// Email, if sent.
    pub email: Option<String>,
    /// First name, if sent.
    pub firstname: Option<String>,
    /// Last name, if sent.
    pub lastname: Option<String>,
    /// Labels, if sent.
    pub labels: Option<Vec<String>>,
    /// The HMAC of `id`, if sent.
    pub hash: Option<String>,
}

/// Reads the identify body. The customer fields are validated exactly as
/// customer tagging validates them.
pub fn parse_identify(body: &Value) -> Result<IdentifyInput> {
    let mut errors = Errors::new();
    let input = Object::new(body, "", &mut errors).and_then(|object| {
        let site = match object.get("site").and_then(Value::as_str) {
            Some(s) => SiteKey::parse(s).map_err(|m| errors.add("site", m)).ok(),
            None => {
                errors.add("site", "is required: the site key of the widget");
                None
            }
        };
        let visitor = match object.get("visitor").and_then(Value::as_str) {
            Some(s) => CustomerId::parse(s)
                .map_err(|m| errors.add("visitor", m))
                .ok(),
            None => {
                errors.add(
                    "visitor",
                    "is required: the id the widget knows the visitor by",
                );
                None
            }
        };
        let hash = match object.get("hash") {
            None => Some(None),
            Some(Value::String(h)) if h.len() <= 128 => Some(Some(h.to_ascii_lowercase())),
            Some(_) => {
                errors.add("hash", "must be the hex HMAC-SHA256 of id");
                None
            }
        };
        // Reuse the tagging parser for id, email, names and labels.
        let mut tags = serde_json::Map::new();
        for name in ["id", "email", "firstname", "lastname", "labels"] {
            if let Some(v) = object.get(name) {
                tags.insert(name.into(), v.clone());
            }
        }
        let tagged = match customers::parse_put("identify", &Value::Object(tags)) {
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
        let id = match tagged.as_ref().map(|t| t.id.clone()) {
            Some(Some(id)) => Some(id),
            Some(None) => {
                errors.add("id", "is required: the user's id in your system");
                None
            }
            None => None,
        };
        let labels_sent = object.get("labels").is_some();
        let tagged = tagged?;
        Some(IdentifyInput {
            site: site?,
            visitor: visitor?,
            id: id?,
            email: tagged.email,
            firstname: tagged.firstname,
            lastname: tagged.lastname,
            labels: labels_sent.then_some(tagged.labels),
            hash: hash?,
        })
    });
    errors.finish_with(input)
}

/// The answer to identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identified {
    /// The visitor's customer record, now tagged.
    pub customer_id: CustomerId,
    /// The older record with the same external id the visitor was linked
    /// to, if any.
    pub linked_customer_id: Option<CustomerId>,
    /// Whether the hash was checked against the account's identity secret.
    pub verified: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Link {
    v: u32,
    customer_id: CustomerId,
    external_id: String,
    linked_at: Timestamp,
}

/// Identifies a visitor (see the module docs).
pub fn identify(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    signing_key: &[u8],
    input: &IdentifyInput,
) -> Result<Identified> {
    let account = accounts::require_by_site_key(kv, &input.site)?;
    let actor = Actor::Visitor(input.visitor.to_string());
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
                    &format!("visitor:{}", input.visitor),
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
    let caller = Caller {
        account: account.clone(),
        actor,
    };
    let current = match customers::get(kv, &account, input.visitor.as_str()) {
        Ok(customer) => Some(customer),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let tags = CustomerInput {
        id: Some(input.id.clone()),
        email: input
            .email
            .clone()
            .or_else(|| current.as_ref().and_then(|c| c.email.clone())),
        firstname: input
            .firstname
            .clone()
            .or_else(|| current.as_ref().and_then(|c| c.firstname.clone())),
        lastname: input
            .lastname
            .clone()
            .or_else(|| current.as_ref().and_then(|c| c.lastname.clone())),
        labels: input
            .labels
            .clone()
            .or_else(|| current.as_ref().map(|c| c.labels.clone()))
            .unwrap_or_default(),
    };
    customers::put(kv, clock, &caller, &input.visitor, &tags)?;
    let linked = customers::find(kv, &account, &Lookup::ExternalId(external.clone()))?
        .into_iter()
        .filter(|c| c.customer_id != input.visitor)
        .min_by_key(|c| c.created_at)
        .map(|c| c.customer_id);
    let link_key = keys::visitor_link(&account, &input.visitor);
    match &linked {
        Some(customer_id) => doc::write(
            kv,
            &link_key,
            &Link {
                v: 1,
                customer_id: customer_id.clone(),
                external_id: external,
                linked_at: clock.now(),
            },
        )?,
        None => kv.delete(&link_key)?,
    }
    Ok(Identified {
        customer_id: input.visitor.clone(),
        linked_customer_id: linked,
        verified,
    })
}

/// The customer record an identified visitor was linked to, if any.
pub fn linked_customer(
    kv: &dyn KeyValue,
    account: &AccountId,
    visitor: &CustomerId,
) -> Result<Option<CustomerId>> {
    Ok(doc::read::<Link>(kv, &keys::visitor_link(account, visitor))?.map(|l| l.customer_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;
    use serde_json::json;

    const SIGNING_KEY: &[u8] = b"test-signing-key";

    fn setup() -> (MemoryStore, ManualClock, Caller, String) {
        let (World { kv, clock, caller }, site) = World::with_account(Actor::Admin);
        (kv, clock, caller, site.to_string())
    }

    fn body(site: &str, visitor: &str, extra: Value) -> IdentifyInput {
        let mut body = json!({"site": site, "visitor": visitor, "id": 123});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        parse_identify(&body).unwrap()
    }

    #[test]
    fn without_a_secret_identify_tags_the_visitor_unverified() {
        let (kv, clock, caller, site) = setup();
        let out = identify(
            &kv,
            &clock,
            SIGNING_KEY,
            &body(&site, "v1", json!({"email": "a@b.co", "labels": ["vip"]})),
        )
        .unwrap();
        assert!(!out.verified);
        assert_eq!(out.linked_customer_id, None);
        let found =
            customers::find(&kv, &caller.account, &Lookup::ExternalId("123".into())).unwrap();
        assert_eq!(found[0].customer_id.as_str(), "v1");
        assert_eq!(found[0].labels, ["vip"]);
        // A later identify without labels keeps them.
        identify(&kv, &clock, SIGNING_KEY, &body(&site, "v1", json!({}))).unwrap();
        let again = customers::get(&kv, &caller.account, "v1").unwrap();
        assert_eq!(again.labels, ["vip"]);
        assert_eq!(again.email.as_deref(), Some("a@b.co"));
    }

    #[test]
    fn with_a_secret_only_the_right_hash_is_accepted() {
        let (kv, clock, caller, site) = setup();
        put_secret(&kv, &clock, &caller, SIGNING_KEY, "0123456789abcdef-secret").unwrap();
        assert!(!kv.keys().iter().any(|k| {
            String::from_utf8(kv.get(k).unwrap().unwrap_or_default())
                .unwrap_or_default()
                .contains("0123456789abcdef-secret")
        }));
        let good = identity_hash(b"0123456789abcdef-secret", "123");
        for wrong in [
            None,
            Some("00".repeat(32)),
            Some(identity_hash(b"0123456789abcdef-secret", "124")),
        ] {
            let extra = wrong.map_or(json!({}), |h| json!({ "hash": h }));
            let refused = identify(&kv, &clock, SIGNING_KEY, &body(&site, "v1", extra));
            assert!(
                matches!(refused, Err(Error::Unauthorized(_))),
                "{refused:?}"
            );
        }
        assert!(
            customers::get(&kv, &caller.account, "v1").is_err(),
            "nothing was tagged"
        );
        let log = audit::page(&kv, &clock, &caller.account, None, 100, None).unwrap();
        assert_eq!(
            log.items
                .iter()
                .filter(|e| e.action == "widget.identify_refused")
                .count(),
            3
        );
        let out = identify(
            &kv,
            &clock,
            SIGNING_KEY,
            &body(&site, "v1", json!({ "hash": good.to_uppercase() })),
        )
        .unwrap();
        assert!(out.verified);
    }

    #[test]
    fn a_second_device_is_linked_to_the_first_record_with_that_id() {
        let (kv, clock, caller, site) = setup();
        let (crm, input) = customers::parse_put("crm-123", &json!({"id": "123"})).unwrap();
        customers::put(&kv, &clock, &caller, &crm, &input).unwrap();
        clock.advance(1_000);
        let out = identify(&kv, &clock, SIGNING_KEY, &body(&site, "v2", json!({}))).unwrap();
        assert_eq!(
            out.linked_customer_id.as_ref().map(|c| c.as_str()),
            Some("crm-123")
        );
        let v2 = CustomerId::parse("v2").unwrap();
        assert_eq!(
            linked_customer(&kv, &caller.account, &v2).unwrap(),
            Some(crm)
        );
    }

    #[test]
    fn identify_needs_site_visitor_and_id() {
        let cases = [
            (json!({"visitor": "v1", "id": 1}), "site"),
            (
                json!({"site": "site_000000000000000000000000", "id": 1}),
                "visitor",
            ),
            (
                json!({"site": "site_000000000000000000000000", "visitor": "v1"}),
                "id",
            ),
            (
                json!({"site": "site_000000000000000000000000", "visitor": "v 1", "id": 1}),
                "visitor",
            ),
            (
                json!({"site": "site_000000000000000000000000", "visitor": "v1", "id": 1, "email": "x"}),
                "email",
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
    fn an_identify_that_changes_the_tags_is_one_customer_event() {
        let (kv, clock, caller, site) = setup();
        let vip = body(&site, "v1", json!({"labels": ["vip"]}));
        identify(&kv, &clock, SIGNING_KEY, &vip).unwrap();
        identify(&kv, &clock, SIGNING_KEY, &vip).unwrap();
        identify(&kv, &clock, SIGNING_KEY, &body(&site, "v1", json!({}))).unwrap();
        identify(
            &kv,
            &clock,
            SIGNING_KEY,
            &body(&site, "v1", json!({"email": "a@b.co"})),
        )
        .unwrap();
        let page = crate::chat::events::page(
            &kv,
            &clock,
            &caller.account,
            &crate::chat::longpoll::Query::first(10),
            &|| {},
        )
        .unwrap();
        let changes: Vec<(&str, &str, &Value)> = page
            .items
            .iter()
            .map(|e| {
                (
                    e.kind.as_str(),
                    e.data["change"].as_str().unwrap(),
                    &e.data["customer"]["email"],
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("customer.updated", "created", &Value::Null),
                ("customer.updated", "updated", &json!("a@b.co")),
            ]
        );
    }
}
