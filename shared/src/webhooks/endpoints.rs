//! Webhook endpoints: `POST/GET /api/v1/webhooks`, `GET/PATCH/DELETE
//! /api/v1/webhooks/{id}`, `POST …/rotate-secret`.
//!
//! The account's endpoints (at most [`MAX_ENDPOINTS`]) are one shared
//! document, `acct:<a>:webhooks`, changed through [`doc::update`]: every
//! management call and the dispatcher (which disables endpoints) may write
//! it at once without losing a change. Each endpoint keeps its secrets
//! sealed ([`signing`]); the plaintext is in the answer to create and
//! rotate, and nowhere else.
//!
//! An endpoint is delivered the events written after it was created
//! (`start_seq`, the event log's head at that moment). Creating the first
//! endpoint of an account adds the account to the global list that
//! dispatch visits (`sys:webhooks:accounts`; accounts are never removed
//! from it, an account without endpoints costs dispatch one read).

use crate::api::audit::{self, Action};
use crate::api::auth::{Actor, Caller};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, WebhookId};
use crate::base::input::{Errors, Object};
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::chat::events;
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::store::KeyValue;
use crate::webhooks::signing::Secret;
use crate::webhooks::urls;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many endpoints an account may have.
pub const MAX_ENDPOINTS: usize = 20;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP_MILLIS: i64 = 24 * 60 * 60 * 1000;
/// Default and largest page of the endpoint list.
pub const DEFAULT_PAGE: usize = 20;

/// The sent `webhook.test` event's type.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    events::CONVERSATION_CREATED,
    events::MESSAGE_CREATED,
    events::CONVERSATION_ASSIGNED,
    events::CONVERSATION_CLOSED,
    events::CONVERSATION_REOPENED,
    events::CUSTOMER_UPDATED,
    events::AGENT_UPDATED,
    WEBHOOK_TEST,
];

/// A secret as stored: sealed, with the end of its overlap once replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    /// base64url of the sealed `whsec_…`.
    pub sealed: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// Set once a newer secret replaced it: it signs until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// One endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Its id, `wh_…`.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: String,
    /// The event types it gets; `None`: all of them.
    pub events: Option<Vec<String>>,
    /// The business's note.
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why delivery disabled it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// It gets the events after this number of the event log.
    pub start_seq: u64,
    /// Newest first.
    pub secrets: Vec<StoredSecret>,
}

impl Endpoint {
    /// Whether it subscribes to events of type `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == kind))
    }

    /// The secrets that sign at `now` (newest first); one that does not
    /// open (the signing key changed) is left out.
    pub fn signing_secrets(
        &self,
        signing_key: &[u8],
        account: &AccountId,
        now: Timestamp,
    ) -> Vec<Secret> {
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|end| end > now))
            .filter_map(|s| Secret::open(&s.sealed, signing_key, account, &self.id))
            .collect()
    }

    /// What the API shows.
    pub fn view(&self) -> View<'_> {
        View {
            id: &self.id,
            url: &self.url,
            events: self.events.as_deref(),
            description: self.description.as_deref(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An endpoint as the API shows it: never a secret.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    id: &'a WebhookId,
    url: &'a str,
    events: Option<&'a [String]>,
    description: Option<&'a str>,
    enabled: bool,
    disabled_reason: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// The answer to create and rotate: the endpoint and its new secret.
#[derive(Debug, Serialize)]
pub struct WithSecret<'a> {
    #[serde(flatten)]
    endpoint: View<'a>,
    /// The new secret, shown this once.
    secret: &'a str,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct List {
    v: u32,
    items: Vec<Endpoint>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Registry {
    v: u32,
    accounts: Vec<AccountId>,
}

/// What a create or an update asks for; `None`: not given (kept).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Input {
    /// The checked URL.
    pub url: Option<String>,
    /// `Some(None)`: all events.
    pub events: Option<Option<Vec<String>>>,
    /// `Some(None)`: cleared.
    pub description: Option<Option<String>>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// Reads `POST /api/v1/webhooks {url, events?, description?}`.
pub fn parse_create(body: &Value, allow_insecure: bool) -> Result<Input> {
    let input = parse(body, allow_insecure, &["url", "events", "description"])?;
    if input.url.is_none() {
        return Err(Error::field("url", "is required"));
    }
    Ok(input)
}

/// Reads `PATCH /api/v1/webhooks/{id} {url?, events?, description?, enabled?}`.
pub fn parse_update(body: &Value, allow_insecure: bool) -> Result<Input> {
    parse(
        body,
        allow_insecure,
        &["url", "events", "description", "enabled"],
    )
}

fn parse(body: &Value, allow_insecure: bool, fields: &[&str]) -> Result<Input> {
    let mut errors = Errors::new();
    let Some(object) = Object::new(body, "", &mut errors) else {
        return errors.finish(Input::default());
    };
    // A misspelt field (`event_types`) must not silently mean "all events".
    if let Some(map) = body.as_object() {
        for name in map.keys().filter(|name| !fields.contains(&name.as_str())) {
            errors.add(name.clone(), "is not a field of this request");
        }
    }
    let mut input = Input::default();
    match object.get("url") {
        None if body.get("url").is_some() => errors.add("url", "must not be null"),
        None => {}
        Some(Value::String(url)) => match urls::check(url, allow_insecure) {
            Ok(url) => input.url = Some(url),
            Err(message) => errors.add("url", message),
        },
        Some(_) => errors.add("url", "must be a string"),
    }
    if let Some(value) = body.get("events") {
        input.events = Some(parse_events(value, &mut errors));
    }
    if body.get("description").is_some() {
        if let Some(description) =
            object.optional_str("description", MAX_DESCRIPTION_LEN, &mut errors)
        {
            input.description = Some(description);
        }
    }
    if let Some(enabled) = object.optional_bool("enabled", &mut errors) {
        input.enabled = enabled;
        if body.get("enabled").is_some_and(Value::is_null) {
            errors.add("enabled", "must be true or false");
        }
    }
    errors.finish(input)
}

fn parse_events(value: &Value, errors: &mut Errors) -> Option<Vec<String>> {
    let Value::Array(items) = value else {
        if !value.is_null() {
            errors.add("events", "must be a list of event types, or null for all");
        }
        return None;
    };
    if items.is_empty() {
        errors.add(
            "events",
            "must name at least one event type (leave it out for all)",
        );
        return None;
    }
    let mut types: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(kind) if EVENT_TYPES.contains(&kind) => {
                if !types.iter().any(|t| t == kind) {
                    types.push(kind.to_string());
                }
            }
            Some(kind) => errors.add(
                format!("events[{i}]"),
                format!(
                    "{:?} is not an event type; known types: {}",
                    kind.chars().take(100).collect::<String>(),
                    EVENT_TYPES.join(", ")
                ),
            ),
            None => errors.add(format!("events[{i}]"), "must be a string"),
        }
    }
    Some(types)
}

fn list_doc(kv: &dyn KeyValue, account: &AccountId) -> Result<List> {
    Ok(doc::read_shared(kv, &keys::webhooks(account))?.unwrap_or_default())
}

/// Every endpoint of the account, as stored.
pub fn all(kv: &dyn KeyValue, account: &AccountId) -> Result<Vec<Endpoint>> {
    Ok(list_doc(kv, account)?.items)
}

/// The accounts that ever had an endpoint (what dispatch visits).
pub fn accounts(kv: &dyn KeyValue) -> Result<Vec<AccountId>> {
    let registry: Option<Registry> = doc::read_shared(kv, keys::webhook_accounts())?;
    Ok(registry.unwrap_or_default().accounts)
}

fn register(kv: &dyn KeyValue, account: &AccountId) -> Result<()> {
    doc::update(
        kv,
        keys::webhook_accounts(),
        |registry: Option<Registry>| {
            let mut registry = registry.unwrap_or_default();
            if registry.accounts.contains(account) {
                return Ok(Step::Keep(()));
            }
            registry.v = 1;
            registry.accounts.push(account.clone());
            Ok(Step::Write(registry, ()))
        },
    )
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!(
        "there is no webhook endpoint {:?}",
        id.chars().take(100).collect::<String>()
    ))
}

/// One endpoint (404 for any text that is not one of the account's).
pub fn get(kv: &dyn KeyValue, account: &AccountId, id: &str) -> Result<Endpoint> {
    let parsed = WebhookId::parse(id).map_err(|_| not_found(id))?;
    list_doc(kv, account)?
        .items
        .into_iter()
        .find(|e| e.id == parsed)
        .ok_or_else(|| not_found(id))
}

/// A page of the account's endpoints, oldest first.
pub fn page(
    kv: &dyn KeyValue,
    account: &AccountId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Endpoint>> {
    let after = decode_seq_cursor("webhooks", cursor)? as usize;
    let items: Vec<Endpoint> = list_doc(kv, account)?
        .items
        .into_iter()
        .skip(after)
        .take(limit)
        .collect();
    let next = after + items.len();
    Ok(Page {
        items,
        next_cursor: encode_cursor("webhooks", &next.to_string()),
    })
}

/// Creates an endpoint; answers it with its secret.
pub fn create(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    input: Input,
    signing_key: &[u8],
) -> Result<(Endpoint, Secret)> {
    let account = &caller.account;
    let id = WebhookId::generate();
    let secret = Secret::generate();
    let now = clock.now();
    register(kv, account)?;
    let endpoint = Endpoint {
        id: id.clone(),
        url: input.url.unwrap_or_default(),
        events: input.events.flatten(),
        description: input.description.flatten(),
        enabled: true,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        start_seq: events::log(kv, account).head()?,
        secrets: vec![StoredSecret {
            sealed: secret.seal(signing_key, account, &id),
            created_at: now,
            expires_at: None,
        }],
    };
    doc::update(kv, &keys::webhooks(account), |list: Option<List>| {
        let mut list = list.unwrap_or_default();
        if list.items.len() >= MAX_ENDPOINTS {
            return Err(Error::Conflict(format!(
                "an account may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
            )));
        }
        list.v = 1;
        list.items.push(endpoint.clone());
        Ok(Step::Write(list, ()))
    })?;
    audit::record(
        kv,
        clock,
        account,
        &caller.actor,
        Action::WebhookCreated,
        &target(&id),
    )?;
    Ok((endpoint, secret))
}

/// The answer to create and rotate.
pub fn with_secret<'a>(endpoint: &'a Endpoint, secret: &'a Secret) -> WithSecret<'a> {
    WithSecret {
        endpoint: endpoint.view(),
        secret: secret.expose(),
    }
}

fn target(id: &WebhookId) -> String {
    format!("webhook:{id}")
}

/// Changes one endpoint with `change` (which returns whether it changed
/// anything); 404 when it is not the account's.
fn change(
    kv: &dyn KeyValue,
    account: &AccountId,
    id: &str,
    mut change: impl FnMut(&mut Endpoint) -> Result<bool>,
) -> Result<Endpoint> {
    let parsed = WebhookId::parse(id).map_err(|_| not_found(id))?;
    doc::update(kv, &keys::webhooks(account), |list: Option<List>| {
        let mut list = list.unwrap_or_default();
        let endpoint = list
            .items
            .iter_mut()
            .find(|e| e.id == parsed)
            .ok_or_else(|| not_found(id))?;
        let changed = change(endpoint)?;
        let result = endpoint.clone();
        Ok(if changed {
            Step::Write(list, result)
        } else {
            Step::Keep(result)
        })
    })
}

/// Applies a PATCH; audited even when nothing changed (it was asked for).
pub fn update(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    id: &str,
    input: &Input,
) -> Result<Endpoint> {
    let now = clock.now();
    let endpoint = change(kv, &caller.account, id, |endpoint| {
        let before = endpoint.clone();
        if let Some(url) = &input.url {
            endpoint.url = url.clone();
        }
        if let Some(events) = &input.events {
            endpoint.events = events.clone();
        }
        if let Some(description) = &input.description {
            endpoint.description = description.clone();
        }
        if let Some(enabled) = input.enabled {
            endpoint.enabled = enabled;
            if enabled {
                endpoint.disabled_reason = None;
            }
        }
        let changed = *endpoint != before;
        if changed {
            endpoint.updated_at = now;
        }
        Ok(changed)
    })?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        Action::WebhookUpdated,
        &target(&endpoint.id),
    )?;
    Ok(endpoint)
}

/// Gives the endpoint a new secret; the ones before it sign for
/// [`ROTATION_OVERLAP_MILLIS`] more (expired ones are dropped).
pub fn rotate(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    id: &str,
    signing_key: &[u8],
) -> Result<(Endpoint, Secret)> {
    let now = clock.now();
    let secret = Secret::generate();
    let endpoint = change(kv, &caller.account, id, |endpoint| {
        endpoint
            .secrets
            .retain(|s| s.expires_at.is_none_or(|end| end > now));
        for old in &mut endpoint.secrets {
            old.expires_at
                .get_or_insert(now.plus_millis(ROTATION_OVERLAP_MILLIS));
        }
        endpoint.secrets.insert(
            0,
            StoredSecret {
                sealed: secret.seal(signing_key, &caller.account, &endpoint.id),
                created_at: now,
                expires_at: None,
            },
        );
        endpoint.updated_at = now;
        Ok(true)
    })?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        Action::WebhookSecretRotated,
        &target(&endpoint.id),
    )?;
    Ok((endpoint, secret))
}

/// Deletes an endpoint: its deliveries stop at once.
pub fn delete(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller, id: &str) -> Result<()> {
    let parsed = WebhookId::parse(id).map_err(|_| not_found(id))?;
    doc::update(
        kv,
        &keys::webhooks(&caller.account),
        |list: Option<List>| {
            let mut list = list.unwrap_or_default();
            let before = list.items.len();
            list.items.retain(|e| e.id != parsed);
            if list.items.len() == before {
                return Err(not_found(id));
            }
            Ok(Step::Write(list, ()))
        },
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        Action::WebhookDeleted,
        &target(&parsed),
    )
}

/// Disables an endpoint because delivery says so (`reason`), audited as
/// `webhook.disabled` by `system`. Nothing happens if it is already off.
pub fn disable(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    id: &WebhookId,
    reason: &str,
) -> Result<()> {
    let now = clock.now();
    let mut switched = false;
    change(kv, account, id.as_str(), |endpoint| {
        switched = endpoint.enabled;
        if !endpoint.enabled {
            return Ok(false);
        }
        endpoint.enabled = false;
        endpoint.disabled_reason = Some(reason.to_string());
        endpoint.updated_at = now;
        Ok(true)
    })?;
    if switched {
        let target = format!("{}: {reason}", target(id));
        audit::record(
            kv,
            clock,
            account,
            &Actor::System,
            Action::WebhookDisabled,
            &target,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::World;
    use serde_json::json;

    const KEY: &[u8] = b"signing-key";

    fn create_one(world: &World, body: Value) -> Result<(Endpoint, Secret)> {
        let input = parse_create(&body, false)?;
        create(&world.kv, &world.clock, &world.caller, input, KEY)
    }

    #[test]
    fn a_created_endpoint_is_listed_without_its_secret_and_audited() {
        let world = World::new();
        let (endpoint, secret) = create_one(
            &world,
            json!({"url": "https://hooks.example.com/in", "events": ["message.created"]}),
        )
        .unwrap();
        assert!(secret.expose().starts_with("whsec_"));
        let shown = serde_json::to_string(&endpoint.view()).unwrap();
        assert!(!shown.contains("whsec_") && !shown.contains("sealed"));
        let page = page(&world.kv, &world.caller.account, None, 20).unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(endpoint.wants("message.created") && !endpoint.wants("agent.updated"));
        let opened = endpoint.signing_secrets(KEY, &world.caller.account, world.clock.now());
        assert_eq!(opened, [secret]);
        let audit = audit::page(
            &world.kv,
            &world.clock,
            &world.caller.account,
            None,
            10,
            None,
        )
        .unwrap();
        assert_eq!(audit.items[0].action, "webhook.created");
        assert_eq!(accounts(&world.kv).unwrap(), [world.caller.account.clone()]);
    }

    #[test]
    fn bad_input_names_each_field_and_writes_nothing() {
        let world = World::new();
        let body = json!({
            "url": "http://127.0.0.1/", "events": ["message.created", "nope"],
            "description": 5, "event_types": []
        });
        let Err(Error::Invalid(errors)) = create_one(&world, body) else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_types", "url", "events[1]", "description"]);
        assert!(errors[2].message.contains("\"nope\""));
        assert!(world.kv.is_empty());
        assert!(create_one(&world, json!({"events": null})).is_err());
        assert!(create_one(&world, json!({"url": "https://a.example", "events": []})).is_err());
        assert!(world.kv.is_empty());
    }

    #[test]
    fn an_account_has_at_most_twenty_endpoints() {
        let world = World::new();
        for _ in 0..MAX_ENDPOINTS {
            create_one(&world, json!({"url": "https://a.example/"})).unwrap();
        }
        assert!(matches!(
            create_one(&world, json!({"url": "https://a.example/"})),
            Err(Error::Conflict(_))
        ));
    }

    #[test]
    fn rotation_keeps_the_old_secret_signing_for_a_day() {
        let world = World::new();
        let (endpoint, old) = create_one(&world, json!({"url": "https://a.example/"})).unwrap();
        let id = endpoint.id.as_str();
        let (rotated, new) = rotate(&world.kv, &world.clock, &world.caller, id, KEY).unwrap();
        let account = &world.caller.account;
        let now = world.clock.now();
        assert_eq!(
            rotated.signing_secrets(KEY, account, now),
            [new.clone(), old]
        );
        let later = now.plus_millis(ROTATION_OVERLAP_MILLIS + 1);
        assert_eq!(rotated.signing_secrets(KEY, account, later), [new]);
    }

    #[test]
    fn updates_change_only_what_is_given_and_other_accounts_see_nothing() {
        let world = World::new();
        let (endpoint, _) = create_one(
            &world,
            json!({"url": "https://a.example/", "description": "crm"}),
        )
        .unwrap();
        let input = parse_update(
            &json!({"enabled": false, "events": ["agent.updated"]}),
            false,
        )
        .unwrap();
        let id = endpoint.id.as_str();
        let updated = update(&world.kv, &world.clock, &world.caller, id, &input).unwrap();
        assert!(!updated.enabled);
        assert_eq!(updated.description.as_deref(), Some("crm"));
        assert_eq!(updated.events, Some(vec!["agent.updated".to_string()]));
        let stranger = AccountId::generate();
        assert!(matches!(
            get(&world.kv, &stranger, id),
            Err(Error::NotFound(_))
        ));
        let mut other = World::new();
        other.caller.account = stranger;
        assert!(update(&world.kv, &other.clock, &other.caller, id, &input).is_err());
        assert!(delete(&world.kv, &world.clock, &other.caller, id).is_err());
        delete(&world.kv, &world.clock, &world.caller, id).unwrap();
        assert!(all(&world.kv, &world.caller.account).unwrap().is_empty());
    }
}
