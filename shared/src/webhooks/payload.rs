//! What a delivery's body says: `{"type", "timestamp", "data"}`.
//!
//! `data` carries what a receiver needs without calling back:
//! - conversation and message events: `conversation` (as
//!   `GET /api/v1/conversations/{id}` shows it at the time of the attempt),
//!   `customer` (its tags `{customer_id, id, email, firstname, lastname,
//!   labels}`, or `null` when untagged), and `message` for
//!   `message.created`; the event's own fields (`agent_id`,
//!   `previous_agent_id`, `by`) sit next to them.
//! - `agent.updated`, `customer.updated`: the event's data as
//!   `GET /api/v1/events` shows it.
//! - `webhook.test`: `{webhook_id, message}`.
//!
//! `timestamp` is the event's time; the `webhook-timestamp` header is the
//! attempt's.

use crate::api::customers;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, WebhookId};
use crate::base::time::Timestamp;
use crate::chat::conversations;
use crate::chat::events::{self, Event};
use crate::storage::store::KeyValue;
use crate::webhooks::endpoints::WEBHOOK_TEST;
use serde_json::{Map, Value, json};

/// The body for event `event`.
pub fn for_event(kv: &dyn KeyValue, account: &AccountId, event: &Event) -> Result<Vec<u8>> {
    let data = match &event.conversation_id {
        None => event.data.clone(),
        Some(id) => {
            let mut data = Map::new();
            let conversation = match conversations::get(kv, account, id.as_str()) {
                Ok(view) => Some(view),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let customer = match &conversation {
                Some(view) => tags(kv, account, view.conversation.customer_id.as_str())?,
                None => Value::Null,
            };
            data.insert("conversation".into(), json!(conversation));
            data.insert("customer".into(), customer);
            if event.kind == events::MESSAGE_CREATED {
                data.insert("message".into(), event.data.clone());
            } else if event.kind != events::CONVERSATION_CREATED {
                if let Value::Object(fields) = &event.data {
                    for (name, value) in fields {
                        data.entry(name.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
            Value::Object(data)
        }
    };
    Ok(body(&event.kind, event.at, data))
}

fn tags(kv: &dyn KeyValue, account: &AccountId, customer: &str) -> Result<Value> {
    match customers::get(kv, account, customer) {
        Ok(c) => Ok(json!({
            "customer_id": c.customer_id,
            "id": c.id,
            "email": c.email,
            "firstname": c.firstname,
            "lastname": c.lastname,
            "labels": c.labels,
        })),
        Err(Error::NotFound(_)) => Ok(Value::Null),
        Err(e) => Err(e),
    }
}

/// The body of a `webhook.test` delivery.
pub fn for_test(endpoint: &WebhookId, at: Timestamp) -> Vec<u8> {
    let data = json!({
        "webhook_id": endpoint,
        "message": "This is a test event from edgechat.",
    });
    body(WEBHOOK_TEST, at, data)
}

fn body(kind: &str, at: Timestamp, data: Value) -> Vec<u8> {
    let body = json!({"type": kind, "timestamp": at, "data": data});
    serde_json::to_vec(&body).unwrap_or_default()
}
