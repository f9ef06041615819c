//! The audit log: every mutating call appends `{id, at, actor, action,
//! target}`, read back oldest to newest with an opaque cursor.
//!
//! Actions are `<type>.<verb>` (`token.created`, `agent.deleted`, …); targets
//! name what was changed (`token:tok_…`, `agent:alice`, `agents` for the whole
//! list). `?type=` matches an action exactly or by its type (`token`).

use crate::auth::Actor;
use crate::error::Result;
use crate::ids::AccountId;
use crate::keys;
use crate::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::seqlog::Log;
use crate::store::KeyValue;
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

const CURSOR_KIND: &str = "audit";

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

/// Appends an entry to the account's audit log.
pub fn record(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<()> {
    log(kv, account).append(|n| {
        let entry = AuditEntry {
            id: n.to_string(),
            at: clock.now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
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
    use crate::ids::TokenId;
    use crate::store::MemoryStore;
    use crate::time::ManualClock;

    fn setup() -> (MemoryStore, ManualClock, AccountId) {
        (
            MemoryStore::new(),
            ManualClock::at(Timestamp::from_millis(1_767_225_600_000)),
            AccountId::generate(),
        )
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
            "agent.created",
            "agent:alice",
        )
        .unwrap();
        record(
            &kv,
            &clock,
            &account,
            &Actor::Admin,
            "token.revoked",
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
                "token.created",
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
        record(&kv, &clock, &account, &Actor::Admin, "token.created", "t5").unwrap();
        let more = page(&kv, &clock, &account, Some(&end.next_cursor), 10, None).unwrap();
        assert_eq!(more.items[0].target, "t5");
    }

    #[test]
    fn the_type_filter_matches_a_type_or_an_exact_action() {
        let (kv, clock, account) = setup();
        record(&kv, &clock, &account, &Actor::Admin, "token.created", "a").unwrap();
        record(&kv, &clock, &account, &Actor::Admin, "agent.deleted", "b").unwrap();
        record(&kv, &clock, &account, &Actor::Admin, "token.revoked", "c").unwrap();
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
        record(&kv, &clock, &account, &Actor::Admin, "token.created", "a").unwrap();
        assert!(
            page(&kv, &clock, &other, None, 10, None)
                .unwrap()
                .items
                .is_empty()
        );
    }
}
