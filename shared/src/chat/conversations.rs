//! Conversations: a visitor starts one from the widget, the business polls
//! for them, routes them, answers and closes them.
//!
//! Storage: the conversation document (`acct:<a>:conv:<c>`: customer,
//! status, assignee) changes only on the rare transitions — created,
//! assigned, closed, reopened — as a shared document (`doc::update`); messages live in
//! their own log ([`crate::chat::messages`]), and every change is one event of
//! the account's log ([`crate::chat::events`]), which also raises the
//! conversation's latest activity.
//!
//! **The change feed** (`GET /api/v1/conversations`) is the event log read
//! as conversations: each event of a conversation is one of its changes, in
//! the order they happened; an event is skipped when the conversation has a
//! later event (that later event is still ahead of the reader and shows the
//! conversation then), and the item is the conversation as it is now. So a
//! page costs O(events read), whatever the number of conversations; the
//! cursor is the event position (never skips, never repeats an event), and
//! a conversation shows up again only when it changed again.
//!
//! Decisions:
//! - A chat is started with a visitor id minted for the site
//!   ([`visitors::verify_id`]). Its customer is the tagged customer the
//!   visitor proved to be (a verified identify), else the visitor's own
//!   record (the visitor id is its customer id; starting a chat creates it
//!   untagged, and `PUT /api/v1/customers/{id}` can tag it). An unverified
//!   identify is only shown, as `identity` with `verified: false`.
//! - A visitor message reopens a closed conversation (`conversation.reopened`
//!   before its `message.created`); agent replies do not, they are simply
//!   added (the business may answer a closed chat without reopening it).
//! - Closing a closed conversation, or assigning the agent already assigned,
//!   changes nothing and records no event (the answer is the conversation).
//! - Auto-routing ([`crate::chat::routing`]) runs when a conversation is started.

use crate::api::accounts;
use crate::api::agents;
use crate::api::audit;
use crate::api::auth::{Actor, Caller};
use crate::api::customers;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId, ConversationId, CustomerId, SiteKey};
use crate::base::input::{Errors, Object};
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::chat::events::{
    self, Activity, CONVERSATION_ASSIGNED, CONVERSATION_CLOSED, CONVERSATION_CREATED,
    CONVERSATION_REOPENED,
};
use crate::chat::longpoll;
use crate::chat::messages::{self, Author, Message};
use crate::chat::routing;
use crate::chat::visitors::{self, Visitor};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use crate::widget::identity::{self, Identity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Default page of the change feed.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page of the change feed.
pub const MAX_PAGE: usize = 200;
const FEED_CURSOR: &str = "conversations";

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for or in a chat.
    Open,
    /// Done; a visitor message reopens it.
    Closed,
}

impl Status {
    /// Reads `?status=`.
    pub fn parse_filter(param: Option<&str>) -> Result<Option<Status>> {
        match param {
            None | Some("") => Ok(None),
            Some("open") => Ok(Some(Status::Open)),
            Some("closed") => Ok(Some(Status::Closed)),
            Some(_) => Err(Error::field("status", "must be \"open\" or \"closed\"")),
        }
    }
}

/// A conversation document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The customer: the tagged customer the visitor proved to be, or the
    /// visitor's own record.
    pub customer_id: CustomerId,
    /// The visitor id of the browser that started it (its visitor token
    /// names it). Absent on conversations stored before visitor ids.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub visitor_id: Option<CustomerId>,
    /// What the page said about the visitor when the chat started, if it
    /// identified it; `verified: false` marks a hint nobody checked.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identity: Option<Identity>,
    /// Open or closed.
    pub status: Status,
    /// The agent it is routed to, if any.
    pub assignee_id: Option<AgentId>,
    /// When the visitor started it.
    pub created_at: Timestamp,
    /// When it was last closed (kept when reopened).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub closed_at: Option<Timestamp>,
}

impl Conversation {
    /// Whether the browser with this visitor id started it.
    pub fn started_by(&self, visitor: &CustomerId) -> bool {
        // Before visitor ids, the visitor id was the customer id.
        self.visitor_id.as_ref().unwrap_or(&self.customer_id) == visitor
    }
}

// Not flattened: a flattened `Deserialize` costs tens of KB of wasm.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    conversation: Conversation,
    /// The change this version was written with: its event is committed by
    /// this document (see [`events::emit_change`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_change: Option<events::Change>,
}

impl events::RecordsChange for Stored {
    fn last_change(&mut self) -> &mut Option<events::Change> {
        &mut self.last_change
    }
}

/// A conversation as the API shows it: the document plus its latest change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// The document.
    #[serde(flatten)]
    pub conversation: Conversation,
    /// When it last changed (any event, messages included).
    pub updated_at: Timestamp,
    /// The `seq` of its latest event.
    pub last_event_seq: u64,
}

/// What a visitor sends to start a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartInput {
    /// The site's public key (names the account).
    pub site: SiteKey,
    /// The visitor id as sent; verified against the site in [`start`].
    pub visitor: String,
    /// A first message, if any.
    pub text: Option<String>,
}

/// The answer to starting a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    /// The new conversation.
    pub conversation_id: ConversationId,
    /// The visitor's customer record.
    pub customer_id: CustomerId,
    /// The token for the visitor's further requests.
    pub visitor_token: String,
    /// When the token expires.
    pub visitor_token_expires_at: Timestamp,
}

/// Reads `POST /v1/widget/conversations {site, visitor, text?}`.
pub fn parse_start(body: &Value) -> Result<StartInput> {
    let mut errors = Errors::new();
    let input = Object::new(body, "", &mut errors).and_then(|object| {
        let site = object.required_parsed(
            "site",
            "is required: the site key of the widget",
            SiteKey::parse,
            &mut errors,
        );
        let visitor = object.required_str("visitor", 128, &mut errors);
        let text = match object.get("text") {
            None => Some(None),
            Some(_) => messages::text_field(&object, "text", &mut errors).map(Some),
        };
        Some(StartInput {
            site: site?,
            visitor: visitor?,
            text: text?,
        })
    });
    errors.finish_with(input)
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("there is no conversation {id:?}"))
}

fn read(
    kv: &dyn KeyValue,
    account: &AccountId,
    id: &ConversationId,
) -> Result<Option<Conversation>> {
    Ok(doc::read_shared::<Stored>(kv, &keys::conversation(account, id))?.map(|s| s.conversation))
}

/// The conversation with path id `id` (404 when unknown or another account's).
fn require(kv: &dyn KeyValue, account: &AccountId, id: &str) -> Result<Conversation> {
    let parsed = ConversationId::parse(id).map_err(|_| not_found(id))?;
    read(kv, account, &parsed)?.ok_or_else(|| not_found(id))
}

fn view(conversation: Conversation, activity: Option<Activity>) -> View {
    View {
        updated_at: activity.map_or(conversation.created_at, |a| a.at),
        last_event_seq: activity.map_or(0, |a| a.event),
        conversation,
    }
}

fn view_of(kv: &dyn KeyValue, account: &AccountId, conversation: Conversation) -> Result<View> {
    let activity = events::activity(kv, account, &conversation.id)?;
    Ok(view(conversation, activity))
}

/// Starts a conversation for a visitor of the site: creates the customer
/// record if needed, the conversation, the first message, routes it, and
/// mints the visitor token (signed with `signing_key`).
pub fn start(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    signing_key: &[u8],
    input: &StartInput,
) -> Result<Started> {
    let account = accounts::require_by_site_key(kv, &input.site)?;
    let visitor = visitors::verify_id(signing_key, &account, &input.visitor)?;
    let actor = Actor::Visitor(visitor.to_string());
    let identity = identity::identity(kv, &account, &visitor)?;
    let customer_id = match identity.as_ref().filter(|i| i.verified) {
        Some(Identity {
            customer_id: Some(tagged),
            ..
        }) => tagged.clone(),
        _ => {
            customers::ensure(kv, clock, &account, &visitor)?;
            visitor.clone()
        }
    };
    let id = ConversationId::generate();
    // Indexed before it exists: a reader skips an id that names nothing.
    index_for_customer(kv, &account, &customer_id, &id)?;
    events::emit_change(
        kv,
        clock,
        &account,
        &id,
        CONVERSATION_CREATED,
        |current, at| {
            if current.is_some() {
                return Err(Error::Conflict("conversation id collision; retry".into()));
            }
            let conversation = Conversation {
                id: id.clone(),
                customer_id: customer_id.clone(),
                visitor_id: Some(visitor.clone()),
                identity: identity.clone(),
                status: Status::Open,
                assignee_id: None,
                created_at: at,
                closed_at: None,
            };
            let data = json!(conversation);
            let stored = Stored {
                v: 1,
                conversation,
                last_change: None,
            };
            Ok(Some((stored, data)))
        },
    )?;
    audit::record(
        kv,
        clock,
        &account,
        &actor,
        audit::Action::ConversationCreated,
        &format!("conversation:{id}"),
    )?;
    if let Some(text) = &input.text {
        messages::append(
            kv,
            clock,
            &account,
            &id,
            Author::visitor(&customer_id),
            text,
            message_audit(&actor, &id),
        )?;
    }
    if let Some(agent) = routing::pick(kv, &account)? {
        assign_to(
            kv,
            clock,
            &account,
            &actor,
            &id,
            &agent,
            "routing:round_robin",
        )?;
    }
    let now = clock.now();
    Ok(Started {
        visitor_token: visitors::mint(signing_key, &account, &visitor, &id, now),
        visitor_token_expires_at: now.plus_millis(visitors::TOKEN_TTL_MILLIS),
        conversation_id: id,
        customer_id,
    })
}

/// The conversation at `path_id` if the visitor token opens it and its
/// browser started it; 404 otherwise, as for one that does not exist.
fn require_visitors(kv: &dyn KeyValue, visitor: &Visitor, path_id: &str) -> Result<Conversation> {
    visitor.conversation(path_id)?;
    let conversation = require(kv, &visitor.account, path_id)?;
    if !conversation.started_by(&visitor.customer) {
        return Err(not_found(path_id));
    }
    Ok(conversation)
}

/// One conversation, as the integration API shows it.
pub fn get(kv: &dyn KeyValue, account: &AccountId, id: &str) -> Result<View> {
    let conversation = require(kv, account, id)?;
    view_of(kv, account, conversation)
}

/// Posts a visitor's message to the conversation its token opens; reopens
/// the conversation first if it was closed.
pub fn post_visitor_message(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    visitor: &Visitor,
    path_id: &str,
    text: &str,
) -> Result<Message> {
    let conversation = require_visitors(kv, visitor, path_id)?;
    let (id, account) = (conversation.id.clone(), &visitor.account);
    let actor = Actor::Visitor(visitor.customer.to_string());
    if conversation.status == Status::Closed {
        reopen(kv, clock, account, &actor, &id)?;
    }
    let message = messages::append(
        kv,
        clock,
        account,
        &id,
        Author::visitor(&conversation.customer_id),
        text,
        message_audit(&actor, &id),
    )?;
    Ok(message)
}

/// The messages of the visitor's conversation after the query's cursor
/// (long-polls with its wait).
pub fn visitor_messages(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    visitor: &Visitor,
    path_id: &str,
    query: &longpoll::Query,
    wait: longpoll::Wait<'_>,
) -> Result<Page<Message>> {
    let conversation = require_visitors(kv, visitor, path_id)?;
    messages::page(kv, clock, &visitor.account, &conversation.id, query, wait)
}

/// The messages of a conversation after the query's cursor, for the
/// integration API.
pub fn messages(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    path_id: &str,
    query: &longpoll::Query,
    wait: longpoll::Wait<'_>,
) -> Result<Page<Message>> {
    let conversation = require(kv, account, path_id)?;
    messages::page(kv, clock, account, &conversation.id, query, wait)
}

/// An agent's reply, through the integration API or the agent page (whose
/// caller is the agent itself): one path, so events, polling and webhooks
/// see both alike.
pub fn reply(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    path_id: &str,
    agent: &AgentId,
    text: &str,
) -> Result<Message> {
    let account = &caller.account;
    let conversation = require(kv, account, path_id)?;
    // The name as it is now travels with the message (the widget shows it).
    let agent = agents::get(kv, account, agent.as_str())?;
    let message = messages::append(
        kv,
        clock,
        account,
        &conversation.id,
        Author::agent(&agent.id, &agent.name),
        text,
        message_audit(&caller.actor, &conversation.id),
    )?;
    Ok(message)
}

/// The audit entry of a message, written with it.
fn message_audit<'a>(actor: &'a Actor, conversation: &ConversationId) -> audit::Line<'a> {
    audit::Line {
        actor,
        action: audit::Action::MessageCreated,
        target: format!("conversation:{conversation}"),
    }
}

/// Routes a conversation to an agent (404 for an unknown agent).
pub fn assign(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    path_id: &str,
    agent: &AgentId,
) -> Result<View> {
    let account = &caller.account;
    let conversation = require(kv, account, path_id)?;
    routing::require_agent(kv, account, agent)?;
    if conversation.assignee_id.as_ref() != Some(agent) {
        let by = caller.actor.to_string();
        assign_to(
            kv,
            clock,
            account,
            &caller.actor,
            &conversation.id,
            agent,
            &by,
        )?;
    }
    get(kv, account, path_id)
}

/// Reads `POST /api/v1/conversations/{id}/assign {agent_id}`.
pub fn parse_assign(body: &Value) -> Result<AgentId> {
    let mut errors = Errors::new();
    let agent = Object::new(body, "", &mut errors).and_then(|object| {
        object.required_parsed(
            "agent_id",
            "is required: the id of the agent to route to",
            AgentId::parse,
            &mut errors,
        )
    });
    errors.finish_with(agent)
}

fn assign_to(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    id: &ConversationId,
    agent: &AgentId,
    by: &str,
) -> Result<()> {
    let emitted = events::emit_change(
        kv,
        clock,
        account,
        id,
        CONVERSATION_ASSIGNED,
        |current, _| {
            let mut stored: Stored = current.ok_or_else(|| not_found(id.as_str()))?;
            let previous = stored.conversation.assignee_id.clone();
            if previous.as_ref() == Some(agent) {
                return Ok(None);
            }
            stored.conversation.assignee_id = Some(agent.clone());
            let data = json!({"agent_id": agent, "previous_agent_id": previous, "by": by});
            Ok(Some((stored, data)))
        },
    )?;
    if emitted.is_some() {
        audit::record(
            kv,
            clock,
            account,
            actor,
            audit::Action::ConversationAssigned,
            &format!("conversation:{id}"),
        )?;
    }
    Ok(())
}

/// Reopens a closed conversation (an open one changes nothing): the agent
/// page's "reopen".
pub fn reopen_closed(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    path_id: &str,
) -> Result<View> {
    let account = &caller.account;
    let conversation = require(kv, account, path_id)?;
    if conversation.status != Status::Open {
        reopen(kv, clock, account, &caller.actor, &conversation.id)?;
    }
    get(kv, account, path_id)
}

/// How many of a customer's latest conversations [`latest_open_of_customer`]
/// looks at.
const CUSTOMER_LOOKBACK: u64 = 20;

fn index_for_customer(
    kv: &dyn KeyValue,
    account: &AccountId,
    customer: &CustomerId,
    id: &ConversationId,
) -> Result<()> {
    let n = kv.increment(&keys::customer_conversation_seq(account, customer), 1)?;
    let n = u64::try_from(n).map_err(|_| Error::Corrupt("negative conversation count".into()))?;
    kv.set(
        &keys::customer_conversation(account, customer, n),
        id.as_str().as_bytes(),
    )?;
    Ok(())
}

/// The customer's most recent open conversation, among its last
/// [`CUSTOMER_LOOKBACK`] (conversations started before this index existed
/// are not found).
pub fn latest_open_of_customer(
    kv: &dyn KeyValue,
    account: &AccountId,
    customer: &CustomerId,
) -> Result<Option<View>> {
    let top = kv.increment(&keys::customer_conversation_seq(account, customer), 0)?;
    let top = u64::try_from(top).unwrap_or_default();
    for n in (top.saturating_sub(CUSTOMER_LOOKBACK - 1).max(1)..=top).rev() {
        let Some(bytes) = kv.get(&keys::customer_conversation(account, customer, n))? else {
            continue;
        };
        let Some(id) = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| ConversationId::parse(text).ok())
        else {
            continue;
        };
        match read(kv, account, &id)? {
            Some(c) if c.status == Status::Open && &c.customer_id == customer => {
                return view_of(kv, account, c).map(Some);
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Closes a conversation (closing a closed one changes nothing).
pub fn close(kv: &dyn KeyValue, clock: &dyn Clock, caller: &Caller, path_id: &str) -> Result<View> {
    let account = &caller.account;
    let conversation = require(kv, account, path_id)?;
    if conversation.status != Status::Closed {
        set_status(
            kv,
            clock,
            account,
            &caller.actor,
            &conversation.id,
            Status::Closed,
        )?;
    }
    get(kv, account, path_id)
}

fn reopen(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    id: &ConversationId,
) -> Result<()> {
    set_status(kv, clock, account, actor, id, Status::Open)
}

fn set_status(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    actor: &Actor,
    id: &ConversationId,
    status: Status,
) -> Result<()> {
    let (kind, action) = match status {
        Status::Closed => (CONVERSATION_CLOSED, audit::Action::ConversationClosed),
        Status::Open => (CONVERSATION_REOPENED, audit::Action::ConversationReopened),
    };
    let by = actor.to_string();
    let emitted = events::emit_change(kv, clock, account, id, kind, |current, at| {
        let mut stored: Stored = current.ok_or_else(|| not_found(id.as_str()))?;
        if stored.conversation.status == status {
            return Ok(None);
        }
        stored.conversation.status = status;
        if status == Status::Closed {
            stored.conversation.closed_at = Some(at);
        }
        Ok(Some((stored, json!({"by": by}))))
    })?;
    if emitted.is_some() {
        audit::record(
            kv,
            clock,
            account,
            actor,
            action,
            &format!("conversation:{id}"),
        )?;
    }
    Ok(())
}

/// The change feed: conversations in the order of their latest change after
/// `cursor`, each once, optionally only those with `status`.
pub fn feed(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    cursor: Option<&str>,
    limit: usize,
    status: Option<Status>,
) -> Result<Page<View>> {
    let after = decode_seq_cursor(FEED_CURSOR, cursor)?;
    let scan = events::scan(kv, account, after, limit, clock.now(), |event| {
        let Some(id) = event.conversation_id else {
            return Ok(None);
        };
        let activity = events::activity(kv, account, &id)?;
        if activity.is_some_and(|a| a.event > event.seq) {
            return Ok(None); // superseded: a later event of it is ahead
        }
        let Some(conversation) = read(kv, account, &id)? else {
            return Ok(None);
        };
        if status.is_some_and(|s| s != conversation.status) {
            return Ok(None);
        }
        // The activity is raised after the event is committed; a crash in
        // between leaves it behind this event, which is then the latest.
        let activity = match activity {
            Some(activity) if activity.event >= event.seq => activity,
            _ => Activity {
                v: 1,
                event: event.seq,
                at: event.at,
            },
        };
        Ok(Some(view(conversation, Some(activity))))
    })?;
    Ok(Page {
        items: scan.items,
        next_cursor: encode_cursor(FEED_CURSOR, &scan.position.to_string()),
    })
}

#[cfg(test)]
mod tests;
