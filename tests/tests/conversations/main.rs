//! Conversations end to end, through the host: the visitor ↔ business flow,
//! who may read what, cursors under concurrent writes, messages posted
//! through two hosts sharing one Redis, long-polls, routing and the event
//! log. One test binary; one fresh host per test.

mod access;
mod account_events;
mod concurrency;
mod crash;
mod feed;
mod flow;
mod idempotency;
mod longpoll;
mod waiting;

use edgechat_tests::{Client, Host, HostOptions, Reply, Tenant, Value, json};

/// A visitor's chat: its conversation and a client with its visitor token.
pub struct Chat {
    pub id: String,
    pub customer_id: String,
    pub token: String,
    pub visitor: Client,
}

pub fn start_app() -> Host {
    HostOptions::app().start()
}

/// Creates an account on `host`.
pub fn tenant(host: &Host, name: &str) -> Tenant {
    host.tenant(name)
}

/// An agent's reply through the integration API.
pub fn reply(tenant: &Tenant, chat: &Chat, agent: &str, text: &str) -> Reply {
    tenant.api.post(
        &format!("/api/v1/conversations/{}/messages", chat.id),
        &json!({"agent_id": agent, "text": text}),
    )
}

/// A visitor of `tenant` starts a chat on `host`.
pub fn start_chat(host: &Host, tenant: &Tenant, visitor: &str, text: Option<&str>) -> Chat {
    let visitor = tenant.visitor_via(&host.client(), visitor);
    let mut body = json!({"site": tenant.site_key, "visitor": visitor});
    if let Some(text) = text {
        body["text"] = json!(text);
    }
    let started = host
        .client()
        .post("/v1/widget/conversations", &body)
        .expect(201)
        .json();
    let token = started["visitor_token"]
        .as_str()
        .expect("visitor_token")
        .to_string();
    Chat {
        id: started["conversation_id"]
            .as_str()
            .expect("conversation_id")
            .to_string(),
        customer_id: started["customer_id"]
            .as_str()
            .expect("customer_id")
            .to_string(),
        visitor: host.client().with_bearer(&token),
        token,
    }
}

impl Chat {
    pub fn messages_path(&self) -> String {
        format!("/v1/widget/conversations/{}/messages", self.id)
    }

    pub fn say(&self, text: &str) -> Reply {
        self.visitor
            .post(&self.messages_path(), &json!({ "text": text }))
    }
}

/// A page's `items`.
pub fn items(reply: &Reply) -> Vec<Value> {
    reply.items()
}

/// A page's `next_cursor`.
pub fn next_cursor(reply: &Reply) -> String {
    reply.next_cursor()
}

/// The fields named in a validation problem.
#[track_caller]
pub fn invalid_fields(reply: &Reply) -> Vec<String> {
    reply.invalid_fields()
}
