//! Agents, synced from the business's own directory (the id is theirs), and
//! their presence, which visibility rules and routing read.
//!
//! The whole list is one versioned document (`acct:<a>:agents`) changed only
//! under compare-and-swap ([`doc::update`]). So a whole-list sync is atomic:
//! two concurrent syncs leave exactly one of the two lists, never a mix, and
//! a single-agent change never resurrects or loses another agent. Reading
//! presence for routing is one key read.

use crate::audit;
use crate::auth::Caller;
use crate::doc::{self, Step};
use crate::error::{Error, Result};
use crate::ids::{AccountId, AgentId};
use crate::input::{Errors, Object, is_email};
use crate::keys;
use crate::paging::{Page, decode_cursor, encode_cursor};
use crate::store::KeyValue;
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// How many agents an account may have.
pub const MAX_AGENTS: usize = 1_000;
/// Longest agent name.
pub const MAX_NAME_LEN: usize = 200;
/// Default and largest page of `GET /api/v1/agents`.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page of `GET /api/v1/agents`.
pub const MAX_PAGE: usize = 1_000;
const CURSOR_KIND: &str = "agents";

/// An agent as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// The id in the business's directory.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Email, if the directory has one.
    pub email: Option<String>,
    /// Connected to the chat right now.
    pub online: bool,
    /// Willing to take new chats.
    pub available: bool,
    /// Last change to any field.
    pub updated_at: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AgentList {
    v: u32,
    /// Bumped on every write, so that equal lists still differ as documents.
    rev: u64,
    /// Sorted by id.
    items: Vec<Agent>,
}

/// An agent as the directory sends it. Presence fields are optional: when
/// absent, an existing agent keeps its presence and a new one is offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInput {
    /// The id in the business's directory.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Presence, if the directory knows it.
    pub online: Option<bool>,
    /// Availability, if the directory knows it.
    pub available: Option<bool>,
}

/// What a whole-list sync changed (agent ids, sorted).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SyncOutcome {
    /// Agents that did not exist before.
    pub created: Vec<AgentId>,
    /// Agents whose fields changed.
    pub updated: Vec<AgentId>,
    /// Agents no longer in the list.
    pub removed: Vec<AgentId>,
}

fn parse_item(value: &Value, path: &str, errors: &mut Errors) -> Option<AgentInput> {
    let object = Object::new(value, path, errors)?;
    let id = match object.get("id") {
        None => {
            errors.add(object.path_of("id"), "is required");
            None
        }
        Some(Value::String(s)) => AgentId::parse(s)
            .map_err(|message| errors.add(object.path_of("id"), message))
            .ok(),
        Some(_) => {
            errors.add(object.path_of("id"), "must be a string");
            None
        }
    };
    let name = object.required_str("name", MAX_NAME_LEN, errors);
    let email = object
        .optional_str("email", 254, errors)
        .and_then(|email| match email {
            Some(e) if !is_email(&e) => {
                errors.add(object.path_of("email"), "is not an email address");
                None
            }
            other => Some(other),
        });
    let online = object.optional_bool("online", errors);
    let available = object.optional_bool("available", errors);
    Some(AgentInput {
        id: id?,
        name: name?,
        email: email?,
        online: online?,
        available: available?,
    })
}

/// Reads the body of a whole-list sync: `{"agents": [...]}` or a bare array.
pub fn parse_list(body: &Value) -> Result<Vec<AgentInput>> {
    let mut errors = Errors::new();
    let items = match body {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("agents") {
            Some(Value::Array(items)) => items,
            _ => return Err(Error::field("agents", "must be an array of agents")),
        },
        _ => return Err(Error::field("agents", "must be an array of agents")),
    };
    if items.len() > MAX_AGENTS {
        return Err(Error::field(
            "agents",
            format!("may hold at most {MAX_AGENTS} agents"),
        ));
    }
    let mut inputs = Vec::with_capacity(items.len());
    let mut first_seen: HashMap<AgentId, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("agents[{i}]");
        if let Some(input) = parse_item(item, &path, &mut errors) {
            if let Some(first) = first_seen.insert(input.id.clone(), i) {
                errors.add(
                    format!("{path}.id"),
                    format!(
                        "duplicate id {:?} (also at agents[{first}])",
                        input.id.as_str()
                    ),
                );
            }
            inputs.push(input);
        }
    }
    errors.finish(inputs)
}

/// Reads the body of `PUT /api/v1/agents/{agent_id}`; an `id` in the body,
/// if any, must match the path.
pub fn parse_one(path_id: &str, body: &Value) -> Result<AgentInput> {
    let id = AgentId::parse(path_id).map_err(|message| Error::field("agent_id", message))?;
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        match object.get("id") {
            None | Some(Value::Null) => {
                object.insert("id".into(), Value::String(id.to_string()));
            }
            Some(Value::String(given)) if given == id.as_str() => {}
            Some(_) => return Err(Error::field("id", "must match the agent id in the path")),
        }
    }
    let mut errors = Errors::new();
    let input = parse_item(&body, "", &mut errors);
    errors.finish_with(input)
}

/// Reads `{online, available}`; both are required.
pub fn parse_status(body: &Value) -> Result<(bool, bool)> {
    let mut errors = Errors::new();
    let fields = Object::new(body, "", &mut errors).map(|object| {
        (
            object.required_bool("online", &mut errors),
            object.required_bool("available", &mut errors),
        )
    });
    errors.finish_with(match fields {
        Some((Some(online), Some(available))) => Some((online, available)),
        _ => None,
    })
}

fn apply(existing: Option<&Agent>, input: &AgentInput, now: Timestamp) -> Agent {
    let mut agent = Agent {
        id: input.id.clone(),
        name: input.name.clone(),
        email: input.email.clone(),
        online: input.online.or(existing.map(|a| a.online)).unwrap_or(false),
        available: input
            .available
            .or(existing.map(|a| a.available))
            .unwrap_or(false),
        updated_at: now,
    };
    if let Some(existing) = existing {
        let unchanged = Agent {
            updated_at: existing.updated_at,
            ..agent.clone()
        };
        if &unchanged == existing {
            agent.updated_at = existing.updated_at;
        }
    }
    agent
}

fn write(mut list: AgentList, items: Vec<Agent>) -> AgentList {
    list.v = 1;
    list.rev += 1;
    list.items = items;
    list.items.sort_by(|a, b| a.id.cmp(&b.id));
    list
}

/// Makes the stored list exactly `inputs`: creates, updates and removes.
/// Repeating the same sync changes nothing.
pub fn sync(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    inputs: &[AgentInput],
) -> Result<SyncOutcome> {
    let now = clock.now();
    let outcome = doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let old: HashMap<&AgentId, &Agent> = list.items.iter().map(|a| (&a.id, a)).collect();
            let mut outcome = SyncOutcome::default();
            let mut items = Vec::with_capacity(inputs.len());
            for input in inputs {
                let existing = old.get(&input.id).copied();
                let agent = apply(existing, input, now);
                match existing {
                    None => outcome.created.push(agent.id.clone()),
                    Some(e) if *e != agent => outcome.updated.push(agent.id.clone()),
                    Some(_) => {}
                }
                items.push(agent);
            }
            let wanted: HashMap<&AgentId, ()> = inputs.iter().map(|i| (&i.id, ())).collect();
            outcome.removed = list
                .items
                .iter()
                .filter(|a| !wanted.contains_key(&a.id))
                .map(|a| a.id.clone())
                .collect();
            outcome.created.sort();
            outcome.updated.sort();
            outcome.removed.sort();
            let changed = !(outcome.created.is_empty()
                && outcome.updated.is_empty()
                && outcome.removed.is_empty());
            Ok(if changed {
                Step::Write(write(list, items), outcome)
            } else {
                Step::Keep(outcome)
            })
        },
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        "agent.synced",
        "agents",
    )?;
    Ok(outcome)
}

/// Creates or replaces one agent; `true` when it was created.
pub fn upsert(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    input: &AgentInput,
) -> Result<(Agent, bool)> {
    let now = clock.now();
    let (agent, created) = doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let position = list.items.iter().position(|a| a.id == input.id);
            let existing = position.map(|i| &list.items[i]);
            if existing.is_none() && list.items.len() >= MAX_AGENTS {
                return Err(Error::Conflict(format!(
                    "an account may have at most {MAX_AGENTS} agents"
                )));
            }
            let agent = apply(existing, input, now);
            if existing == Some(&agent) {
                return Ok(Step::Keep((agent, false)));
            }
            let mut items = list.items.clone();
            match position {
                Some(i) => items[i] = agent.clone(),
                None => items.push(agent.clone()),
            }
            Ok(Step::Write(write(list, items), (agent, position.is_none())))
        },
    )?;
    let action = if created {
        "agent.created"
    } else {
        "agent.updated"
    };
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        action,
        &format!("agent:{}", agent.id),
    )?;
    Ok((agent, created))
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("there is no agent {id:?}"))
}

/// One agent.
pub fn get(kv: &dyn KeyValue, account: &AccountId, id: &str) -> Result<Agent> {
    let list: AgentList = doc::read(kv, &keys::agents(account))?.unwrap_or_default();
    list.items
        .into_iter()
        .find(|a| a.id.as_str() == id)
        .ok_or_else(|| not_found(id))
}

/// A page of agents, ordered by id.
pub fn list(
    kv: &dyn KeyValue,
    account: &AccountId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Agent>> {
    let after = match cursor {
        None | Some("") => None,
        Some(cursor) => Some(decode_cursor(CURSOR_KIND, cursor)?),
    };
    let list: AgentList = doc::read(kv, &keys::agents(account))?.unwrap_or_default();
    let items: Vec<Agent> = list
        .items
        .into_iter()
        .filter(|a| after.as_deref().is_none_or(|after| a.id.as_str() > after))
        .take(limit)
        .collect();
    let position = items
        .last()
        .map(|a| a.id.to_string())
        .or(after)
        .unwrap_or_default();
    Ok(Page {
        items,
        next_cursor: encode_cursor(CURSOR_KIND, &position),
    })
}

/// Removes one agent.
pub fn delete(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller, id: &str) -> Result<()> {
    doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let mut items = list.items.clone();
            let before = items.len();
            items.retain(|a| a.id.as_str() != id);
            if items.len() == before {
                return Err(not_found(id));
            }
            Ok(Step::Write(write(list, items), ()))
        },
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        "agent.deleted",
        &format!("agent:{id}"),
    )
}

/// Sets an agent's presence.
pub fn set_status(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    id: &str,
    online: bool,
    available: bool,
) -> Result<Agent> {
    let now = clock.now();
    let agent = doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let i = list
                .items
                .iter()
                .position(|a| a.id.as_str() == id)
                .ok_or_else(|| not_found(id))?;
            let current = &list.items[i];
            if current.online == online && current.available == available {
                return Ok(Step::Keep(current.clone()));
            }
            let mut items = list.items.clone();
            items[i].online = online;
            items[i].available = available;
            items[i].updated_at = now;
            let agent = items[i].clone();
            Ok(Step::Write(write(list, items), agent))
        },
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        "agent.status_changed",
        &format!("agent:{id}"),
    )?;
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Actor;
    use crate::ids::TokenId;
    use crate::store::MemoryStore;
    use crate::time::ManualClock;
    use serde_json::json;

    struct World {
        kv: MemoryStore,
        clock: ManualClock,
        caller: Caller,
    }

    fn world() -> World {
        World {
            kv: MemoryStore::new(),
            clock: ManualClock::at(Timestamp::from_millis(1_767_225_600_000)),
            caller: Caller {
                account: AccountId::generate(),
                actor: Actor::Token(TokenId::generate()),
            },
        }
    }

    impl World {
        fn sync(&self, body: Value) -> Result<SyncOutcome> {
            sync(&self.kv, &self.clock, &self.caller, &parse_list(&body)?)
        }
        fn ids(&self) -> Vec<String> {
            list(&self.kv, &self.caller.account, None, MAX_PAGE)
                .unwrap()
                .items
                .iter()
                .map(|a| a.id.to_string())
                .collect()
        }
    }

    fn ids(ids: &[AgentId]) -> Vec<&str> {
        ids.iter().map(AgentId::as_str).collect()
    }

    #[test]
    fn a_sync_creates_updates_and_removes_to_match_the_list() {
        let w = world();
        w.sync(json!({"agents": [
            {"id": "alice", "name": "Alice", "email": "alice@example.com"},
            {"id": "bob", "name": "Bob"},
        ]}))
        .unwrap();
        let outcome = w
            .sync(json!([{"id": "alice", "name": "Alice B."}, {"id": "carol", "name": "Carol"}]))
            .unwrap();
        assert_eq!(ids(&outcome.created), ["carol"]);
        assert_eq!(ids(&outcome.updated), ["alice"]);
        assert_eq!(ids(&outcome.removed), ["bob"]);
        assert_eq!(w.ids(), ["alice", "carol"]);
    }

    #[test]
    fn repeating_a_sync_changes_nothing() {
        let w = world();
        let body = json!({"agents": [{"id": "alice", "name": "Alice"}]});
        w.sync(body.clone()).unwrap();
        let before = get(&w.kv, &w.caller.account, "alice").unwrap();
        w.clock.advance(1_000);
        let outcome = w.sync(body).unwrap();
        assert_eq!(outcome, SyncOutcome::default());
        assert_eq!(get(&w.kv, &w.caller.account, "alice").unwrap(), before);
    }

    #[test]
    fn a_sync_keeps_presence_unless_the_directory_sends_it() {
        let w = world();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        set_status(&w.kv, &w.clock, &w.caller, "alice", true, true).unwrap();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        let alice = get(&w.kv, &w.caller.account, "alice").unwrap();
        assert!(alice.online && alice.available);
        w.sync(json!([{"id": "alice", "name": "Alice", "online": false}]))
            .unwrap();
        assert!(!get(&w.kv, &w.caller.account, "alice").unwrap().online);
    }

    #[test]
    fn validation_names_the_offending_field() {
        let cases = [
            (
                json!([{"id": "a", "name": "A", "email": "nope"}]),
                "agents[0].email",
            ),
            (json!([{"id": "a b", "name": "A"}]), "agents[0].id"),
            (json!([{"id": "x".repeat(65), "name": "A"}]), "agents[0].id"),
            (
                json!([{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]),
                "agents[1].id",
            ),
            (json!([{"name": "A"}]), "agents[0].id"),
            (json!([{"id": "a"}]), "agents[0].name"),
            (json!({"agents": 3}), "agents"),
        ];
        for (body, field) in cases {
            let Err(Error::Invalid(errors)) = parse_list(&body) else {
                panic!("expected a validation error for {body}");
            };
            assert!(
                errors.iter().any(|e| e.field == field),
                "expected {field} in {errors:?}"
            );
        }
    }

    #[test]
    fn a_rejected_sync_changes_nothing() {
        let w = world();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        let result = w.sync(json!([{"id": "bob", "name": "Bob", "email": "bad"}]));
        assert!(result.is_err());
        assert_eq!(w.ids(), ["alice"]);
    }

    #[test]
    fn one_agent_can_be_created_read_updated_and_deleted() {
        let w = world();
        let input = parse_one("alice", &json!({"name": "Alice"})).unwrap();
        let (_, created) = upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
        assert!(created);
        let input = parse_one("alice", &json!({"name": "Alice A.", "id": "alice"})).unwrap();
        let (agent, created) = upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
        assert!(!created);
        assert_eq!(agent.name, "Alice A.");
        delete(&w.kv, &w.clock, &w.caller, "alice").unwrap();
        assert!(matches!(
            get(&w.kv, &w.caller.account, "alice"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            delete(&w.kv, &w.clock, &w.caller, "alice"),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn a_body_id_must_match_the_path() {
        let Err(Error::Invalid(errors)) = parse_one("alice", &json!({"id": "bob", "name": "B"}))
        else {
            panic!("expected a validation error");
        };
        assert_eq!(errors[0].field, "id");
        assert!(parse_one("a b", &json!({"name": "B"})).is_err());
    }

    #[test]
    fn status_needs_both_flags() {
        assert_eq!(
            parse_status(&json!({"online": true, "available": false})),
            Ok((true, false))
        );
        assert!(parse_status(&json!({"online": true})).is_err());
        assert!(parse_status(&json!({"online": "yes", "available": true})).is_err());
    }

    #[test]
    fn status_of_an_unknown_agent_is_not_found() {
        let w = world();
        let result = set_status(&w.kv, &w.clock, &w.caller, "ghost", true, true);
        assert!(matches!(result, Err(Error::NotFound(_))));
    }

    #[test]
    fn agents_are_listed_by_id_in_pages() {
        let w = world();
        let agents: Vec<Value> = ["d", "b", "a", "c"]
            .iter()
            .map(|id| json!({"id": id, "name": id}))
            .collect();
        w.sync(Value::Array(agents)).unwrap();
        let first = list(&w.kv, &w.caller.account, None, 3).unwrap();
        let names: Vec<&str> = first.items.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let rest = list(&w.kv, &w.caller.account, Some(&first.next_cursor), 3).unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.items[0].id.as_str(), "d");
        let end = list(&w.kv, &w.caller.account, Some(&rest.next_cursor), 3).unwrap();
        assert!(end.items.is_empty());
    }

    #[test]
    fn another_accounts_agents_are_invisible() {
        let w = world();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        let other = AccountId::generate();
        assert!(matches!(
            get(&w.kv, &other, "alice"),
            Err(Error::NotFound(_))
        ));
        assert!(list(&w.kv, &other, None, 10).unwrap().items.is_empty());
    }

    #[test]
    fn every_change_is_audited() {
        let w = world();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        set_status(&w.kv, &w.clock, &w.caller, "alice", true, false).unwrap();
        delete(&w.kv, &w.clock, &w.caller, "alice").unwrap();
        let log = audit::page(&w.kv, &w.clock, &w.caller.account, None, 10, Some("agent")).unwrap();
        let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["agent.synced", "agent.status_changed", "agent.deleted"]
        );
    }
}
