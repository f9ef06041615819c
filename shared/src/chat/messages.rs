//! Messages: `{id, seq, conversation_id, author: {type, id, name?}, text,
//! created_at}`, one log per conversation. An agent's message carries the
//! agent's display name as it was when it was posted (the widget shows it).
//!
//! `seq` comes from the conversation's own atomic sequence
//! (`acct:<a>:conv:<c>:msg-seq`), one key per message; order is by `seq`,
//! never by clock, and concurrent posts from any number of hosts get
//! distinct, gap-free numbers. A message is posted through
//! [`events::emit_message`]: its `message.created` event (whose `data` is the
//! message) is written first, as a reference to the message's number, and
//! the message itself is the commit point, so every reader of either log
//! shows both or neither, whichever write a crash falls after. The stored
//! message records its event's number. Posting never rewrites the
//! conversation document, so a busy conversation has no write hot spot
//! besides its two counters.

use crate::api::audit;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId, ConversationId, MessageId};
use crate::base::input::{Errors, Object};
use crate::base::paging::Page;
use crate::base::time::{Clock, Timestamp};
use crate::chat::events;
use crate::chat::longpoll;
use crate::storage::keys;
use crate::storage::seqlog::Log;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Default page of a message list.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page of a message list.
pub const MAX_PAGE: usize = 500;
const CURSOR_KIND: &str = "messages";

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorType {
    /// The website visitor (the conversation's customer).
    Visitor,
    /// An agent of the business.
    Agent,
    /// edgechat itself.
    System,
}

/// A message's author: `{type, id, name?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Visitor, agent or system.
    #[serde(rename = "type")]
    pub kind: AuthorType,
    /// The customer id, agent id, or `edgechat`.
    pub id: String,
    /// An agent's display name when it wrote (absent on visitor messages
    /// and on agent messages stored before names were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Author {
    /// The visitor with this customer id.
    pub fn visitor(id: &impl ToString) -> Self {
        Author {
            kind: AuthorType::Visitor,
            id: id.to_string(),
            name: None,
        }
    }

    /// An agent, with its display name.
    pub fn agent(id: &AgentId, name: &str) -> Self {
        Author {
            kind: AuthorType::Agent,
            id: id.to_string(),
            name: Some(name.to_string()),
        }
    }
}

/// One message, as stored (with `v`) and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its number in the conversation: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Who wrote it.
    pub author: Author,
    /// What they wrote (1–4,000 characters).
    pub text: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

#[derive(Serialize)]
struct Stored<'a> {
    v: u32,
    /// The number of its `message.created` event.
    event: u64,
    #[serde(flatten)]
    message: &'a Message,
}

fn log<'a>(
    kv: &'a dyn KeyValue,
    account: &'a AccountId,
    conversation: &'a ConversationId,
) -> Log<'a> {
    Log::new(kv, keys::message_seq(account, conversation), move |n| {
        keys::message(account, conversation, n)
    })
    .with_time_field("created_at")
}

/// Reads a message text field: a string of 1 to [`MAX_TEXT_CHARS`]
/// characters, not only whitespace (surrounding whitespace is trimmed).
pub fn text_field(object: &Object<'_>, name: &str, errors: &mut Errors) -> Option<String> {
    object.required_str(name, MAX_TEXT_CHARS, errors)
}

/// Reads a visitor message body `{text}`.
pub fn parse_visitor(body: &Value) -> Result<String> {
    let mut errors = Errors::new();
    let text = Object::new(body, "", &mut errors).and_then(|o| text_field(&o, "text", &mut errors));
    errors.finish_with(text)
}

/// Reads an agent reply body `{agent_id, text}`.
pub fn parse_reply(body: &Value) -> Result<(AgentId, String)> {
    let mut errors = Errors::new();
    let reply = Object::new(body, "", &mut errors).and_then(|object| {
        let agent = object.required_parsed(
            "agent_id",
            "is required: the id of the agent who writes",
            AgentId::parse,
            &mut errors,
        );
        let text = text_field(&object, "text", &mut errors);
        Some((agent?, text?))
    });
    errors.finish_with(reply)
}

/// Appends a message to a conversation and records `message.created`. The
/// caller has checked that the conversation exists and who may write.
pub(crate) fn append(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    conversation: &ConversationId,
    author: Author,
    text: &str,
    audit: audit::Line<'_>,
) -> Result<Message> {
    let mut posted = None;
    let log = log(kv, account, conversation);
    events::emit_message(
        kv,
        clock,
        account,
        conversation,
        &log,
        audit,
        |seq, event, at| {
            let message = Message {
                id: MessageId::generate(),
                seq,
                conversation_id: conversation.clone(),
                author,
                text: text.to_string(),
                created_at: at,
            };
            let stored = serde_json::to_value(Stored {
                v: 1,
                event,
                message: &message,
            })
            .map_err(|e| Error::Corrupt(e.to_string()))?;
            let data = serde_json::to_value(&message).map_err(|e| Error::Corrupt(e.to_string()))?;
            posted = Some(message);
            Ok((stored, data))
        },
    )?;
    posted.ok_or_else(|| Error::Corrupt("a posted message went missing".into()))
}

/// Message `seq` of a conversation as its event's data, for readers of the
/// event log: `None` while it is not written, `Some(None)` if it was given
/// up (tombstoned).
pub(crate) fn committed(
    kv: &dyn KeyValue,
    account: &AccountId,
    conversation: &ConversationId,
    seq: u64,
) -> Result<Option<Option<Value>>> {
    let Some(entry) = log(kv, account, conversation).entry(seq)? else {
        return Ok(None);
    };
    let Some(value) = entry else {
        return Ok(Some(None));
    };
    // Through `Message`, so the data has exactly the message's shape.
    let message: Message = serde_json::from_value(value)
        .map_err(|e| Error::Corrupt(format!("message {seq} of {conversation}: {e}")))?;
    let data = serde_json::to_value(&message).map_err(|e| Error::Corrupt(e.to_string()))?;
    Ok(Some(Some(data)))
}

/// A page of a conversation's messages after the query's cursor, by `seq`;
/// with a wait it long-polls until one arrives.
pub(crate) fn page(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    conversation: &ConversationId,
    query: &longpoll::Query,
    wait: longpoll::Wait<'_>,
) -> Result<Page<Message>> {
    let log = log(kv, account, conversation);
    longpoll::page_of_log(&log, kv, clock, account, CURSOR_KIND, query, wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_must_be_one_to_four_thousand_characters() {
        assert_eq!(parse_visitor(&json!({"text": " hi "})), Ok("hi".into()));
        assert!(parse_visitor(&json!({"text": "ä".repeat(4_000)})).is_ok());
        for bad in [
            json!({"text": ""}),
            json!({"text": "   "}),
            json!({"text": "x".repeat(4_001)}),
            json!({"text": 5}),
            json!({}),
        ] {
            let Err(Error::Invalid(errors)) = parse_visitor(&bad) else {
                panic!("{bad} should be invalid");
            };
            assert_eq!(errors[0].field, "text");
        }
    }

    #[test]
    fn a_reply_names_its_agent() {
        let (agent, text) = parse_reply(&json!({"agent_id": "alice", "text": "Hello"})).unwrap();
        assert_eq!((agent.as_str(), text.as_str()), ("alice", "Hello"));
        let Err(Error::Invalid(errors)) = parse_reply(&json!({"text": ""})) else {
            panic!("expected invalid");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agent_id", "text"]);
    }
}
