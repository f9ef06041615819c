//! Every POST that creates or changes something honours `Idempotency-Key`:
//! backends and widgets retry after a timeout, and a retry must not post a
//! second message, start a second chat or record a second change.

use crate::{Chat, start_app, start_chat, tenant};
use edgechat_tests::{Client, Reply, Value, json};

fn post_once(client: &Client, path: &str, key: &str, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    client.send(
        "POST",
        path,
        &[
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        Some(&bytes),
    )
}

/// Sends the same request twice and a third time with another body:
/// the second answer is the first one replayed, the third a 422.
fn retried(client: &Client, path: &str, key: &str, body: &Value, other: &Value) -> Value {
    let first = post_once(client, path, key, body);
    assert!(
        first.status < 300,
        "{path}: {} {}",
        first.status,
        first.body
    );
    let again = post_once(client, path, key, body);
    assert_eq!(again.status, first.status, "{path}");
    assert_eq!(again.header("idempotent-replayed"), Some("true"), "{path}");
    assert_eq!(again.json(), first.json(), "{path}: the same answer");
    post_once(client, path, key, other).expect_problem(422);
    first.json()
}

#[test]
fn retried_conversation_posts_happen_once() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true), ("bob", true)]);

    let visitor = acme.visitor("v1");
    let started = retried(
        &host.client(),
        "/v1/widget/conversations",
        "start-1",
        &json!({"site": acme.site_key, "visitor": visitor, "text": "hello"}),
        &json!({"site": acme.site_key, "visitor": visitor, "text": "other"}),
    );
    let id = started["conversation_id"].as_str().unwrap().to_string();
    let chat = Chat {
        id: id.clone(),
        customer_id: visitor.clone(),
        token: started["visitor_token"].as_str().unwrap().to_string(),
        visitor: host
            .client()
            .with_bearer(started["visitor_token"].as_str().unwrap()),
    };
    retried(
        &chat.visitor,
        &chat.messages_path(),
        "visitor-msg-1",
        &json!({"text": "are you there?"}),
        &json!({"text": "something else"}),
    );
    let base = format!("/api/v1/conversations/{id}");
    retried(
        &acme.api,
        &format!("{base}/messages"),
        "reply-1",
        &json!({"agent_id": "alice", "text": "yes!"}),
        &json!({"agent_id": "alice", "text": "no"}),
    );
    retried(
        &acme.api,
        &format!("{base}/assign"),
        "assign-1",
        &json!({"agent_id": "bob"}),
        &json!({"agent_id": "alice"}),
    );
    let first = post_once(&acme.api, &format!("{base}/close"), "close-1", &json!({}));
    first.expect(200);
    let again = post_once(&acme.api, &format!("{base}/close"), "close-1", &json!({}));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    // One chat, three messages, one of each change.
    let conversations = acme.api.get("/api/v1/conversations").expect(200).json();
    assert_eq!(conversations["items"].as_array().unwrap().len(), 1);
    let messages = acme.api.get(&format!("{base}/messages")).expect(200).json();
    let texts: Vec<&str> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello", "are you there?", "yes!"]);
    let assigned = acme
        .events()
        .iter()
        .filter(|e| e["type"] == "conversation.assigned" && e["data"]["agent_id"] == "bob")
        .count();
    assert_eq!(assigned, 1);

    // A retry of another visitor's start with the same key is its own.
    let other = start_chat(&host, &acme, "v2", None);
    assert_ne!(other.id, id);
}
