//! The account's event log: every change, once, in one order.
//!
//! Events are `{seq, type, at, conversation_id, data}` with `seq` from the
//! log's atomic sequence (see [`crate::storage::seqlog`]); `GET /api/v1/events` pages
//! and long-polls it, the conversation change feed reads it, and webhook
//! fan-out will too. Types: `conversation.created`, `message.created`,
//! `conversation.assigned`, `conversation.closed`, `conversation.reopened`
//! (written by [`emit_message`] and [`emit_change`], with a
//! `conversation_id`), and the account-level [`AGENT_UPDATED`] and
//! [`CUSTOMER_UPDATED`] (written through [`Pending`], without one: the change
//! feed skips them).
//!
//! **A change and its event are one outcome.** There are no transactions,
//! so a change and its event are two writes, and a crash may fall between
//! them. The event is therefore written *first*, as a reference to what the
//! change will write, and the change's own write is the commit point:
//! readers resolve the reference and show the event only once the change is
//! there ([`crate::storage::seqlog::Found`]); until then they stop before it,
//! as at a gap, and past the grace period they pass it. So a reader never
//! shows an event whose change is missing, nor misses one whose change
//! happened, whichever write a crash falls after.
//! - [`emit_message`] (`message.created`): event `n`, message `m` and the
//!   audit entry are written in one batch, all or none
//!   ([`KeyValue::set_many`]); a writer that dies before it leaves numbers
//!   that both logs pass after the grace period. (Entries of an earlier
//!   layout, `{message: m}` written before message `m`, are still read.)
//! - [`emit_change`] (a conversation's `created`, `assigned`, `closed`,
//!   `reopened`): event `n` is `{pending: true}` until the conversation
//!   document is written with `last_change = {seq: n, type, at, data}`
//!   ([`RecordsChange`]); then the writer replaces the entry with the full
//!   event. A reader of a pending entry looks at the document's
//!   `last_change`. A writer that moves the document past a change whose
//!   event is still pending (its writer died after the document write)
//!   writes that event first, so the document only forgets a change that is
//!   in the log for good.
//! - A writer finishes within [`WRITE_LEASE_MILLIS`] of taking its number or
//!   gives up, so readers never pass something still to be written. The one
//!   exception is the conversation document: [`doc::update`] may wait out
//!   claims of writers that died (a grace period per dead claim), so readers
//!   give a pending change [`CHANGE_HORIZON_MILLIS`] instead of the grace
//!   period. That wait happens only after a crash at exactly that point.
//!
//! [`Pending`] follows the same order for changes that are not a
//! conversation's and may be several events at once (a whole-list sync of
//! agents): the writer takes the numbers inside its shared-document step,
//! before the change is written, and commits the events after it; numbers
//! it does not use (the change turned out a no-op, or failed) are
//! tombstoned when the `Pending` is dropped.
//!
//! **Latest activity** (`acct:<a>:conv:<c>:latest`) is written in the
//! batch of every event of the conversation: the last batch written wins.
//! The change feed skips event `n` of a conversation whose activity is
//! above `n`: that later event is still ahead of the reader, and will show
//! the conversation. Two events of one conversation written at the same
//! moment may leave the earlier one as the activity; the feed then shows
//! the conversation at both events, never at neither.

use crate::api::audit;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, ConversationId};
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::chat::{longpoll, messages};
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::seqlog::{Found, Log, Scan, WRITE_LEASE_MILLIS};
use crate::storage::store::{KeyValue, StoreError};
use serde::de::DeserializeOwned;
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

/// An event entry as stored: a full event, or a reference to the change it
/// commits (`message`, `pending`) that readers resolve.
#[derive(Deserialize)]
struct Entry {
    seq: u64,
    #[serde(rename = "type")]
    kind: String,
    at: Timestamp,
    #[serde(default)]
    conversation_id: Option<ConversationId>,
    #[serde(default)]
    data: Value,
    /// `message.created` written before its message: the message's number.
    #[serde(default)]
    message: Option<u64>,
    /// A conversation change written before the conversation document.
    #[serde(default)]
    pending: bool,
}

impl Entry {
    /// The event of a full entry.
    fn into_full(mut self) -> Event {
        let data = std::mem::take(&mut self.data);
        self.into_event(data)
    }

    fn into_event(self, data: Value) -> Event {
        Event {
            seq: self.seq,
            kind: self.kind,
            at: self.at,
            conversation_id: self.conversation_id,
            data,
        }
    }
}

/// A reference entry as written (see [`Entry`]).
#[derive(Serialize)]
struct Reference<'a> {
    v: u32,
    seq: u64,
    #[serde(rename = "type")]
    kind: &'a str,
    at: Timestamp,
    conversation_id: &'a ConversationId,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pending: bool,
}

/// The change a conversation document was last written with: what a reader
/// of its pending event needs (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The event's number.
    pub seq: u64,
    /// The event's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's time.
    pub at: Timestamp,
    /// The event's payload.
    pub data: Value,
}

/// A document changed through [`emit_change`]: it keeps its latest
/// [`Change`] in a field named `last_change` (readers of a pending event
/// read that field of the stored document).
pub trait RecordsChange {
    /// The document's latest change.
    fn last_change(&mut self) -> &mut Option<Change>;
}

/// Only `last_change` of a stored conversation document.
#[derive(Deserialize)]
struct LastChange {
    #[serde(default)]
    last_change: Option<Change>,
}

/// How long readers wait for the document of a pending conversation change
/// before passing it: [`doc::update`]'s worst case (the write lease before
/// the first claim, eight claim generations of a 5 s grace period each, the
/// 2 s lease of the last), with a margin.
pub const CHANGE_HORIZON_MILLIS: i64 = 60_000;

fn too_slow(what: &str) -> Error {
    // Logged, never shown: the answer is a 503 and nothing was committed.
    Error::Store(StoreError(format!(
        "{what}: the write lease of {WRITE_LEASE_MILLIS} ms ran out; gave up"
    )))
}

/// Appends a message to `messages` (the conversation's message log) together
/// with its `message.created` event and the audit entry `audit`.
/// `make(m, n, at)` builds the stored message for number `m`, event `n` and
/// time `at`, and the event's data (the message as the message log shows
/// it). Returns the event's number.
///
/// Writes: three increments (the event, message and audit numbers), then
/// one batch ([`KeyValue::set_many`], all or none) of the full event, the
/// message, the conversation's latest activity and the audit entry. The
/// batch is the commit point: a writer that dies before it leaves only
/// numbers, which readers pass after the grace period.
pub(crate) fn emit_message<M: Serialize>(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    conversation: &ConversationId,
    messages: &Log<'_>,
    audit: audit::Line<'_>,
    make: impl FnOnce(u64, u64, Timestamp) -> Result<(M, Value)>,
) -> Result<u64> {
    let events = log(kv, account);
    let n = events.reserve()?;
    let m = match messages.reserve() {
        Ok(m) => m,
        Err(e) => {
            events.tombstone(n);
            return Err(e);
        }
    };
    let entry = match audit::reserve(kv, account, audit) {
        Ok(entry) => entry,
        Err(e) => {
            events.tombstone(n);
            messages.tombstone(m);
            return Err(e);
        }
    };
    // Read after every number is taken: no entry is older than its number.
    let at = clock.now();
    let committed = (|| {
        let (stored, data) = make(m, n, at)?;
        let event = Event {
            seq: n,
            kind: MESSAGE_CREATED.to_string(),
            at,
            conversation_id: Some(conversation.clone()),
            data,
        };
        let batch = [
            events.encode(
                n,
                &Stored {
                    v: 1,
                    event: &event,
                },
            )?,
            messages.encode(m, &stored)?,
            latest_activity(account, conversation, n, at)?,
            entry.encode(at)?,
        ];
        if clock.now() > at.plus_millis(WRITE_LEASE_MILLIS) {
            return Err(too_slow("posting a message"));
        }
        Ok(kv.set_many(&batch)?)
    })();
    match committed {
        Ok(()) => {
            entry.written();
            Ok(n)
        }
        Err(e) => {
            // Let readers pass the numbers now rather than after the grace
            // period (the audit number goes when `entry` is dropped).
            events.tombstone(n);
            messages.tombstone(m);
            Err(e)
        }
    }
}

/// Records one change of `conversation`'s document (at
/// `keys::conversation`) as an event of type `kind`.
///
/// `change(current, at)` computes the new document and the event's data
/// from the current one, or `None` when there is nothing to do (a
/// concurrent request did it first): then the number is tombstoned and
/// `Ok(None)` returned. It may run several times (see [`doc::update`]) and
/// must have no effects of its own.
///
/// Writes: the increment, the pending event, the document (its claim and
/// value), then one batch of the full event and the activity.
pub fn emit_change<D>(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    conversation: &ConversationId,
    kind: &str,
    mut change: impl FnMut(Option<D>, Timestamp) -> Result<Option<(D, Value)>>,
) -> Result<Option<Event>>
where
    D: Serialize + DeserializeOwned + RecordsChange,
{
    let log = log(kv, account);
    let n = log.reserve()?;
    let at = clock.now();
    let reference = Reference {
        v: 1,
        seq: n,
        kind,
        at,
        conversation_id: conversation,
        message: None,
        pending: true,
    };
    log.put(n, &reference)?;
    let key = keys::conversation(account, conversation);
    let written = doc::update(kv, &key, |current: Option<D>| {
        if clock.now() > at.plus_millis(WRITE_LEASE_MILLIS) {
            return Err(too_slow("changing a conversation"));
        }
        let Some((mut next, data)) = change(current, at)? else {
            return Ok(Step::Keep(None));
        };
        if let Some(previous) = next.last_change().take() {
            finish_pending(&log, conversation, &previous)?;
        }
        *next.last_change() = Some(Change {
            seq: n,
            kind: kind.to_string(),
            at,
            data: data.clone(),
        });
        Ok(Step::Write(next, Some(data)))
    });
    let data = match written {
        Ok(Some(data)) => data,
        Ok(None) => {
            log.tombstone(n);
            return Ok(None);
        }
        // A store failure may have come after the document was written: the
        // pending entry stays, and readers find out from the document.
        Err(e @ Error::Store(_)) => return Err(e),
        Err(e) => {
            log.tombstone(n);
            return Err(e);
        }
    };
    let event = Event {
        seq: n,
        kind: kind.to_string(),
        at,
        conversation_id: Some(conversation.clone()),
        data,
    };
    // Committed already: if this write fails, readers resolve the pending
    // entry from the document (and the feed takes this event for the
    // latest), so it is not an error of the request.
    let batch = log
        .encode(
            n,
            &Stored {
                v: 1,
                event: &event,
            },
        )
        .and_then(|full| Ok([full, latest_activity(account, conversation, n, at)?]));
    if let Err(e) = batch.and_then(|batch| Ok(kv.set_many(&batch)?)) {
        eprintln!("warning: writing event {n} ({kind}) failed: {e}");
    }
    Ok(Some(event))
}

/// Makes sure the event of `change`, which a document is about to forget,
/// is in the log for good: writes it in full if it is still pending (its
/// writer died after writing the document). One read otherwise.
fn finish_pending(log: &Log<'_>, conversation: &ConversationId, change: &Change) -> Result<()> {
    let Some(Some(value)) = log.entry(change.seq)? else {
        return Ok(());
    };
    if value.get("pending") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    let event = Event {
        seq: change.seq,
        kind: change.kind.clone(),
        at: change.at,
        conversation_id: Some(conversation.clone()),
        data: change.data.clone(),
    };
    log.overwrite(
        change.seq,
        &Stored {
            v: 1,
            event: &event,
        },
    )
}

/// What event entry `entry` shows (see the module docs).
fn resolve(
    kv: &dyn KeyValue,
    account: &AccountId,
    log: &Log<'_>,
    entry: Entry,
) -> Result<Found<Event>> {
    if let (Some(m), Some(conversation)) = (entry.message, &entry.conversation_id) {
        return Ok(match messages::committed(kv, account, conversation, m)? {
            Some(Some(data)) => Found::Item(entry.into_event(data)),
            Some(None) => Found::Skip, // the message was given up
            None => Found::NotYet,
        });
    }
    if !entry.pending {
        return Ok(Found::Item(entry.into_full()));
    }
    if let Some(conversation) = &entry.conversation_id {
        let key = keys::conversation(account, conversation);
        let latest = doc::read_shared::<LastChange>(kv, &key)?.and_then(|d| d.last_change);
        if let Some(change) = latest.filter(|c| c.seq == entry.seq) {
            return Ok(Found::Item(entry.into_event(change.data)));
        }
    }
    // Not the document's latest change: either not written (yet), or the
    // document moved on, which it does only after the event was written in
    // full. Read the entry again to tell which.
    Ok(match log.entry(entry.seq)? {
        Some(Some(value)) if value.get("pending") != Some(&Value::Bool(true)) => {
            let full: Entry = serde_json::from_value(value)
                .map_err(|e| Error::Corrupt(format!("event {}: {e}", entry.seq)))?;
            Found::Item(full.into_full())
        }
        Some(None) => Found::Skip,
        _ => Found::NotYetWithin(CHANGE_HORIZON_MILLIS),
    })
}

/// Up to `limit` events after `after` as readers see them, each passed
/// through `map` (which may drop it); the position moves past dropped ones.
pub fn scan<U>(
    kv: &dyn KeyValue,
    account: &AccountId,
    after: u64,
    limit: usize,
    now: Timestamp,
    mut map: impl FnMut(Event) -> Result<Option<U>>,
) -> Result<Scan<U>> {
    let log = log(kv, account);
    log.scan_resolve(after, limit, now, |entry: Entry| {
        Ok(match resolve(kv, account, &log, entry)? {
            Found::Item(event) => map(event)?.map_or(Found::Skip, Found::Item),
            Found::Skip => Found::Skip,
            Found::NotYet => Found::NotYet,
            Found::NotYetWithin(millis) => Found::NotYetWithin(millis),
        })
    })
}

/// The key and value that record event `n` as `conversation`'s latest
/// activity, for the batch that writes the event.
fn latest_activity(
    account: &AccountId,
    conversation: &ConversationId,
    n: u64,
    at: Timestamp,
) -> Result<(String, Vec<u8>)> {
    let activity = Activity { v: 1, event: n, at };
    let bytes = serde_json::to_vec(&activity).map_err(|e| Error::Corrupt(e.to_string()))?;
    Ok((keys::conversation_activity(account, conversation), bytes))
}

/// A conversation's latest event, if it has one.
pub fn activity(
    kv: &dyn KeyValue,
    account: &AccountId,
    conversation: &ConversationId,
) -> Result<Option<Activity>> {
    let Some(bytes) = kv.get(&keys::conversation_activity(account, conversation))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Corrupt(format!("activity of {conversation}: {e}")))
}

/// A page of events after `cursor`; with `wait_millis > 0` it long-polls
/// until one arrives ([`longpoll::poll`]).
pub fn page(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    query: &longpoll::Query,
    wait: longpoll::Wait<'_>,
) -> Result<Page<Event>> {
    let after = decode_seq_cursor(CURSOR_KIND, query.cursor.as_deref())?;
    let probe = log(kv, account);
    let (items, position) = longpoll::poll(
        clock,
        after,
        query.wait_millis,
        |after| {
            let scan = scan(kv, account, after, query.limit, clock.now(), |e| {
                Ok(Some(e))
            })?;
            Ok((scan.items, scan.position))
        },
        probe.next_after(),
        longpoll::claim_slot(kv, clock, account, wait.limits),
        wait.sleep,
    )?;
    Ok(Page {
        items,
        next_cursor: encode_cursor(CURSOR_KIND, &position.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::ids::MessageId;
    use crate::base::time::ManualClock;
    use crate::chat::messages::{self, Author, Message};
    use crate::storage::seqlog::GRACE_MILLIS;
    use crate::storage::store::{MemoryStore, StoreResult};
    use crate::testing::World;
    use serde_json::json;
    use std::cell::Cell;

    fn setup() -> (MemoryStore, ManualClock, AccountId, ConversationId) {
        let (kv, clock, account) = World::new().parts();
        (kv, clock, account, ConversationId::generate())
    }

    /// A conversation-like document for [`emit_change`].
    #[derive(Serialize, Deserialize)]
    struct Doc {
        status: String,
        #[serde(default)]
        last_change: Option<Change>,
    }

    impl RecordsChange for Doc {
        fn last_change(&mut self) -> &mut Option<Change> {
            &mut self.last_change
        }
    }

    /// Sets the document's status (creating it), one event of type `status`.
    fn set(
        kv: &dyn KeyValue,
        clock: &dyn Clock,
        account: &AccountId,
        conv: &ConversationId,
        status: &str,
    ) -> Result<Option<Event>> {
        emit_change(
            kv,
            clock,
            account,
            conv,
            status,
            |current: Option<Doc>, _| {
                if current.as_ref().is_some_and(|d| d.status == status) {
                    return Ok(None);
                }
                let last_change = current.and_then(|d| d.last_change);
                let doc = Doc {
                    status: status.to_string(),
                    last_change,
                };
                Ok(Some((doc, json!({"status": status}))))
            },
        )
    }

    fn status(kv: &MemoryStore, account: &AccountId, conv: &ConversationId) -> Option<String> {
        doc::read_shared::<Doc>(kv, &keys::conversation(account, conv))
            .unwrap()
            .map(|d| d.status)
    }

    fn all_events(kv: &MemoryStore, clock: &ManualClock, account: &AccountId) -> Vec<Event> {
        page(
            kv,
            clock,
            account,
            &longpoll::Query::first(500),
            longpoll::NO_SLEEP,
        )
        .unwrap()
        .items
    }

    fn all_messages(
        kv: &MemoryStore,
        clock: &ManualClock,
        account: &AccountId,
        conv: &ConversationId,
    ) -> Vec<Message> {
        let query = longpoll::Query::first(500);
        messages::page(kv, clock, account, conv, &query, longpoll::NO_SLEEP)
            .unwrap()
            .items
    }

    fn post(
        kv: &dyn KeyValue,
        clock: &dyn Clock,
        account: &AccountId,
        conv: &ConversationId,
        text: &str,
    ) -> Result<Message> {
        let author = Author::visitor(&"visitor");
        let actor = crate::api::auth::Actor::Visitor("visitor".into());
        let line = audit::Line {
            actor: &actor,
            action: audit::Action::MessageCreated,
            target: format!("conversation:{conv}"),
        };
        messages::append(kv, clock, account, conv, author, text, line)
    }

    /// The store as a process sees it that is killed right after its
    /// `budget`th write: that write lands, nothing after it does.
    struct Killed<'a> {
        inner: &'a MemoryStore,
        budget: Cell<u64>,
        dead: Cell<bool>,
    }

    impl<'a> Killed<'a> {
        fn after(inner: &'a MemoryStore, writes: u64) -> Self {
            Killed {
                inner,
                budget: Cell::new(writes),
                dead: Cell::new(writes == 0),
            }
        }

        fn alive(&self) -> StoreResult<()> {
            match self.dead.get() {
                true => Err(StoreError("killed".into())),
                false => Ok(()),
            }
        }

        fn wrote(&self) {
            self.budget.set(self.budget.get() - 1);
            self.dead.set(self.budget.get() == 0);
        }
    }

    impl KeyValue for Killed<'_> {
        fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
            self.alive()?;
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> StoreResult<()> {
            self.alive()?;
            self.wrote();
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> StoreResult<()> {
            self.alive()?;
            self.wrote();
            self.inner.delete(key)
        }
        fn exists(&self, key: &str) -> StoreResult<bool> {
            self.alive()?;
            self.inner.exists(key)
        }
        fn increment(&self, key: &str, delta: i64) -> StoreResult<i64> {
            self.alive()?;
            if delta != 0 {
                self.wrote();
            }
            self.inner.increment(key, delta)
        }
        fn set_many(&self, entries: &[(String, Vec<u8>)]) -> StoreResult<()> {
            // One write, all or none, as on Spin's SQLite and Redis.
            self.alive()?;
            self.wrote();
            self.inner.set_many(entries)
        }
    }

    fn message_ids_in_events(events: &[Event]) -> Vec<MessageId> {
        events
            .iter()
            .filter(|e| e.kind == MESSAGE_CREATED)
            .map(|e| {
                serde_json::from_value::<Message>(e.data.clone())
                    .unwrap()
                    .id
            })
            .collect()
    }

    #[test]
    fn a_message_is_in_both_logs_or_neither_whatever_write_a_crash_follows() {
        let mut crash_points = 0;
        for writes in 0.. {
            let (kv, clock, account, conv) = setup();
            post(&kv, &clock, &account, &conv, "before").unwrap();
            let killed = Killed::after(&kv, writes);
            let posted = post(&killed, &clock, &account, &conv, "crash");
            if !killed.dead.get() {
                assert!(posted.is_ok(), "{posted:?}");
                assert!(crash_points >= 4, "too few writes: {crash_points}");
                break;
            }
            crash_points += 1;
            // A later message proves any gap old once the grace period passed.
            clock.advance(1);
            post(&kv, &clock, &account, &conv, "after").unwrap();
            clock.advance(GRACE_MILLIS + 1);
            let listed: Vec<MessageId> = all_messages(&kv, &clock, &account, &conv)
                .into_iter()
                .map(|m| m.id)
                .collect();
            let evented = message_ids_in_events(&all_events(&kv, &clock, &account));
            assert_eq!(listed, evented, "crash after write {writes}");
            assert!(listed.len() >= 2, "crash after write {writes}: {listed:?}");
            if let Ok(message) = posted {
                assert!(listed.contains(&message.id), "acknowledged but lost");
            }
        }
    }

    #[test]
    fn a_reader_waits_for_a_message_whose_event_is_written_and_shows_both() {
        let (kv, clock, account, conv) = setup();
        // Killed right after the event reference (3rd write): within the
        // grace period both readers stop there, past it both pass it.
        let killed = Killed::after(&kv, 3);
        assert!(post(&killed, &clock, &account, &conv, "lost").is_err());
        post(&kv, &clock, &account, &conv, "later").unwrap();
        assert!(all_events(&kv, &clock, &account).is_empty());
        assert!(all_messages(&kv, &clock, &account, &conv).is_empty());
        clock.advance(GRACE_MILLIS + 1);
        let events = all_events(&kv, &clock, &account);
        let messages = all_messages(&kv, &clock, &account, &conv);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].text, "later");
        assert_eq!(message_ids_in_events(&events), [messages[0].id.clone()]);
    }

    #[test]
    fn a_slow_writer_gives_up_before_readers_pass_its_message() {
        /// A clock that jumps past the write lease after the numbers are taken.
        struct Stalling<'a>(&'a ManualClock, Cell<u32>);
        impl Clock for Stalling<'_> {
            fn now(&self) -> Timestamp {
                self.1.set(self.1.get() + 1);
                if self.1.get() == 2 {
                    self.0.advance(WRITE_LEASE_MILLIS + 1);
                }
                self.0.now()
            }
        }
        let (kv, clock, account, conv) = setup();
        let stalling = Stalling(&clock, Cell::new(0));
        assert!(post(&kv, &stalling, &account, &conv, "too late").is_err());
        post(&kv, &clock, &account, &conv, "next").unwrap();
        let texts: Vec<String> = all_messages(&kv, &clock, &account, &conv)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["next"], "the given-up message is passed at once");
        assert_eq!(
            message_ids_in_events(&all_events(&kv, &clock, &account)).len(),
            1
        );
    }

    #[test]
    fn a_state_change_is_in_the_log_iff_the_document_has_it_whatever_write_a_crash_follows() {
        let mut crash_points = 0;
        for writes in 0.. {
            let (kv, clock, account, conv) = setup();
            set(&kv, &clock, &account, &conv, "open").unwrap();
            let killed = Killed::after(&kv, writes);
            let changed = set(&killed, &clock, &account, &conv, "closed");
            if !killed.dead.get() {
                assert!(changed.unwrap().is_some());
                assert!(crash_points >= 4, "too few writes: {crash_points}");
                break;
            }
            crash_points += 1;
            let closed = status(&kv, &account, &conv).as_deref() == Some("closed");
            assert!(
                !(changed.is_ok() && !closed),
                "acknowledged but not written"
            );
            let kinds = |kv: &MemoryStore| -> Vec<String> {
                all_events(kv, &clock, &account)
                    .into_iter()
                    .map(|e| e.kind)
                    .collect()
            };
            clock.advance(CHANGE_HORIZON_MILLIS + 1);
            let expected: &[&str] = if closed {
                &["open", "closed"]
            } else {
                &["open"]
            };
            assert_eq!(kinds(&kv), expected, "crash after write {writes}");
            // A later change moves the document on: what it had stays listed.
            let next = if closed { "open" } else { "closed" };
            set(&kv, &clock, &account, &conv, next).unwrap();
            clock.advance(GRACE_MILLIS + 1);
            let mut expected = expected.to_vec();
            expected.push(next);
            assert_eq!(
                kinds(&kv),
                expected,
                "crash after write {writes}, then {next}"
            );
        }
    }

    #[test]
    fn a_pending_change_is_waited_for_as_long_as_its_document_update_may_take() {
        let (kv, clock, account, conv) = setup();
        set(&kv, &clock, &account, &conv, "open").unwrap();
        // Killed right after the reference: the document may still be written
        // by a writer waiting out a dead claim, so readers wait past the grace.
        let killed = Killed::after(&kv, 2);
        assert!(set(&killed, &clock, &account, &conv, "closed").is_err());
        let other = ConversationId::generate();
        set(&kv, &clock, &account, &other, "open").unwrap();
        clock.advance(GRACE_MILLIS + 1);
        let kinds: Vec<u64> = all_events(&kv, &clock, &account)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(kinds, [1], "the reader stops before the pending change");
        clock.advance(CHANGE_HORIZON_MILLIS);
        let kinds: Vec<u64> = all_events(&kv, &clock, &account)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(kinds, [1, 3], "past the horizon it is passed");
    }

    #[test]
    fn a_pending_change_shows_with_its_data_once_the_document_is_written() {
        let (kv, clock, account, conv) = setup();
        // Killed right after the document write (the increment, the
        // reference, the claim, the document): the event is still pending.
        let killed = Killed::after(&kv, 4);
        let _ = set(&killed, &clock, &account, &conv, "open");
        let pending = log(&kv, &account).entry(1).unwrap().unwrap().unwrap();
        assert_eq!(pending["pending"], true);
        assert_eq!(status(&kv, &account, &conv).as_deref(), Some("open"));
        let events = all_events(&kv, &clock, &account);
        assert_eq!(events.len(), 1, "shown at once, not after the grace period");
        assert_eq!(events[0].data, json!({"status": "open"}));
    }

    #[test]
    fn emitted_changes_are_numbered_and_raise_the_activity() {
        let (kv, clock, account, conv) = setup();
        for status in ["open", "closed", "open"] {
            set(&kv, &clock, &account, &conv, status).unwrap();
        }
        let seqs: Vec<u64> = all_events(&kv, &clock, &account)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(activity(&kv, &account, &conv).unwrap().unwrap().event, 3);
    }

    #[test]
    fn a_failed_or_empty_change_leaves_a_tombstone_not_an_event() {
        let (kv, clock, account, conv) = setup();
        let failed = emit_change(&kv, &clock, &account, &conv, "x", |_: Option<Doc>, _| {
            Err(Error::NotFound("x".into()))
        });
        assert!(failed.is_err());
        set(&kv, &clock, &account, &conv, "open").unwrap();
        assert_eq!(set(&kv, &clock, &account, &conv, "open"), Ok(None));
        let events = all_events(&kv, &clock, &account);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].seq, 2);
        assert_eq!(activity(&kv, &account, &conv).unwrap().unwrap().event, 2);
        let page = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query::first(10),
            longpoll::NO_SLEEP,
        );
        assert_eq!(page.unwrap().next_cursor, encode_cursor(CURSOR_KIND, "3"));
    }

    #[test]
    fn a_message_its_event_and_its_audit_entry_are_one_write() {
        let (kv, clock, account, conv) = setup();
        let before = kv.len();
        post(&kv, &clock, &account, &conv, "hello").unwrap();
        // Three counters (event, message, audit numbers) and one batch of
        // four: the event, the message, the activity, the audit entry.
        assert_eq!(kv.len() - before, 7, "{:?}", kv.keys());
        for budget in 1..=3 {
            let (kv, clock, account, conv) = setup();
            let killed = Killed {
                inner: &kv,
                budget: Cell::new(budget),
                dead: Cell::new(false),
            };
            assert!(post(&killed, &clock, &account, &conv, "lost").is_err());
            clock.advance(GRACE_MILLIS + 1);
            assert!(all_events(&kv, &clock, &account).is_empty());
            assert!(all_messages(&kv, &clock, &account, &conv).is_empty());
        }
    }

    #[test]
    fn an_idle_long_poll_keeps_its_cursor() {
        let (kv, clock, account, conv) = setup();
        post(&kv, &clock, &account, &conv, "hello").unwrap();
        let first = page(
            &kv,
            &clock,
            &account,
            &longpoll::Query::first(10),
            longpoll::NO_SLEEP,
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
            longpoll::Wait {
                sleep: &|millis| clock.advance(millis as i64),
                limits: longpoll::NO_SLEEP.limits,
            },
        )
        .unwrap();
        assert!(idle.items.is_empty());
        assert_eq!(idle.next_cursor, first.next_cursor);
    }
}
