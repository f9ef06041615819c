//! Two hosts, one Redis: nothing lost, nothing doubled.

use crate::{Chat, items, tenant};
use edgechat_tests::{HostOptions, in_parallel, json};
use std::collections::HashSet;
use std::sync::Arc;

const MESSAGES: usize = 500;

#[test]
fn five_hundred_messages_through_two_hosts_on_one_redis_are_stored_once_each_in_seq_order() {
    let redis = edgechat_tests::Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(dir.path());
    let a = HostOptions::app().runtime_config(&config).start();
    let b = HostOptions::app().runtime_config(&config).start();
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
