//! The audit log: every mutating call appends `{id, at, actor, action,
//! target}`, read back oldest to newest with an opaque cursor.
//!
//! Actions are `<type>.<verb>` (`token.created`, `agent.deleted`, …); targets
//! name what was changed (`token:tok_…`, `agent:alice`, `agents` for the whole
//! list). `?type=` matches an action exactly or by its type (`token`).

use crate::api::auth::Actor;
use crate::base::error::Result;
use crate::base::ids::AccountId;
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::storage::keys;
use crate::storage::seqlog::Log;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};

const CURSOR_KIND: &str = "audit";

/// What an audit entry records. Its string form (`<type>.<verb>`) is what
/// the API returns in `action` and what `?type=` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An account was created (admin). (`account.created`)
    AccountCreated,
    /// A signed agent link was minted. (`agent_link.created`)
    AgentLinkCreated,
    /// An agent link was opened and logged its agent in. (`agent_link.joined`)
    AgentLinkJoined,
    /// Opening an agent link was refused; `reason` says why (a security
    /// event). (`agent_link.refused`)
    AgentLinkRefused,
    /// An agent logged out of the agent page. (`agent_session.logged_out`)
    AgentLoggedOut,
    /// The visibility rule list was replaced. (`action_rules.updated`)
    ActionRulesUpdated,
    /// One agent was created. (`agent.created`)
    AgentCreated,
    /// One agent was replaced. (`agent.updated`)
    AgentUpdated,
    /// One agent was deleted. (`agent.deleted`)
    AgentDeleted,
    /// An agent's presence was set. (`agent.status_changed`)
    AgentStatusChanged,
    /// The whole agent list was synced. (`agent.synced`)
    AgentsSynced,
    /// A conversation was routed to an agent. (`conversation.assigned`)
    ConversationAssigned,
    /// A conversation was closed. (`conversation.closed`)
    ConversationClosed,
    /// A visitor started a conversation. (`conversation.created`)
    ConversationCreated,
    /// A closed conversation was reopened. (`conversation.reopened`)
    ConversationReopened,
    /// A customer was tagged for the first time. (`customer.created`)
    CustomerCreated,
    /// A customer's tags were replaced. (`customer.updated`)
    CustomerUpdated,
    /// One customer's visibility override was set. (`customer.visibility_updated`)
    CustomerVisibilityUpdated,
    /// The identify secret was removed. (`identity_secret.deleted`)
    IdentitySecretDeleted,
    /// The identify secret was set. (`identity_secret.updated`)
    IdentitySecretUpdated,
    /// A visitor or agent message was posted. (`message.created`)
    MessageCreated,
    /// The routing settings were replaced. (`settings.updated`)
    SettingsUpdated,
    /// An API token was minted. (`token.created`)
    TokenCreated,
    /// An API token was revoked. (`token.revoked`)
    TokenRevoked,
    /// The account's visibility override was set. (`visibility.updated`)
    VisibilityUpdated,
    /// A webhook endpoint was created. (`webhook.created`)
    WebhookCreated,
    /// A webhook endpoint was changed. (`webhook.updated`)
    WebhookUpdated,
    /// A webhook endpoint was deleted. (`webhook.deleted`)
    WebhookDeleted,
    /// A webhook endpoint's secret was rotated. (`webhook.secret_rotated`)
    WebhookSecretRotated,
    /// A test event was sent to an endpoint. (`webhook.tested`)
    WebhookTested,
    /// A delivery was sent again by hand. (`webhook.delivery_retried`)
    WebhookDeliveryRetried,
    /// A replay of past events was asked for. (`webhook.replayed`)
    WebhookReplayed,
    /// Delivery disabled an endpoint (410 Gone, or failing for days). (`webhook.disabled`)
    WebhookDisabled,
    /// The widget config was replaced. (`widget_config.updated`)
    WidgetConfigUpdated,
    /// A widget identify was refused (a security event). (`widget.identify_refused`)
    WidgetIdentifyRefused,
    /// A page said who its visitor is, and that changed. (`widget.identified`)
    WidgetIdentified,
}

impl Action {
    /// The action as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AccountCreated => "account.created",
            Action::AgentLinkCreated => "agent_link.created",
            Action::AgentLinkJoined => "agent_link.joined",
            Action::AgentLinkRefused => "agent_link.refused",
            Action::AgentLoggedOut => "agent_session.logged_out",
            Action::ActionRulesUpdated => "action_rules.updated",
            Action::AgentCreated => "agent.created",
            Action::AgentUpdated => "agent.updated",
            Action::AgentDeleted => "agent.deleted",
            Action::AgentStatusChanged => "agent.status_changed",
            Action::AgentsSynced => "agent.synced",
            Action::ConversationAssigned => "conversation.assigned",
            Action::ConversationClosed => "conversation.closed",
            Action::ConversationCreated => "conversation.created",
            Action::ConversationReopened => "conversation.reopened",
            Action::CustomerCreated => "customer.created",
            Action::CustomerUpdated => "customer.updated",
            Action::CustomerVisibilityUpdated => "customer.visibility_updated",
            Action::IdentitySecretDeleted => "identity_secret.deleted",
            Action::IdentitySecretUpdated => "identity_secret.updated",
            Action::MessageCreated => "message.created",
            Action::SettingsUpdated => "settings.updated",
            Action::TokenCreated => "token.created",
            Action::TokenRevoked => "token.revoked",
            Action::VisibilityUpdated => "visibility.updated",
            Action::WebhookCreated => "webhook.created",
            Action::WebhookUpdated => "webhook.updated",
            Action::WebhookDeleted => "webhook.deleted",
            Action::WebhookSecretRotated => "webhook.secret_rotated",
            Action::WebhookTested => "webhook.tested",
            Action::WebhookDeliveryRetried => "webhook.delivery_retried",
            Action::WebhookReplayed => "webhook.replayed",
            Action::WebhookDisabled => "webhook.disabled",
            Action::WidgetConfigUpdated => "widget_config.updated",
            Action::WidgetIdentifyRefused => "widget.identify_refused",
            Action::WidgetIdentified => "widget.identified",
        }
    }
}

/// One audit entry as stored and as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry's number in the account's log, as a string.
    pub id: String,
    /// When it happened.
    pub at: Timestamp,
    /// `admin`, `token:<id>`, `visitor:<id>` or `agent:<id>`.
    pub actor: String,
    /// What happened, `<type>.<verb>`.
    pub action: String,
    /// What it happened to.
    pub target: String,
    /// Why, for refusals (`agent_link.refused`: `expired`, `used`,
    /// `tampered`, `key_retired`, `unknown_agent`, `wrong_account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize)]
struct Stored<'a> {
    v: u32,
    #[serde(flatten)]
    entry: &'a AuditEntry,
}

fn log<'a>(kv: &'a dyn KeyValue, account: &'a AccountId) -> Log<'a> {
    Log::new(kv, keys::audit_seq(account), move |n| {
        keys::audit_entry(account, n)
    })
}

/// What an audit entry will say: who did what to what.
pub struct Line<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// What.
    pub action: Action,
    /// To what.
    pub target: String,
}

/// An audit entry whose number is taken and which the change it records
/// writes in its own batch ([`KeyValue::set_many`]), so that the change and
/// its entry land together. Dropped without [`Reserved::written`], its
/// number is tombstoned.
pub struct Reserved<'a> {
    log: Log<'a>,
    n: Option<u64>,
    actor: String,
    action: Action,
    target: String,
}

/// Takes the number of the entry `line` will be, without writing it.
pub fn reserve<'a>(
    kv: &'a dyn KeyValue,
    account: &'a AccountId,
    line: Line<'_>,
) -> Result<Reserved<'a>> {
    let log = log(kv, account);
    let n = log.reserve()?;
    Ok(Reserved {
        log,
        n: Some(n),
        actor: line.actor.to_string(),
        action: line.action,
        target: line.target,
    })
}

impl Reserved<'_> {
    /// The entry's key and value, stamped `at`, for the batch.
    pub fn encode(&self, at: Timestamp) -> Result<(String, Vec<u8>)> {
        let n = self.n.unwrap_or_default();
        let entry = AuditEntry {
            id: n.to_string(),
            at,
            actor: self.actor.clone(),
            action: self.action.as_str().to_string(),
            target: self.target.clone(),
            reason: None,
        };
        self.log.encode(
            n,
            &Stored {
                v: 1,
                entry: &entry,
            },
        )
    }

    /// The batch holding the entry was written.
    pub fn written(mut self) {
        self.n = None;
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        if let Some(n) = self.n.take() {
            self.log.tombstone(n);
        }
    }
}

/// Appends an entry to the account's audit log.
pub fn record(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    action: Action,
    target: &str,
) -> Result<()> {
    record_entry(kv, clock, account, actor, action, target, None)
}

/// Appends a refusal (a security event) with its reason.
pub fn record_refusal(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    action: Action,
    target: &str,
    reason: &str,
) -> Result<()> {
    record_entry(kv, clock, account, actor, action, target, Some(reason))
}

fn record_entry(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    action: Action,
    target: &str,
    reason: Option<&str>,
) -> Result<()> {
    log(kv, account).append(|n| {
        let entry = AuditEntry {
            id: n.to_string(),
            at: clock.now(),
            actor: actor.to_string(),
            action: action.as_str().to_string(),
            target: target.to_string(),
            reason: reason.map(str::to_string),
        };
        serde_json::to_value(Stored {
            v: 1,
            entry: &entry,
        })
        .unwrap_or_default()
    })?;
    Ok(())
}

/// A page of the audit log after `cursor`, optionally only one type.
pub fn page(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    cursor: Option<&str>,
    limit: usize,
    type_filter: Option<&str>,
) -> Result<Page<AuditEntry>> {
    let after = decode_seq_cursor(CURSOR_KIND, cursor)?;
    let scan = log(kv, account).scan(after, limit, clock.now(), |entry: &AuditEntry| {
        type_filter.is_none_or(|t| matches_type(&entry.action, t))
    })?;
    Ok(Page {
        items: scan.items,
        next_cursor: encode_cursor(CURSOR_KIND, &scan.position.to_string()),
    })
}

fn matches_type(action: &str, wanted: &str) -> bool {
    action == wanted || action.split('.').next() == Some(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::ids::TokenId;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;

    fn setup() -> (MemoryStore, ManualClock, AccountId) {
        World::new().parts()
    }

    #[test]
    fn entries_are_listed_oldest_first_with_who_did_what_to_what() {
        let (kv, clock, account) = setup();
        let actor = Actor::Token(TokenId::generate());
        record(
            &kv,
            &clock,
            &account,
            &actor,
            Action::AgentCreated,
            "agent:alice",
        )
        .unwrap();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::TokenRevoked,
            "token:x",
        )
        .unwrap();
        let page = page(&kv, &clock, &account, None, 50, None).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].id, "1");
        assert_eq!(page.items[0].actor, actor.to_string());
        assert_eq!(page.items[0].action, "agent.created");
        assert_eq!(page.items[1].actor, "admin");
    }

    #[test]
    fn the_cursor_continues_where_the_last_page_ended() {
        let (kv, clock, account) = setup();
        for i in 0..5 {
            record(
                &kv,
                &clock,
                &account,
                &Actor::Admin,
                Action::TokenCreated,
                &format!("t{i}"),
            )
            .unwrap();
        }
        let first = page(&kv, &clock, &account, None, 2, None).unwrap();
        let second = page(&kv, &clock, &account, Some(&first.next_cursor), 10, None).unwrap();
        let targets: Vec<&str> = second.items.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["t2", "t3", "t4"]);
        let end = page(&kv, &clock, &account, Some(&second.next_cursor), 10, None).unwrap();
        assert!(end.items.is_empty());
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::TokenCreated,
            "t5",
        )
        .unwrap();
        let more = page(&kv, &clock, &account, Some(&end.next_cursor), 10, None).unwrap();
        assert_eq!(more.items[0].target, "t5");
    }

    #[test]
    fn the_type_filter_matches_a_type_or_an_exact_action() {
        let (kv, clock, account) = setup();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::TokenCreated,
            "a",
        )
        .unwrap();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::AgentDeleted,
            "b",
        )
        .unwrap();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::TokenRevoked,
            "c",
        )
        .unwrap();
        let tokens = page(&kv, &clock, &account, None, 10, Some("token")).unwrap();
        assert_eq!(tokens.items.len(), 2);
        let revoked = page(&kv, &clock, &account, None, 10, Some("token.revoked")).unwrap();
        assert_eq!(revoked.items.len(), 1);
        assert_eq!(revoked.items[0].target, "c");
    }

    #[test]
    fn logs_of_different_accounts_are_separate() {
        let (kv, clock, account) = setup();
        let other = AccountId::generate();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            Action::TokenCreated,
            "a",
        )
        .unwrap();
        assert!(
            page(&kv, &clock, &other, None, 10, None)
                .unwrap()
                .items
                .is_empty()
        );
    }
}
