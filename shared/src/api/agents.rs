//! Agents, synced from the business's own directory (the id is theirs), and
//! their presence, which visibility rules and routing read.
//!
//! The whole list is one shared document (`acct:<a>:agents`) changed only
//! as a shared document ([`doc::update`]). So a whole-list sync is atomic:
//! two concurrent syncs leave exactly one of the two lists, never a mix, and
//! a single-agent change never resurrects or loses another agent. Reading
//! presence for routing is one key read.
//!
//! Every actual change of one agent is one `agent.updated` event
//! ([`crate::chat::events::AGENT_UPDATED`]): a sync that creates one agent and
//! removes another appends two (in id order), a sync or PUT that changes
//! nothing appends none. The numbers are taken inside the shared-document
//! step, before the list is written ([`crate::chat::events::Pending`]).

use crate::api::audit;
use crate::api::auth::Caller;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId};
use crate::base::input::{Errors, Object, is_email};
use crate::base::paging::{Page, decode_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::chat::events::{AGENT_UPDATED, Pending};
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::store::KeyValue;
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

/// The `data` of an `agent.updated` event.
#[derive(Serialize)]
struct Change<'a> {
    agent_id: &'a AgentId,
    /// `created`, `updated`, `removed` or `status`.
    change: &'static str,
    /// The agent now; `null` when removed.
    agent: Option<&'a Agent>,
}

fn change<'a>(id: &'a AgentId, kind: &'static str, agent: Option<&'a Agent>) -> Change<'a> {
    Change {
        agent_id: id,
        change: kind,
        agent,
    }
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
    let id = object.required_parsed("id", "is required", AgentId::parse, errors);
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
    let mut pending = Pending::new(kv, &caller.account);
    let (outcome, changes) = doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let old: HashMap<&AgentId, &Agent> = list.items.iter().map(|a| (&a.id, a)).collect();
            let mut outcome = SyncOutcome::default();
            // (agent id, change, the agent now): one event each.
            let mut changes: Vec<(AgentId, &'static str, Option<Agent>)> = Vec::new();
            let mut items = Vec::with_capacity(inputs.len());
            for input in inputs {
                let existing = old.get(&input.id).copied();
                let agent = apply(existing, input, now);
                let kind = match existing {
                    None => "created",
                    Some(e) if *e != agent => "updated",
                    Some(_) => "",
                };
                if !kind.is_empty() {
                    changes.push((agent.id.clone(), kind, Some(agent.clone())));
                }
                items.push(agent);
            }
            let wanted: HashMap<&AgentId, ()> = inputs.iter().map(|i| (&i.id, ())).collect();
            for removed in list.items.iter().filter(|a| !wanted.contains_key(&a.id)) {
                changes.push((removed.id.clone(), "removed", None));
            }
            changes.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, kind, _) in &changes {
                match *kind {
                    "created" => &mut outcome.created,
                    "updated" => &mut outcome.updated,
                    _ => &mut outcome.removed,
                }
                .push(id.clone());
            }
            Ok(if changes.is_empty() {
                Step::Keep((outcome, changes))
            } else {
                pending.hold(changes.len())?;
                Step::Write(write(list, items), (outcome, changes))
            })
        },
    )?;
    pending.commit(
        clock,
        AGENT_UPDATED,
        changes
            .iter()
            .map(|(id, kind, agent)| change(id, kind, agent.as_ref())),
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::AgentsSynced,
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
    let mut pending = Pending::new(kv, &caller.account);
    let (agent, kind) = doc::update(
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
                return Ok(Step::Keep((agent, None)));
            }
            let mut items = list.items.clone();
            match position {
                Some(i) => items[i] = agent.clone(),
                None => items.push(agent.clone()),
            }
            pending.hold(1)?;
            let kind = if position.is_none() {
                "created"
            } else {
                "updated"
            };
            Ok(Step::Write(write(list, items), (agent, Some(kind))))
        },
    )?;
    // A step that held a number and then, retried, found nothing to do
    // leaves it to the drop: only a written change commits.
    if let Some(kind) = kind {
        pending.commit(
            clock,
            AGENT_UPDATED,
            [change(&agent.id, kind, Some(&agent))],
        )?;
    }
    let created = kind == Some("created");
    let action = if created {
        audit::Action::AgentCreated
    } else {
        audit::Action::AgentUpdated
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
    let list: AgentList = doc::read_shared(kv, &keys::agents(account))?.unwrap_or_default();
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
    let list: AgentList = doc::read_shared(kv, &keys::agents(account))?.unwrap_or_default();
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
    let mut pending = Pending::new(kv, &caller.account);
    let removed = doc::update(
        kv,
        &keys::agents(&caller.account),
        |list: Option<AgentList>| {
            let list = list.unwrap_or_default();
            let mut items = list.items.clone();
            let i = items
                .iter()
                .position(|a| a.id.as_str() == id)
                .ok_or_else(|| not_found(id))?;
            let removed = items.remove(i).id;
            pending.hold(1)?;
            Ok(Step::Write(write(list, items), removed))
        },
    )?;
    pending.commit(clock, AGENT_UPDATED, [change(&removed, "removed", None)])?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::AgentDeleted,
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
    let mut pending = Pending::new(kv, &caller.account);
    let (agent, changed) = doc::update(
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
                return Ok(Step::Keep((current.clone(), false)));
            }
            let mut items = list.items.clone();
            items[i].online = online;
            items[i].available = available;
            items[i].updated_at = now;
            let agent = items[i].clone();
            pending.hold(1)?;
            Ok(Step::Write(write(list, items), (agent, true)))
        },
    )?;
    if changed {
        pending.commit(
            clock,
            AGENT_UPDATED,
            [change(&agent.id, "status", Some(&agent))],
        )?;
    }
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::AgentStatusChanged,
        &format!("agent:{id}"),
    )?;
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;
    use serde_json::json;

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
        let w = World::new();
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
        let w = World::new();
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
        let w = World::new();
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
        let w = World::new();
        w.sync(json!([{"id": "alice", "name": "Alice"}])).unwrap();
        let result = w.sync(json!([{"id": "bob", "name": "Bob", "email": "bad"}]));
        assert!(result.is_err());
        assert_eq!(w.ids(), ["alice"]);
    }

    #[test]
    fn one_agent_can_be_created_read_updated_and_deleted() {
        let w = World::new();
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
        let w = World::new();
        let result = set_status(&w.kv, &w.clock, &w.caller, "ghost", true, true);
        assert!(matches!(result, Err(Error::NotFound(_))));
    }

    #[test]
    fn agents_are_listed_by_id_in_pages() {
        let w = World::new();
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
        let w = World::new();
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
        let w = World::new();
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

    fn events(w: &World) -> Vec<(String, String, String)> {
        let page = crate::chat::events::page(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &crate::chat::longpoll::Query::first(100),
            crate::chat::longpoll::NO_SLEEP,
        )
        .unwrap();
        page.items
            .iter()
            .map(|e| {
                assert_eq!(e.kind, AGENT_UPDATED);
                assert_eq!(e.conversation_id, None);
                let agent = &e.data["agent"];
                if e.data["change"] == "removed" {
                    assert!(agent.is_null(), "a removed agent has no state: {e:?}");
                } else {
                    assert_eq!(agent["id"], e.data["agent_id"], "{e:?}");
                }
                (
                    e.data["agent_id"].as_str().unwrap().to_string(),
                    e.data["change"].as_str().unwrap().to_string(),
                    agent["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn event(id: &str, change: &str, name: &str) -> (String, String, String) {
        (id.into(), change.into(), name.into())
    }

    #[test]
    fn each_agent_a_sync_changes_is_one_event_in_id_order() {
        let w = World::new();
        w.sync(json!([{"id": "bob", "name": "Bob"}, {"id": "alice", "name": "Alice"}]))
            .unwrap();
        w.sync(json!([{"id": "alice", "name": "Alice B."}, {"id": "carol", "name": "Carol"}]))
            .unwrap();
        assert_eq!(
            events(&w),
            [
                event("alice", "created", "Alice"),
                event("bob", "created", "Bob"),
                event("alice", "updated", "Alice B."),
                event("bob", "removed", ""),
                event("carol", "created", "Carol"),
            ]
        );
    }

    #[test]
    fn a_sync_or_put_that_changes_nothing_appends_no_event() {
        let w = World::new();
        let body = json!([{"id": "alice", "name": "Alice", "online": true}]);
        w.sync(body.clone()).unwrap();
        w.clock.advance(1_000);
        w.sync(body).unwrap();
        let input = parse_one("alice", &json!({"name": "Alice"})).unwrap();
        upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
        set_status(&w.kv, &w.clock, &w.caller, "alice", true, false).unwrap();
        assert_eq!(events(&w), [event("alice", "created", "Alice")]);
        let head = crate::chat::events::log(&w.kv, &w.caller.account)
            .head()
            .unwrap();
        assert_eq!(head, 1, "no number was taken for a no-op");
    }

    #[test]
    fn put_status_and_delete_each_append_one_event() {
        let w = World::new();
        let input = parse_one("alice", &json!({"name": "Alice"})).unwrap();
        upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
        let input = parse_one("alice", &json!({"name": "Alice A."})).unwrap();
        upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
        set_status(&w.kv, &w.clock, &w.caller, "alice", true, true).unwrap();
        set_status(&w.kv, &w.clock, &w.caller, "alice", true, true).unwrap();
        delete(&w.kv, &w.clock, &w.caller, "alice").unwrap();
        assert_eq!(
            events(&w),
            [
                event("alice", "created", "Alice"),
                event("alice", "updated", "Alice A."),
                event("alice", "status", "Alice A."),
                event("alice", "removed", ""),
            ]
        );
        let page = crate::chat::events::page(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &crate::chat::longpoll::Query::first(10),
            crate::chat::longpoll::NO_SLEEP,
        )
        .unwrap();
        assert_eq!(page.items[2].data["agent"]["online"], true);
        let seqs: Vec<u64> = page.items.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }

    #[test]
    fn a_failed_change_appends_no_event_and_leaves_no_gap() {
        let w = World::new();
        assert!(set_status(&w.kv, &w.clock, &w.caller, "ghost", true, true).is_err());
        assert!(delete(&w.kv, &w.clock, &w.caller, "ghost").is_err());
        assert!(
            w.sync(json!([{"id": "a", "name": "A", "email": "bad"}]))
                .is_err()
        );
        assert!(events(&w).is_empty());
        assert_eq!(
            crate::chat::events::log(&w.kv, &w.caller.account)
                .head()
                .unwrap(),
            0
        );
    }

    /// A store where another request's write lands just before the first
    /// version claim: that attempt loses and the step runs again.
    struct Racing<'a> {
        inner: &'a MemoryStore,
        race: std::cell::RefCell<Option<Box<dyn FnOnce() + 'a>>>,
    }

    impl KeyValue for Racing<'_> {
        fn get(&self, key: &str) -> crate::storage::store::StoreResult<Option<Vec<u8>>> {
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> crate::storage::store::StoreResult<()> {
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> crate::storage::store::StoreResult<()> {
            self.inner.delete(key)
        }
        fn exists(&self, key: &str) -> crate::storage::store::StoreResult<bool> {
            self.inner.exists(key)
        }
        fn increment(&self, key: &str, delta: i64) -> crate::storage::store::StoreResult<i64> {
            // The other request gets in just before this one claims its
            // version of a shared document.
            if key.contains("#claim:") {
                let race = self.race.borrow_mut().take();
                if let Some(race) = race {
                    race();
                }
            }
            self.inner.increment(key, delta)
        }
        fn set_many(
            &self,
            entries: &[(String, Vec<u8>)],
        ) -> crate::storage::store::StoreResult<()> {
            self.inner.set_many(entries)
        }
    }

    #[test]
    fn a_sync_that_loses_to_the_same_concurrent_sync_appends_nothing() {
        let w = World::new();
        let body = json!([{"id": "alice", "name": "Alice"}]);
        let racing = Racing {
            inner: &w.kv,
            race: std::cell::RefCell::new(Some(Box::new(|| {
                w.sync(body.clone()).unwrap();
            }))),
        };
        let inputs = parse_list(&body).unwrap();
        let outcome = sync(&racing, &w.clock, &w.caller, &inputs).unwrap();
        assert_eq!(outcome, SyncOutcome::default(), "the other sync did it");
        assert_eq!(events(&w), [event("alice", "created", "Alice")]);
        let page = crate::chat::events::page(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &crate::chat::longpoll::Query::first(10),
            crate::chat::longpoll::NO_SLEEP,
        )
        .unwrap();
        assert_eq!(
            page.items[0].seq, 2,
            "number 1 (held by the loser) is a tombstone"
        );
        assert_eq!(
            crate::chat::events::log(&w.kv, &w.caller.account)
                .head()
                .unwrap(),
            2
        );
    }
}
