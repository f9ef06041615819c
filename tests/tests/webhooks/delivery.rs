//! Signed deliveries: what arrives, verified by `standardwebhooks`, for
//! which endpoints, and across a secret rotation.

use crate::{assert_all_verified, distinct_ids, endpoint, start_app, start_chat, tag};
use edgechat_tests::json;
use edgechat_tests::receiver::Receiver;

#[test]
fn a_chat_reaches_the_receiver_signed_with_what_it_needs_to_act() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, _) = endpoint(
        &tenant,
        &receiver,
        "crm",
        json!({"events": ["conversation.created", "message.created"]}),
    );
    tenant.sync_agents(&[("alice", true)]);
    let conversation = start_chat(&host, &tenant, "hello");
    tenant
        .api
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            &json!({"agent_id": "alice", "text": "hi!"}),
        )
        .expect(201);
    let items = receiver.wait_for("crm", "the chat's three events", |items| {
        distinct_ids(items).len() >= 3
    });
    assert_all_verified(&items, 0);
    let types: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        types[..3],
        ["conversation.created", "message.created", "message.created"]
    );
    let visitor_message = &items[1]["payload"];
    assert_eq!(visitor_message["data"]["message"]["text"], "hello");
    assert_eq!(
        visitor_message["data"]["conversation"]["id"],
        conversation.as_str()
    );
    assert!(
        visitor_message["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(items[2]["payload"]["data"]["message"]["text"], "hi!");
    let log = crate::wait_for_deliveries(&tenant, &id, "three successes", |log| {
        log.iter().filter(|a| a["status"] == "succeeded").count() >= 3
    });
    assert_eq!(log[0]["response_status"], 200);
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["webhook_id"], items[0]["webhook_id"]);
}

#[test]
fn tagged_customers_travel_with_their_conversations_events() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    endpoint(
        &tenant,
        &receiver,
        "crm",
        json!({"events": ["conversation.closed"]}),
    );
    let conversation = start_chat(&host, &tenant, "hello");
    let customer = tenant
        .api
        .get(&format!("/api/v1/conversations/{conversation}"))
        .expect(200)
        .json()["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    tag(&tenant, &customer, "John");
    tenant
        .api
        .post(
            &format!("/api/v1/conversations/{conversation}/close"),
            &json!({}),
        )
        .expect(200);
    let items = receiver.wait_for("crm", "the close", |items| !items.is_empty());
    let data = &items[0]["payload"]["data"];
    assert_eq!(items[0]["type"], "conversation.closed");
    assert_eq!(data["customer"]["firstname"], "John");
    assert_eq!(data["customer"]["labels"], json!(["vip"]));
    assert_eq!(data["conversation"]["status"], "closed");
}

#[test]
fn the_event_filter_holds_and_no_account_gets_anothers_events() {
    let host = start_app();
    let receiver = Receiver::start();
    let (a, b) = (host.tenant("A"), host.tenant("B"));
    endpoint(&a, &receiver, "a-all", json!({}));
    endpoint(
        &a,
        &receiver,
        "a-agents",
        json!({"events": ["agent.updated"]}),
    );
    endpoint(&b, &receiver, "b-all", json!({}));
    tag(&a, "john", "John");
    a.sync_agents(&[("alice", true)]);
    tag(&b, "mary", "Mary");
    let all = receiver.wait_for("a-all", "both events", |items| {
        distinct_ids(items).len() >= 2
    });
    let agents = receiver.wait_for("a-agents", "the agent event", |items| !items.is_empty());
    let theirs = receiver.wait_for("b-all", "B's event", |items| !items.is_empty());
    // A later event to each proves the earlier ones were all delivered.
    a.sync_agents(&[("alice", true), ("bob", true)]);
    receiver.wait_for("a-agents", "the second agent event", |items| {
        distinct_ids(items).len() >= 2
    });
    receiver.wait_for("a-all", "the third event", |items| {
        distinct_ids(items).len() >= 3
    });
    for item in receiver.received("a-agents") {
        assert_eq!(item["type"], "agent.updated", "{item}");
    }
    assert!(
        all.iter()
            .all(|i| !i["payload"].to_string().contains("Mary")),
        "{all:#?}"
    );
    assert!(
        theirs
            .iter()
            .all(|i| !i["payload"].to_string().contains("John"))
    );
    assert_eq!(distinct_ids(&receiver.received("b-all")).len(), 1);
    assert_eq!(agents[0]["payload"]["data"]["agent"]["id"], "alice");
}

#[test]
fn after_a_rotation_deliveries_carry_both_signatures_for_a_day() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, old) = endpoint(&tenant, &receiver, "crm", json!({}));
    let rotated = tenant
        .api
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"), &json!({}))
        .expect(200)
        .json();
    let new = rotated["secret"].as_str().unwrap().to_string();
    receiver.configure("crm", &[&old, &new], json!({"status": 200}));
    tag(&tenant, "john", "John");
    let items = receiver.wait_for("crm", "the event", |items| !items.is_empty());
    assert_all_verified(&items, 0);
    assert_all_verified(&items, 1);
    assert_eq!(
        items[0]["signature"].as_str().unwrap().split(' ').count(),
        2
    );
    // A receiver that only knows the new secret verifies too.
    receiver.configure("crm", &[&new], json!({"status": 200}));
    tag(&tenant, "mary", "Mary");
    let items = receiver.wait_for("crm", "the second event", |items| {
        distinct_ids(items).len() >= 2
    });
    assert_all_verified(&items[1..], 0);
}

#[test]
fn a_test_event_is_sent_at_once_and_answered_with_its_outcome() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, _) = endpoint(
        &tenant,
        &receiver,
        "crm",
        json!({"events": ["message.created"]}),
    );
    let attempt = tenant
        .api
        .post(&format!("/api/v1/webhooks/{id}/test"), &json!({}))
        .expect(200)
        .json();
    assert_eq!(attempt["status"], "succeeded", "{attempt}");
    assert_eq!(attempt["response_status"], 200);
    assert_eq!(attempt["event_type"], "webhook.test");
    assert_eq!(attempt["response_body"], "<html>received</html>");
    let items = receiver.received("crm");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "webhook.test");
    assert_all_verified(&items, 0);
    // The receiver's answer is data, never a page: the API serves it as JSON.
    let listed = tenant.api.get(&format!("/api/v1/webhooks/{id}/deliveries"));
    assert_eq!(listed.header("content-type"), Some("application/json"));
    assert_eq!(listed.header("x-content-type-options"), Some("nosniff"));
}
