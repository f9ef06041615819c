//! Where visibility is stored and decided: the account's action rules, the
//! account's override, one override per customer, and the answer the widget
//! asks for. The rules themselves are in [`crate::widget::rules`].
//!
//! Each of the three is one small document written whole (PUT replaces it),
//! so concurrent writers cannot mix two versions: the last write wins, as a
//! PUT should. A customer override may be set for a customer id that has no
//! record yet (visitors get one only when they start a chat), so that an
//! integrator can decide before the visitor arrives.

use crate::api::agents;
use crate::api::audit;
use crate::api::auth::{Actor, Caller};
use crate::base::error::Result;
use crate::base::ids::{AccountId, CustomerId};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use crate::widget::rules::{self, Decision, Facts, Mode, Override, Rule};
use serde::{Deserialize, Serialize};

/// The action rules as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rules, in the order given.
    pub rules: Vec<Rule>,
    /// When they were last replaced (`null` if never).
    pub updated_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredRules {
    v: u32,
    #[serde(flatten)]
    set: RuleSet,
}

/// An override as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideView {
    /// `auto`, `show` or `hide`.
    pub mode: Mode,
    /// When it stops applying, if ever.
    pub until: Option<Timestamp>,
    /// Whether it decides visibility right now (`show`/`hide`, not expired).
    pub active: bool,
    /// When it was last set (`null` if never).
    pub updated_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredOverride {
    v: u32,
    mode: Mode,
    until: Option<Timestamp>,
    updated_at: Timestamp,
}

/// Whose override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole account (`/api/v1/visibility`).
    Account,
    /// One customer (`/api/v1/customers/{id}/visibility`).
    Customer(&'a CustomerId),
}

impl Scope<'_> {
    fn key(&self, account: &AccountId) -> String {
        match self {
            Scope::Account => keys::visibility_override(account),
            Scope::Customer(id) => keys::customer_visibility_override(account, id),
        }
    }

    fn target(&self) -> String {
        match self {
            Scope::Account => "visibility".into(),
            Scope::Customer(id) => format!("customer:{id}"),
        }
    }
}

/// The account's rules (empty if none were set).
pub fn get_rules(kv: &dyn KeyValue, account: &AccountId) -> Result<RuleSet> {
    Ok(doc::read::<StoredRules>(kv, &keys::action_rules(account))?
        .map(|stored| stored.set)
        .unwrap_or(RuleSet {
            rules: Vec::new(),
            updated_at: None,
        }))
}

/// Replaces the account's rules (an empty list removes them all).
pub fn put_rules(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    rules: Vec<Rule>,
) -> Result<RuleSet> {
    let set = RuleSet {
        rules,
        updated_at: Some(clock.now()),
    };
    let stored = StoredRules {
        v: 1,
        set: set.clone(),
    };
    doc::write(kv, &keys::action_rules(&caller.account), &stored)?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::ActionRulesUpdated,
        "action-rules",
    )?;
    Ok(set)
}

fn read_override(
    kv: &dyn KeyValue,
    account: &AccountId,
    scope: Scope<'_>,
) -> Result<Option<StoredOverride>> {
    doc::read(kv, &scope.key(account))
}

fn view(stored: Option<StoredOverride>, now: Timestamp) -> OverrideView {
    match stored {
        None => OverrideView {
            mode: Mode::Auto,
            until: None,
            active: false,
            updated_at: None,
        },
        Some(s) => OverrideView {
            active: Override {
                mode: s.mode,
                until: s.until,
            }
            .is_active(now),
            mode: s.mode,
            until: s.until,
            updated_at: Some(s.updated_at),
        },
    }
}

/// An override as it stands (`auto` if never set).
pub fn get_override(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    scope: Scope<'_>,
) -> Result<OverrideView> {
    Ok(view(read_override(kv, account, scope)?, clock.now()))
}

/// Sets an override.
pub fn put_override(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    scope: Scope<'_>,
    new: Override,
) -> Result<OverrideView> {
    let stored = StoredOverride {
        v: 1,
        mode: new.mode,
        until: new.until,
        updated_at: clock.now(),
    };
    doc::write(kv, &scope.key(&caller.account), &stored)?;
    let action = match scope {
        Scope::Account => audit::Action::VisibilityUpdated,
        Scope::Customer(_) => audit::Action::CustomerVisibilityUpdated,
    };
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        action,
        &scope.target(),
    )?;
    Ok(view(Some(stored), clock.now()))
}

fn effective(stored: Option<StoredOverride>) -> Override {
    stored.map_or(Override::AUTO, |s| Override {
        mode: s.mode,
        until: s.until,
    })
}

/// What the page tells about the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFacts {
    /// The visitor (its customer id), if the page sent one.
    pub visitor: Option<CustomerId>,
    /// Seconds on the page.
    pub time_on_page: u64,
    /// Visit number.
    pub visit: u64,
}

/// Decides whether the widget shows for this visitor now. The visitor's
/// own override wins; if the visitor proved to be a tagged customer (a
/// verified identify, see [`crate::widget::identity`]), that customer's
/// override comes next, then the account's. `page.visitor` must already be
/// verified as minted for the site.
pub fn decide(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    page: &PageFacts,
) -> Result<Decision> {
    let now = clock.now();
    let rules = get_rules(kv, account)?.rules;
    let account_override = effective(read_override(kv, account, Scope::Account)?);
    let mut customer_override = Override::AUTO;
    if let Some(visitor) = &page.visitor {
        let own = effective(read_override(kv, account, Scope::Customer(visitor))?);
        customer_override = own;
        if !own.is_active(now)
            && let Some(linked) = crate::widget::identity::verified_customer(kv, account, visitor)?
        {
            customer_override = effective(read_override(kv, account, Scope::Customer(&linked))?);
        }
    }
    let uses_presence = rules.iter().any(|rule| {
        rule.conditions.iter().any(|c| {
            matches!(
                c,
                rules::Condition::AgentsOnline | rules::Condition::AgentsAvailable
            )
        })
    });
    let (agents_online, agents_available) = if uses_presence {
        presence(kv, account)?
    } else {
        (false, false)
    };
    let facts = Facts {
        now,
        agents_online,
        agents_available,
        time_on_page: page.time_on_page,
        visit: page.visit,
    };
    Ok(rules::evaluate(
        &rules,
        &account_override,
        &customer_override,
        &facts,
    ))
}

/// Whether some agent is online, and whether some online agent is available.
fn presence(kv: &dyn KeyValue, account: &AccountId) -> Result<(bool, bool)> {
    let page = agents::list(kv, account, None, agents::MAX_AGENTS)?;
    let online = page.items.iter().any(|a| a.online);
    let available = page.items.iter().any(|a| a.online && a.available);
    Ok((online, available))
}

/// The actor for widget-side audit entries.
pub fn visitor_actor(visitor: &CustomerId) -> Actor {
    Actor::Visitor(visitor.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::World;
    use crate::widget::rules::{Reason, parse_override, parse_rules};
    use serde_json::json;

    fn world() -> World {
        World::at(Timestamp::parse("2026-06-10T12:00:00Z").unwrap())
    }

    impl World {
        fn decide(&self, visitor: Option<&str>, time_on_page: u64, visit: u64) -> Decision {
            let page = PageFacts {
                visitor: visitor.map(|v| CustomerId::parse(v).unwrap()),
                time_on_page,
                visit,
            };
            decide(&self.kv, &self.clock, &self.caller.account, &page).unwrap()
        }
        fn set(&self, scope: Scope<'_>, body: serde_json::Value) {
            let o = parse_override(&body, self.clock.now()).unwrap();
            put_override(&self.kv, &self.clock, &self.caller, scope, o).unwrap();
        }
    }

    #[test]
    fn stored_rules_overrides_and_presence_decide_together() {
        let w = world();
        assert_eq!(w.decide(None, 0, 1).reason, Reason::NoRules);
        let rules =
            parse_rules(&json!([{"id": "staffed", "conditions": [{"type": "agents_online"}]}]))
                .unwrap();
        put_rules(&w.kv, &w.clock, &w.caller, rules).unwrap();
        assert!(!w.decide(None, 0, 1).visible, "no agent is online");
        let agent =
            crate::api::agents::parse_one("alice", &json!({"name": "Alice", "online": true}))
                .unwrap();
        crate::api::agents::upsert(&w.kv, &w.clock, &w.caller, &agent).unwrap();
        assert_eq!(w.decide(None, 0, 1).matched_rules, ["staffed"]);

        w.set(
            Scope::Account,
            json!({"mode": "hide", "until": "2026-06-10T12:00:20Z"}),
        );
        let hidden = w.decide(Some("v1"), 0, 1);
        assert_eq!((hidden.visible, hidden.recheck_after_seconds), (false, 20));
        let v1 = CustomerId::parse("v1").unwrap();
        w.set(Scope::Customer(&v1), json!({"mode": "show"}));
        assert_eq!(w.decide(Some("v1"), 0, 1).reason, Reason::CustomerOverride);
        assert_eq!(w.decide(Some("v2"), 0, 1).reason, Reason::AccountOverride);
        w.clock.advance(20_000);
        assert_eq!(w.decide(Some("v2"), 0, 1).reason, Reason::RuleMatched);
        let shown = get_override(&w.kv, &w.clock, &w.caller.account, Scope::Account).unwrap();
        assert!(!shown.active, "the account's hide has expired");
    }
}
