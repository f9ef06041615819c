//! The account's event log: every change, once, in one order.
//!
//! Events are `{seq, type, at, conversation_id, data}` with `seq` from the
//! log's atomic sequence (see [`crate::storage::seqlog`]); `GET /api/v1/events` pages
//! and long-polls it, the conversation change feed reads it, and webhook
//! fan-out will too. Types: `conversation.created`, `message.created`,
//! `conversation.assigned`, `conversation.closed`, `conversation.reopened`
//! (written by [`emit`], with a `conversation_id`), and the account-level
//! [`AGENT_UPDATED`] and [`CUSTOMER_UPDATED`] (written through [`Pending`],
//! without one: the change feed skips them).
//!
//! **Exactly once.** [`emit`] takes the event's number *first*, then applies
//! the change (`change`), then records the number as the conversation's
//! latest activity, then writes the event. So:
//! - a change that fails writes a tombstone at its number and no event;
//! - a change that happened is in the log under exactly one number, and the
//!   entry is written only once the change is visible, so a reader that
//!   reads event `n` and then the store sees at least the state of `n`;
//! - if the store fails on the very last write (the event itself), the
//!   change stays without its event. That needs a store that accepted the
//!   previous write a moment ago and fails now; it is logged.
//!
//! [`Pending`] follows the same order for changes that are not a
//! conversation's and may be several events at once (a whole-list sync of
//! agents): the writer takes the numbers inside its shared-document step,
//! before the change is written, and commits the events after it; numbers
//! it does not use (the change turned out a no-op, or failed) are
//! tombstoned when the `Pending` is dropped.
//!
//! **Latest activity** (`acct:<a>:conv:<c>:activity`) only grows: it is
//! raised to `n` as a shared document (`doc::update`), and a writer that finds a larger
//! number stops at once, so concurrent writers to one conversation settle in
//! a few rounds (the highest number wins, the others drop out). The change
//! feed skips event `n` of a conversation whose activity is above `n`: that
//! later event is still ahead of the reader, and will show the conversation.

use crate::base::error::Result;
use crate::base::ids::{AccountId, ConversationId};
use crate::base::paging::Page;
use crate::base::time::{Clock, Timestamp};
use crate::chat::longpoll;
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::seqlog::Log;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const CURSOR_KIND: &str = "events";
/// Default page of `GET /api/v1/events`.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page of `GET /api/v1/events`.
pub const MAX_PAGE: usize = 500;

/// A conversation was started (`data`: the conversation).
pub const CONVERSATION_CREATED: &str = "conversation.created";
/// A visitor or an agent wrote (`data`: the message).
pub const MESSAGE_CREATED: &str = "message.created";
/// A conversation was routed (`data`: `{agent_id, previous_agent_id, by}`).
pub const CONVERSATION_ASSIGNED: &str = "conversation.assigned";
/// A conversation was closed (`data`: `{by}`).
pub const CONVERSATION_CLOSED: &str = "conversation.closed";
/// A closed conversation got a visitor message (`data`: `{by}`).
pub const CONVERSATION_REOPENED: &str = "conversation.reopened";

/// An agent was created, changed, removed or changed presence (`data`:
/// `{agent_id, change: created|updated|removed|status, agent}`, `agent` the
/// agent now, `null` when removed).
pub const AGENT_UPDATED: &str = "agent.updated";
/// A customer was tagged or its tags changed, through the API or identify
/// (`data`: `{customer_id, change: created|updated, customer}`).
pub const CUSTOMER_UPDATED: &str = "customer.updated";

/// One event, as stored (with `v`) and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its number in the account's log: strictly increasing.
    pub seq: u64,
    /// What happened, `<resource>.<verb>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: Timestamp,
    /// The conversation it concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub conversation_id: Option<ConversationId>,
    /// The event's payload.
    pub data: Value,
}

#[derive(Serialize)]
struct Stored<'a> {
    v: u32,
    #[serde(flatten)]
    event: &'a Event,
}

/// An account-level event as stored: the payload is written as it is,
/// without going through [`Value`].
#[derive(Serialize)]
struct StoredData<'a, T> {
    v: u32,
    seq: u64,
    #[serde(rename = "type")]
    kind: &'a str,
    at: Timestamp,
    data: T,
}

/// Event numbers taken for a change that is not a conversation's, before
/// the change is written (see the module docs). Dropping it tombstones the
/// numbers not committed, so no path leaves a gap for the grace period.
pub struct Pending<'a> {
    log: Log<'a>,
    numbers: Vec<u64>,
}

impl<'a> Pending<'a> {
    /// Holds no number yet.
    pub fn new(kv: &'a dyn KeyValue, account: &'a AccountId) -> Self {
        Pending {
            log: log(kv, account),
            numbers: Vec::new(),
        }
    }

    /// Makes sure at least `count` numbers are held, taking the missing ones
    /// with one increment. Call it in the change's shared-document step,
    /// once the step knows how many events its write makes: a retried step
    /// reuses the numbers already held.
    pub fn hold(&mut self, count: usize) -> Result<()> {
        let missing = count.saturating_sub(self.numbers.len()) as u64;
        if missing > 0 {
            let last = self.log.reserve_many(missing)?;
            self.numbers.extend(last + 1 - missing..=last);
        }
        Ok(())
    }

    /// Writes `items` as events of type `kind`, one per held number in
    /// order, once the change is written; numbers left over are tombstoned.
    /// Every item is attempted; the first failure is returned.
    pub fn commit<T: Serialize>(
        mut self,
        clock: &dyn Clock,
        kind: &str,
        items: impl IntoIterator<Item = T>,
    ) -> Result<()> {
        // Taken after every number: an entry's time is never earlier than
        // its number, which readers' grace period relies on.
        let at = clock.now();
        let mut numbers = std::mem::take(&mut self.numbers).into_iter();
        let mut outcome = Ok(());
        for (data, seq) in items.into_iter().zip(numbers.by_ref()) {
            let entry = StoredData {
                v: 1,
                seq,
                kind,
                at,
                data,
            };
            if let Err(e) = self.log.put(seq, &entry) {
                eprintln!("warning: writing event {seq} ({kind}) failed: {e}");
                outcome = outcome.and(Err(e));
            }
        }
        self.numbers.extend(numbers);
        outcome
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        for n in self.numbers.drain(..) {
            self.log.tombstone(n);
        }
    }
}

/// A conversation's latest event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Schema version.
    pub v: u32,
    /// The number of the conversation's latest event.
    pub event: u64,
    /// That event's time.
    pub at: Timestamp,
}

pub(crate) fn log<'a>(kv: &'a dyn KeyValue, account: &'a AccountId) -> Log<'a> {
    Log::new(kv, keys::event_seq(account), move |n| {
        keys::event(account, n)
    })
}

/// Records one change of `conversation` as an event of type `kind`.
///
/// `change(n, at)` applies the change and returns the event's data, or
/// `None` when it turns out there is nothing to do (a concurrent request did
/// it first): then the number is tombstoned and `Ok(None)` returned. An
/// error from `change` also tombstones the number and is returned.
pub fn emit(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    conversation: &ConversationId,
    kind: &str,
    change: impl FnOnce(u64, Timestamp) -> Result<Option<Value>>,
) -> Result<Option<Event>> {
    let log = log(kv, account);
    let n = log.reserve()?;
    let at = clock.now();
    let data = match change(n, at) {
        Ok(Some(data)) => data,
        Ok(None) => {
            log.tombstone(n);
            return Ok(None);
        }
        Err(e) => {
            log.tombstone(n);
            return Err(e);
        }
    };
    if let Err(e) = raise_activity(kv, account, conversation, n, at) {
        // The change is done and must be in the log; without the activity
        // mark the feed merely shows the conversation once more than needed.
        eprintln!("warning: recording activity {n} of {conversation} failed: {e}");
    }
    let event = Event {
        seq: n,
        kind: kind.to_string(),
        at,
        conversation_id: Some(conversation.clone()),
        data,
    };
    log.put(
        n,
        &Stored {
            v: 1,
            event: &event,
        },
    )?;
    Ok(Some(event))
}

fn raise_activity(
    kv: &dyn KeyValue,
    account: &AccountId,
    conversation: &ConversationId,
    n: u64,
    at: Timestamp,
) -> Result<()> {
    let key = keys::conversation_activity(account, conversation);
    doc::update(kv, &key, |current: Option<Activity>| {
        Ok(match current {
            Some(current) if current.event >= n => Step::Keep(()),
            _ => Step::Write(Activity { v: 1, event: n, at }, ()),
        })
    })
}

/// A conversation's latest event, if it has one.
pub fn activity(
    kv: &dyn KeyValue,
    account: &AccountId,
    conversation: &ConversationId,
) -> Result<Option<Activity>> {
    doc::read_shared(kv, &keys::conversation_activity(account, conversation))
}

/// A page of events after `cursor`; with `wait_millis > 0` it long-polls
/// until one arrives ([`longpoll::poll`]).
pub fn page(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    query: &longpoll::Query,
    sleep: &dyn Fn(),
) -> Result<Page<Event>> {
    let log = log(kv, account);
    longpoll::page_of_log(&log, clock, CURSOR_KIND, query, sleep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;

    fn setup() -> (MemoryStore, ManualClock, AccountId, ConversationId) {
        let (kv, clock, account) = World::new().parts();
        (kv, clock, account, ConversationId::generate())
    }

    fn no_sleep() {}

    #[test]
    fn emitted_events_are_numbered_and_raise_the_activity() {
        let (kv, clock, account, conv) = setup();
        for _ in 0..3 {
            emit(&kv, &clock, &account, &conv, MESSAGE_CREATED, |_, _| {
                Ok(Some(Value::Null))
            })
            .unwrap();
        }
        let page = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query::first(10),
            &no_sleep,
        )
        .unwrap();
        let seqs: Vec<u64> = page.items.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(activity(&kv, &account, &conv).unwrap().unwrap().event, 3);
    }

    #[test]
    fn a_failed_or_empty_change_leaves_a_tombstone_not_an_event() {
        let (kv, clock, account, conv) = setup();
        let failed = emit(&kv, &clock, &account, &conv, MESSAGE_CREATED, |_, _| {
            Err(Error::NotFound("x".into()))
        });
        assert!(failed.is_err());
        let nothing = emit(&kv, &clock, &account, &conv, CONVERSATION_CLOSED, |_, _| {
            Ok(None)
        });
        assert_eq!(nothing, Ok(None));
        emit(&kv, &clock, &account, &conv, CONVERSATION_CLOSED, |_, _| {
            Ok(Some(Value::Null))
        })
        .unwrap();
        let page = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query::first(10),
            &no_sleep,
        )
        .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].seq, 3);
        assert_eq!(activity(&kv, &account, &conv).unwrap().unwrap().event, 3);
    }

    #[test]
    fn activity_never_moves_back() {
        let (kv, _clock, account, conv) = setup();
        let at = Timestamp::from_millis(0);
        raise_activity(&kv, &account, &conv, 5, at).unwrap();
        raise_activity(&kv, &account, &conv, 3, at).unwrap();
        assert_eq!(activity(&kv, &account, &conv).unwrap().unwrap().event, 5);
    }

    #[test]
    fn an_idle_long_poll_keeps_its_cursor() {
        let (kv, clock, account, conv) = setup();
        emit(&kv, &clock, &account, &conv, MESSAGE_CREATED, |_, _| {
            Ok(Some(Value::Null))
        })
        .unwrap();
        let first = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query::first(10),
            &no_sleep,
        )
        .unwrap();
        let idle = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query {
                cursor: Some(first.next_cursor.clone()),
                limit: 10,
                wait_millis: 200,
            },
            &|| clock.advance(5),
        )
        .unwrap();
        assert!(idle.items.is_empty());
        assert_eq!(idle.next_cursor, first.next_cursor);
    }
}
