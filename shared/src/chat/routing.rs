//! Routing: who answers a new conversation.
//!
//! An account setting (`PUT /api/v1/settings/routing {mode}`):
//! - `manual` (the default): conversations stay unassigned until the
//!   business assigns them (`POST /api/v1/conversations/{id}/assign`);
//! - `round_robin`: a new conversation goes to the next *available* agent
//!   (online and available, see [`crate::api::agents`]), in id order.
//!
//! Round robin is fair under concurrency because the turn comes from an
//! atomic counter (`increment`), not from "who was last": N concurrent
//! conversations take N distinct turns, so with k available agents each
//! gets N/k (±1) of them. When the set of available agents changes, turns
//! continue over the new list. With no agent available the conversation
//! stays unassigned.

use crate::api::audit;
use crate::api::auth::Caller;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How new conversations are routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nobody is assigned automatically.
    #[default]
    Manual,
    /// The next available agent, in turn.
    RoundRobin,
}

/// The routing setting as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The mode.
    pub mode: Mode,
    /// When it was last set (absent while never set).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub updated_at: Option<Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    routing: Routing,
}

/// Reads `PUT /api/v1/settings/routing {mode}`.
pub fn parse(body: &Value) -> Result<Mode> {
    let mut errors = Errors::new();
    let mode = Object::new(body, "", &mut errors).and_then(|object| match object.get("mode") {
        Some(Value::String(s)) if s == "manual" => Some(Mode::Manual),
        Some(Value::String(s)) if s == "round_robin" => Some(Mode::RoundRobin),
        None => {
            errors.add("mode", "is required: \"manual\" or \"round_robin\"");
            None
        }
        Some(_) => {
            errors.add("mode", "must be \"manual\" or \"round_robin\"");
            None
        }
    });
    errors.finish_with(mode)
}

/// The account's routing setting (`manual` when never set).
pub fn get(kv: &dyn KeyValue, account: &AccountId) -> Result<Routing> {
    Ok(doc::read::<Stored>(kv, &keys::routing_settings(account))?
        .map(|stored| stored.routing)
        .unwrap_or(Routing {
            mode: Mode::Manual,
            updated_at: None,
        }))
}

/// Sets the account's routing mode.
pub fn set(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller, mode: Mode) -> Result<Routing> {
    let routing = Routing {
        mode,
        updated_at: Some(clock.now()),
    };
    doc::write(
        kv,
        &keys::routing_settings(&caller.account),
        &Stored {
            v: 1,
            routing: routing.clone(),
        },
    )?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::SettingsUpdated,
        "settings:routing",
    )?;
    Ok(routing)
}

/// An agent's id and presence only, read from the agent list document
/// ([`crate::api::agents`] owns it): reading into this instead of the full agent
/// keeps the components that only route (conversations, the widget) small.
#[derive(Deserialize)]
struct Presence {
    id: AgentId,
    #[serde(default)]
    online: bool,
    #[serde(default)]
    available: bool,
}

#[derive(Deserialize)]
struct PresenceList {
    #[serde(default)]
    items: Vec<Presence>,
}

fn presence(kv: &dyn KeyValue, account: &AccountId) -> Result<Vec<Presence>> {
    Ok(
        doc::read_shared::<PresenceList>(kv, &keys::agents(account))?
            .map(|list| list.items)
            .unwrap_or_default(),
    )
}

/// Checks that agent `id` exists (404 naming it otherwise).
pub fn require_agent(kv: &dyn KeyValue, account: &AccountId, id: &AgentId) -> Result<()> {
    if presence(kv, account)?.iter().any(|a| &a.id == id) {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "there is no agent {:?}",
            id.as_str()
        )))
    }
}

/// The ids of the agents who are online and available, sorted by id.
pub fn available_agents(kv: &dyn KeyValue, account: &AccountId) -> Result<Vec<AgentId>> {
    let mut ids: Vec<AgentId> = presence(kv, account)?
        .into_iter()
        .filter(|a| a.online && a.available)
        .map(|a| a.id)
        .collect();
    // Unstable is the same order here (equal ids are identical strings) and
    // ~1.4 KB less wasm than the stable sort.
    ids.sort_unstable();
    Ok(ids)
}

/// The agent a new conversation goes to, if the account routes
/// automatically and someone is available.
pub fn pick(kv: &dyn KeyValue, account: &AccountId) -> Result<Option<AgentId>> {
    if get(kv, account)?.mode != Mode::RoundRobin {
        return Ok(None);
    }
    let available = available_agents(kv, account)?;
    if available.is_empty() {
        return Ok(None);
    }
    let turn = kv.increment(&keys::round_robin(account), 1)?;
    let turn = u64::try_from(turn - 1)
        .map_err(|_| Error::Corrupt(format!("round-robin counter: {turn}")))?;
    let index = (turn % available.len() as u64) as usize;
    Ok(Some(available[index].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::agents::{self, AgentInput};
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;
    use serde_json::json;
    use std::collections::HashMap;

    fn setup() -> (MemoryStore, ManualClock, Caller) {
        let World { kv, clock, caller } = World::new();
        (kv, clock, caller)
    }

    fn agent(id: &str, available: bool) -> AgentInput {
        AgentInput {
            id: AgentId::parse(id).unwrap(),
            name: id.to_uppercase(),
            email: None,
            online: Some(true),
            available: Some(available),
        }
    }

    #[test]
    fn routing_is_manual_until_set() {
        let (kv, clock, caller) = setup();
        assert_eq!(get(&kv, &caller.account).unwrap().mode, Mode::Manual);
        agents::sync(&kv, &clock, &caller, &[agent("alice", true)]).unwrap();
        assert_eq!(pick(&kv, &caller.account).unwrap(), None);
        set(&kv, &clock, &caller, Mode::RoundRobin).unwrap();
        assert_eq!(get(&kv, &caller.account).unwrap().mode, Mode::RoundRobin);
    }

    #[test]
    fn round_robin_deals_turns_evenly_among_available_agents() {
        let (kv, clock, caller) = setup();
        let directory = [
            agent("carol", true),
            agent("alice", true),
            agent("bob", true),
            agent("dave", false),
        ];
        agents::sync(&kv, &clock, &caller, &directory).unwrap();
        set(&kv, &clock, &caller, Mode::RoundRobin).unwrap();
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut order = Vec::new();
        for _ in 0..30 {
            let id = pick(&kv, &caller.account).unwrap().unwrap().to_string();
            order.push(id.clone());
            *counts.entry(id).or_default() += 1;
        }
        assert_eq!(&order[..3], ["alice", "bob", "carol"]);
        assert_eq!(counts.len(), 3, "dave is not available: {counts:?}");
        assert!(counts.values().all(|&n| n == 10), "{counts:?}");
    }

    #[test]
    fn nobody_is_picked_when_no_agent_is_available() {
        let (kv, clock, caller) = setup();
        agents::sync(&kv, &clock, &caller, &[agent("alice", false)]).unwrap();
        set(&kv, &clock, &caller, Mode::RoundRobin).unwrap();
        assert_eq!(pick(&kv, &caller.account).unwrap(), None);
    }

    #[test]
    fn the_mode_must_be_one_of_the_two() {
        assert_eq!(parse(&json!({"mode": "round_robin"})), Ok(Mode::RoundRobin));
        assert!(parse(&json!({"mode": "random"})).is_err());
        assert!(parse(&json!({})).is_err());
    }
}
