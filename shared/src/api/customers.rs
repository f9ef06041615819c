//! Customer tagging: a business tells edgechat who a visitor is (its own id,
//! email, name, labels), at login or during a chat, and finds customers
//! again by its own id or by email.
//!
//! Lookups are O(1): index keys (`…:customer-by-external-id:<hash>`,
//! `…:customer-by-email:<hash>`) hold the ids of the customers carrying that
//! value. They stay right when a value changes: a write adds the customer to
//! its new values' indexes *before* it changes the customer, and removes it
//! from the old values' indexes *after*; readers check each candidate against
//! the customer itself. So an index may briefly name a customer too many
//! (filtered out on read) but never one too few.
//!
//! Every tagging that changes a customer, through the API or identify, is
//! one `customer.updated` event ([`crate::chat::events::CUSTOMER_UPDATED`]);
//! tagging with the same fields again appends none. The untagged record
//! [`ensure`] creates for a new chat is not one: `conversation.created`
//! already tells it.

use crate::api::audit;
use crate::api::auth::Caller;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, CustomerId};
use crate::base::input::{Errors, Object, is_email};
use crate::base::time::{Clock, Timestamp};
use crate::chat::events::{CUSTOMER_UPDATED, Pending};
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Most labels on one customer.
pub const MAX_LABELS: usize = 50;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 64;
/// Longest first or last name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest external id given as a string.
pub const MAX_EXTERNAL_ID_LEN: usize = 128;
/// Most customers that may share one external id or email.
pub const MAX_PER_INDEX: usize = 100;

/// The business's own id for a customer: a number or a string, returned
/// exactly as given. `123` and `"123"` find each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExternalId {
    /// An integer id.
    Number(Number),
    /// A string id.
    Text(String),
}

impl ExternalId {
    /// The text the index is keyed by.
    pub fn index_text(&self) -> String {
        match self {
            ExternalId::Number(n) => n.to_string(),
            ExternalId::Text(s) => s.clone(),
        }
    }
}

/// A tagged customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// edgechat's customer id (the path id).
    pub customer_id: CustomerId,
    /// The business's own id, as given.
    pub id: Option<ExternalId>,
    /// Email.
    pub email: Option<String>,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Labels, in the order given, without duplicates.
    pub labels: Vec<String>,
    /// When it was first tagged.
    pub created_at: Timestamp,
    /// When its fields last changed.
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    v: u32,
    #[serde(flatten)]
    customer: Customer,
}

/// The `data` of a `customer.updated` event.
#[derive(Serialize)]
struct Change<'a> {
    customer_id: &'a CustomerId,
    /// `created` or `updated`.
    change: &'static str,
    customer: &'a Customer,
}

/// The fields of a tagging request. A PUT replaces them all: a field left
/// out is cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    /// The business's own id.
    pub id: Option<ExternalId>,
    /// Email.
    pub email: Option<String>,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
}

/// How to find customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By the business's own id (as text: `123` finds `123` and `"123"`).
    ExternalId(String),
    /// By email, ignoring case.
    Email(String),
}

/// Reads `PUT /api/v1/customers/{customer_id}`.
pub fn parse_put(path_id: &str, body: &Value) -> Result<(CustomerId, CustomerInput)> {
    let customer_id =
        CustomerId::parse(path_id).map_err(|message| Error::field("customer_id", message))?;
    let mut errors = Errors::new();
    let input = Object::new(body, "", &mut errors).and_then(|object| {
        let id = match object.get("id") {
            None => Some(None),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                Some(Some(ExternalId::Number(n.clone())))
            }
            Some(Value::String(s)) if s.contains('\0') => {
                errors.add("id", crate::base::input::NUL_REFUSED);
                None
            }
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_EXTERNAL_ID_LEN => {
                Some(Some(ExternalId::Text(s.clone())))
            }
            Some(_) => {
                errors.add(
                    "id",
                    format!(
                        "must be an integer or a string of 1 to {MAX_EXTERNAL_ID_LEN} characters"
                    ),
                );
                None
            }
        };
        let email = object
            .optional_str("email", 254, &mut errors)
            .and_then(|e| match e {
                Some(e) if !is_email(&e) => {
                    errors.add("email", "is not an email address");
                    None
                }
                other => Some(other),
            });
        let firstname = object.optional_str("firstname", MAX_NAME_LEN, &mut errors);
        let lastname = object.optional_str("lastname", MAX_NAME_LEN, &mut errors);
        let labels = parse_labels(object.get("labels"), &mut errors);
        Some(CustomerInput {
            id: id?,
            email: email?,
            firstname: firstname?,
            lastname: lastname?,
            labels: labels?,
        })
    });
    errors.finish_with(input).map(|input| (customer_id, input))
}

fn parse_labels(value: Option<&Value>, errors: &mut Errors) -> Option<Vec<String>> {
    let items = match value {
        None => return Some(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.add("labels", "must be an array of strings");
            return None;
        }
    };
    if items.len() > MAX_LABELS {
        errors.add("labels", format!("may hold at most {MAX_LABELS} labels"));
        return None;
    }
    let mut labels: Vec<String> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if s.contains('\0') => {
                errors.add(format!("labels[{i}]"), crate::base::input::NUL_REFUSED);
                ok = false;
            }
            Value::String(s) if (1..=MAX_LABEL_LEN).contains(&s.chars().count()) => {
                if !labels.contains(s) {
                    labels.push(s.clone());
                }
            }
            _ => {
                errors.add(
                    format!("labels[{i}]"),
                    format!("must be a string of 1 to {MAX_LABEL_LEN} characters"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(labels)
}

/// Reads `?external_id=` / `?email=`: exactly one of them.
pub fn parse_lookup(external_id: Option<String>, email: Option<String>) -> Result<Lookup> {
    match (external_id, email) {
        (Some(id), None) if !id.is_empty() => Ok(Lookup::ExternalId(id)),
        (None, Some(email)) if !email.is_empty() => Ok(Lookup::Email(email)),
        (Some(_), Some(_)) => Err(Error::field(
            "external_id",
            "give either external_id or email, not both",
        )),
        _ => Err(Error::field(
            "external_id",
            "give external_id=<your id> or email=<address> to find a customer",
        )),
    }
}

fn index_keys(account: &AccountId, customer: &CustomerInput) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(id) = &customer.id {
        keys.push(keys::customers_by_external_id(account, &id.index_text()));
    }
    if let Some(email) = &customer.email {
        keys.push(keys::customers_by_email(account, email));
    }
    keys
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct IndexEntry {
    v: u32,
    ids: Vec<CustomerId>,
}

fn index_add(kv: &dyn KeyValue, key: &str, id: &CustomerId) -> Result<()> {
    doc::update(kv, key, |entry: Option<IndexEntry>| {
        let mut entry = entry.unwrap_or_default();
        if entry.ids.contains(id) {
            return Ok(Step::Keep(()));
        }
        if entry.ids.len() >= MAX_PER_INDEX {
            return Err(Error::Conflict(format!(
                "more than {MAX_PER_INDEX} customers would share this id or email"
            )));
        }
        entry.v = 1;
        entry.ids.push(id.clone());
        Ok(Step::Write(entry, ()))
    })
}

fn index_remove(kv: &dyn KeyValue, key: &str, id: &CustomerId) -> Result<()> {
    doc::update(kv, key, |entry: Option<IndexEntry>| {
        let Some(mut entry) = entry else {
            return Ok(Step::Keep(()));
        };
        let before = entry.ids.len();
        entry.ids.retain(|other| other != id);
        Ok(if entry.ids.len() == before {
            Step::Keep(())
        } else {
            Step::Write(entry, ())
        })
    })
}

fn to_input(customer: &Customer) -> CustomerInput {
    CustomerInput {
        id: customer.id.clone(),
        email: customer.email.clone(),
        firstname: customer.firstname.clone(),
        lastname: customer.lastname.clone(),
        labels: customer.labels.clone(),
    }
}

fn read(kv: &dyn KeyValue, account: &AccountId, id: &CustomerId) -> Result<Option<Customer>> {
    Ok(doc::read_shared::<Stored>(kv, &keys::customer(account, id))?.map(|stored| stored.customer))
}

/// Creates or replaces a customer's tags; `true` when it was created.
pub fn put(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    customer_id: &CustomerId,
    input: &CustomerInput,
) -> Result<(Customer, bool)> {
    let account = &caller.account;
    let now = clock.now();
    let new_keys = index_keys(account, input);
    for key in &new_keys {
        index_add(kv, key, customer_id)?;
    }
    let key = keys::customer(account, customer_id);
    let mut pending = Pending::new(kv, account);
    let (customer, previous, changed) = doc::update(kv, &key, |current: Option<Stored>| {
        let current = current.map(|stored| stored.customer);
        let customer = Customer {
            customer_id: customer_id.clone(),
            id: input.id.clone(),
            email: input.email.clone(),
            firstname: input.firstname.clone(),
            lastname: input.lastname.clone(),
            labels: input.labels.clone(),
            created_at: current.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        };
        if let Some(current) = &current
            && to_input(current) == *input
        {
            return Ok(Step::Keep((current.clone(), Some(current.clone()), false)));
        }
        let stored = Stored {
            v: 1,
            customer: customer.clone(),
        };
        pending.hold(1)?;
        Ok(Step::Write(stored, (customer, current, true)))
    })?;
    let created = previous.is_none();
    if changed {
        let change = Change {
            customer_id,
            change: if created { "created" } else { "updated" },
            customer: &customer,
        };
        pending.commit(clock, CUSTOMER_UPDATED, [change])?;
    }
    if let Some(previous) = &previous {
        for old_key in index_keys(account, &to_input(previous)) {
            if !new_keys.contains(&old_key) {
                drop_from_index(kv, account, customer_id, &old_key)?;
            }
        }
    }
    let action = if created {
        audit::Action::CustomerCreated
    } else {
        audit::Action::CustomerUpdated
    };
    audit::record(
        kv,
        clock,
        account,
        &caller.actor,
        action,
        &format!("customer:{customer_id}"),
    )?;
    Ok((customer, created))
}

/// Removes `id` from the index at `key` unless the customer (re-read) still
/// carries that value, e.g. because a concurrent write set it back.
fn drop_from_index(
    kv: &dyn KeyValue,
    account: &AccountId,
    id: &CustomerId,
    key: &str,
) -> Result<()> {
    let still_indexed = |kv: &dyn KeyValue| -> Result<bool> {
        Ok(read(kv, account, id)?
            .is_some_and(|c| index_keys(account, &to_input(&c)).iter().any(|k| k == key)))
    };
    if still_indexed(kv)? {
        return Ok(());
    }
    index_remove(kv, key, id)?;
    // A concurrent write may have set the value back between the check and
    // the removal: put it back rather than leave the customer unfindable.
    if still_indexed(kv)? {
        index_add(kv, key, id)?;
    }
    Ok(())
}

/// Makes sure a customer record exists for a chatting visitor (untagged:
/// no fields yet), so that tagging later updates this very record. `true`
/// when it was created now.
pub fn ensure(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    customer_id: &CustomerId,
) -> Result<bool> {
    let key = keys::customer(account, customer_id);
    if kv.exists(&key)? {
        return Ok(false);
    }
    let now = clock.now();
    let stored = Stored {
        v: 1,
        customer: Customer {
            customer_id: customer_id.clone(),
            id: None,
            email: None,
            firstname: None,
            lastname: None,
            labels: Vec::new(),
            created_at: now,
            updated_at: now,
        },
    };
    doc::create(kv, &key, &stored)
}

/// One customer (404 for unknown ids and for other accounts' customers).
pub fn get(kv: &dyn KeyValue, account: &AccountId, id: &str) -> Result<Customer> {
    let not_found = || Error::NotFound(format!("there is no customer {id:?}"));
    let id = CustomerId::parse(id).map_err(|_| not_found())?;
    read(kv, account, &id)?.ok_or_else(not_found)
}

/// The customers carrying an external id or an email, most recently
/// updated first.
pub fn find(kv: &dyn KeyValue, account: &AccountId, lookup: &Lookup) -> Result<Vec<Customer>> {
    let (key, wanted) = match lookup {
        Lookup::ExternalId(text) => (keys::customers_by_external_id(account, text), text.clone()),
        Lookup::Email(email) => (
            keys::customers_by_email(account, email),
            email.to_lowercase(),
        ),
    };
    let matches = |c: &Customer| match lookup {
        Lookup::ExternalId(_) => c.id.as_ref().is_some_and(|id| id.index_text() == wanted),
        Lookup::Email(_) => c.email.as_ref().is_some_and(|e| e.to_lowercase() == wanted),
    };
    let entry: IndexEntry = doc::read_shared(kv, &key)?.unwrap_or_default();
    let mut found = Vec::with_capacity(entry.ids.len());
    for id in &entry.ids {
        if let Some(customer) = read(kv, account, id)?
            && matches(&customer)
        {
            found.push(customer);
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::World;
    use serde_json::json;

    impl World {
        fn put(&self, id: &str, body: Value) -> Result<(Customer, bool)> {
            let (id, input) = parse_put(id, &body)?;
            put(&self.kv, &self.clock, &self.caller, &id, &input)
        }
        fn find(&self, lookup: Lookup) -> Vec<String> {
            find(&self.kv, &self.caller.account, &lookup)
                .unwrap()
                .iter()
                .map(|c| c.customer_id.to_string())
                .collect()
        }
    }

    fn john() -> Value {
        json!({"email": "john.doe@example.com", "firstname": "John", "id": 123,
               "labels": ["foo", "bar"], "lastname": "Doe"})
    }

    fn by_id(id: &str) -> Lookup {
        Lookup::ExternalId(id.into())
    }

    fn by_email(email: &str) -> Lookup {
        Lookup::Email(email.into())
    }

    #[test]
    fn the_integrators_body_tags_a_customer_and_the_id_comes_back_as_given() {
        let w = World::new();
        let (customer, created) = w.put("c1", john()).unwrap();
        assert!(created);
        let shown = serde_json::to_value(&customer).unwrap();
        assert_eq!(shown["id"], json!(123));
        assert_eq!(shown["labels"], json!(["foo", "bar"]));
        assert_eq!(shown["customer_id"], "c1");
        let (text_id, _) = w.put("c2", json!({"id": "abc-1"})).unwrap();
        assert_eq!(
            serde_json::to_value(&text_id).unwrap()["id"],
            json!("abc-1")
        );
    }

    #[test]
    fn a_customer_is_found_by_external_id_or_email() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        assert_eq!(w.find(by_id("123")), ["c1"]);
        assert_eq!(w.find(by_email("John.Doe@Example.com")), ["c1"]);
        assert!(w.find(by_id("124")).is_empty());
    }

    #[test]
    fn indexes_follow_changes_of_email_and_id() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        w.put("c1", json!({"id": 456, "email": "jd@example.org"}))
            .unwrap();
        assert!(w.find(by_id("123")).is_empty());
        assert!(w.find(by_email("john.doe@example.com")).is_empty());
        assert_eq!(w.find(by_id("456")), ["c1"]);
        assert_eq!(w.find(by_email("jd@example.org")), ["c1"]);
        w.put("c1", json!({})).unwrap();
        assert!(w.find(by_id("456")).is_empty());
    }

    #[test]
    fn stale_index_entries_are_filtered_and_dropped_on_the_next_change() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        // Simulate a crash after the customer changed but before its old
        // index entries were removed.
        let key = keys::customer(&w.caller.account, &CustomerId::parse("c1").unwrap());
        let mut stored: Value = serde_json::from_slice(&w.kv.get(&key).unwrap().unwrap()).unwrap();
        stored["doc"]["id"] = json!(999);
        w.kv.set(&key, stored.to_string().as_bytes()).unwrap();
        assert!(
            w.find(by_id("123")).is_empty(),
            "readers check the customer itself"
        );
    }

    #[test]
    fn two_customers_may_share_an_email() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        w.clock.advance(1_000);
        w.put("c2", john()).unwrap();
        assert_eq!(w.find(by_email("john.doe@example.com")), ["c2", "c1"]);
        w.put("c2", json!({"email": "other@example.com"})).unwrap();
        assert_eq!(w.find(by_email("john.doe@example.com")), ["c1"]);
    }

    #[test]
    fn retagging_with_the_same_body_changes_nothing() {
        let w = World::new();
        let (first, _) = w.put("c1", john()).unwrap();
        w.clock.advance(5_000);
        let (second, created) = w.put("c1", john()).unwrap();
        assert!(!created);
        assert_eq!(first, second);
    }

    #[test]
    fn labels_are_limited_in_number_and_length() {
        let fifty_one: Vec<String> = (0..51).map(|i| format!("l{i}")).collect();
        let cases = [
            (json!({"labels": fifty_one}), "labels"),
            (json!({"labels": ["ok", ""]}), "labels[1]"),
            (json!({"labels": ["x".repeat(65)]}), "labels[0]"),
            (json!({"labels": "foo"}), "labels"),
            (json!({"email": "nope"}), "email"),
            (json!({"id": 1.5}), "id"),
            (json!({"id": true}), "id"),
            (json!({"firstname": 7}), "firstname"),
        ];
        for (body, field) in cases {
            let Err(Error::Invalid(errors)) = parse_put("c1", &body) else {
                panic!("expected a validation error for {body}");
            };
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field} in {errors:?}"
            );
        }
        let fifty: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
        assert!(parse_put("c1", &json!({"labels": fifty})).is_ok());
    }

    #[test]
    fn a_bad_customer_id_in_the_path_is_named() {
        let Err(Error::Invalid(errors)) = parse_put("a b", &john()) else {
            panic!("expected a validation error");
        };
        assert_eq!(errors[0].field, "customer_id");
    }

    #[test]
    fn a_rejected_tagging_writes_nothing() {
        let w = World::new();
        assert!(w.put("c1", json!({"email": "bad", "id": 1})).is_err());
        assert!(w.kv.is_empty());
    }

    #[test]
    fn lookups_need_exactly_one_criterion() {
        assert_eq!(parse_lookup(Some("1".into()), None), Ok(by_id("1")));
        assert_eq!(
            parse_lookup(None, Some("a@b.co".into())),
            Ok(by_email("a@b.co"))
        );
        assert!(parse_lookup(None, None).is_err());
        assert!(parse_lookup(Some("1".into()), Some("a@b.co".into())).is_err());
    }

    #[test]
    fn another_accounts_customers_are_invisible() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        let other = AccountId::generate();
        assert!(matches!(get(&w.kv, &other, "c1"), Err(Error::NotFound(_))));
        assert!(find(&w.kv, &other, &by_id("123")).unwrap().is_empty());
    }

    fn events(w: &World) -> Vec<crate::chat::events::Event> {
        crate::chat::events::page(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &crate::chat::longpoll::Query::first(100),
            crate::chat::longpoll::NO_SLEEP,
        )
        .unwrap()
        .items
    }

    #[test]
    fn each_tagging_that_changes_the_customer_is_one_event() {
        let w = World::new();
        let (created, _) = w.put("c1", john()).unwrap();
        w.clock.advance(1_000);
        w.put("c1", john()).unwrap();
        w.put("c1", json!({"id": 123, "labels": ["vip"]})).unwrap();
        let events = events(&w);
        let changes: Vec<(&str, &str)> = events
            .iter()
            .map(|e| {
                assert_eq!(e.kind, CUSTOMER_UPDATED);
                assert_eq!(e.conversation_id, None);
                assert_eq!(e.data["customer_id"], "c1");
                (
                    e.data["change"].as_str().unwrap(),
                    e.data["customer"]["labels"][0].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(changes, [("created", "foo"), ("updated", "vip")]);
        assert_eq!(events[0].data["customer"], json!(created));
        assert_eq!(events[1].data["customer"]["email"], Value::Null);
    }

    #[test]
    fn a_tagging_that_changes_nothing_appends_no_event() {
        let w = World::new();
        w.put("c1", john()).unwrap();
        w.put("c1", john()).unwrap();
        ensure(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &CustomerId::parse("c2").unwrap(),
        )
        .unwrap();
        w.put("c2", json!({})).unwrap();
        assert_eq!(events(&w).len(), 1);
        let head = crate::chat::events::log(&w.kv, &w.caller.account)
            .head()
            .unwrap();
        assert_eq!(head, 1, "no number was taken for a no-op");
    }
}
