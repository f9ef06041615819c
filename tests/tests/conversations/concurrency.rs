//! Two hosts, one Redis: nothing lost, nothing doubled.

use crate::{Chat, items, tenant};
use edgechat_tests::{HostOptions, in_parallel, json};
use std::collections::HashSet;
use std::sync::Arc;

const MESSAGES: usize = 500;

#[test]
fn five_hundred_messages_through_two_hosts_on_one_redis_are_stored_once_each_in_seq_order() {
    let redis = edgechat_tests::Redis::start();
    let [a, b] = redis.two_hosts(HostOptions::app);
    let acme = tenant(&a, "Acme");
    let chat = crate::start_chat(&a, &acme, "visitor", None);
    let via_b = Chat {
        visitor: b.client().with_bearer(&chat.token),
        id: chat.id.clone(),
        customer_id: chat.customer_id.clone(),
        token: chat.token.clone(),
    };
    let chats = Arc::new([chat, via_b]);

    let posted = {
        let chats = chats.clone();
        in_parallel(MESSAGES, 16, move |i| {
            let reply = chats[i % 2].say(&format!("message {i}"));
            reply.expect(201);
            reply.json()["seq"].as_u64().unwrap()
        })
    };

    // Every post got its own number...
    let distinct: HashSet<u64> = posted.iter().copied().collect();
    assert_eq!(distinct.len(), MESSAGES, "two posts got the same seq");
    // ...and the conversation holds each message once, 1..=500 in order.
    let mut stored = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = acme.api.get(&format!(
            "/api/v1/conversations/{}/messages?limit=500&cursor={cursor}",
            chats[0].id
        ));
        page.expect(200);
        let page_items = items(&page);
        if page_items.is_empty() {
            break;
        }
        stored.extend(page_items);
        cursor = page.json()["next_cursor"].as_str().unwrap().to_string();
    }
    let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=MESSAGES as u64).collect::<Vec<_>>());
    let texts: HashSet<&str> = stored.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), MESSAGES, "each message stored once");
    // The event log has each of them once too (read through the other host).
    let api_b = b.client().with_bearer(&acme_token(&acme));
    let mut message_events = 0;
    let mut cursor = String::new();
    loop {
        let page = api_b.get(&format!("/api/v1/events?limit=500&cursor={cursor}"));
        page.expect(200);
        let page_items = items(&page);
        if page_items.is_empty() {
            break;
        }
        message_events += page_items
            .iter()
            .filter(|e| e["type"] == "message.created")
            .count();
        cursor = page.json()["next_cursor"].as_str().unwrap().to_string();
    }
    assert_eq!(message_events, MESSAGES);
}

fn acme_token(tenant: &crate::Tenant) -> String {
    let created = tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "host-b"}))
        .expect(201)
        .json();
    created["token"].as_str().expect("token").to_string()
}

/// Conversation state is a shared document: closes racing through two hosts
/// on one Redis close it once, with one `conversation.closed` event, and
/// assignments racing leave exactly one assignee, each change one event.
#[test]
fn state_changes_racing_through_two_hosts_happen_once_each() {
    let redis = edgechat_tests::Redis::start();
    let [a, b] = redis.two_hosts(HostOptions::app);
    let acme = tenant(&a, "Acme");
    let token = acme_token(&acme);
    let apis = Arc::new([
        a.client().with_bearer(&token),
        b.client().with_bearer(&token),
    ]);
    let agents: Vec<_> = (0..4)
        .map(|i| json!({"id": format!("agent-{i}"), "name": "A"}))
        .collect();
    acme.api
        .put("/api/v1/agents", &json!({ "agents": agents }))
        .expect(200);
    let chat = crate::start_chat(&a, &acme, "visitor", Some("hello"));
    let id = chat.id.clone();
    let before = apis[0]
        .get(&format!("/api/v1/conversations/{id}"))
        .expect(200)
        .json();
    {
        let (apis, id) = (apis.clone(), id.clone());
        in_parallel(20, 8, move |i| {
            apis[i % 2]
                .post(&format!("/api/v1/conversations/{id}/close"), &json!({}))
                .expect(200);
        });
    }
    {
        let (apis, id) = (apis.clone(), id.clone());
        in_parallel(20, 8, move |i| {
            apis[i % 2]
                .post(
                    &format!("/api/v1/conversations/{id}/assign"),
                    &json!({"agent_id": format!("agent-{}", i % 4)}),
                )
                .expect(200);
        });
    }
    let conversation = apis[1]
        .get(&format!("/api/v1/conversations/{id}"))
        .expect(200)
        .json();
    assert_eq!(conversation["status"], "closed");
    let mut events = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = apis[0].get(&format!("/api/v1/events?limit=500&cursor={cursor}"));
        page.expect(200);
        let page_items = items(&page);
        if page_items.is_empty() {
            break;
        }
        events.extend(page_items);
        cursor = page.json()["next_cursor"].as_str().unwrap().to_string();
    }
    let of = |kind: &str| -> Vec<serde_json::Value> {
        events
            .iter()
            .filter(|e| e["type"] == kind && e["conversation_id"] == id.as_str())
            .cloned()
            .collect()
    };
    assert_eq!(of("conversation.closed").len(), 1, "{events:?}");
    // The assignment events are the versions of one chain of changes, in
    // whatever order their events were numbered: none is a no-op, and the
    // assignees they changed *from* are exactly the assignee before the race
    // plus every assignee they changed *to*, less the final one.
    let assigned = of("conversation.assigned");
    assert!(!assigned.is_empty());
    let mut from: Vec<String> = assigned
        .iter()
        .map(|e| e["data"]["previous_agent_id"].to_string())
        .collect();
    let mut to: Vec<String> = assigned
        .iter()
        .map(|e| e["data"]["agent_id"].to_string())
        .collect();
    for (f, t) in from.iter().zip(&to) {
        assert_ne!(f, t, "a no-op assignment was recorded: {assigned:?}");
    }
    to.push(before["assignee_id"].to_string());
    let last = conversation["assignee_id"].to_string();
    let at = to
        .iter()
        .position(|t| *t == last)
        .expect("the final assignee");
    to.remove(at);
    from.sort();
    to.sort();
    assert_eq!(from, to, "{assigned:?}");
}
