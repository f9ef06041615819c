//! Agent and customer changes in the account's event log: one
//! `agent.updated` / `customer.updated` per actual change, none for a no-op,
//! and never in the conversation change feed.

use crate::{items, next_cursor, start_app, start_chat, tenant};
use edgechat_tests::{Value, json};
use std::time::Duration;

/// Every event after the chat's creation as `(type, data)`; none of them is
/// a conversation's.
fn account_events(events: &[Value]) -> Vec<(String, Value)> {
    events
        .iter()
        .filter(|e| e["type"] != "conversation.created")
        .map(|e| {
            assert!(e.get("conversation_id").is_none(), "{e}");
            (e["type"].as_str().unwrap().to_string(), e["data"].clone())
        })
        .collect()
}

fn agent_change(data: &Value) -> (&str, &str, &Value) {
    (
        data["agent_id"].as_str().unwrap(),
        data["change"].as_str().unwrap(),
        &data["agent"],
    )
}

#[test]
fn agent_and_customer_changes_are_events_once_each_and_stay_out_of_the_feed() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    let chat = start_chat(&host, &acme, "v1", None);
    let directory = json!({"agents": [
        {"id": "bob", "name": "Bob"},
        {"id": "alice", "name": "Alice", "email": "alice@example.com"},
    ]});

    // Act: every kind of change, each followed by the same call again.
    for _ in 0..2 {
        acme.api.put("/api/v1/agents", &directory).expect(200);
    }
    let status = json!({"online": true, "available": true});
    for _ in 0..2 {
        acme.api
            .put("/api/v1/agents/alice/status", &status)
            .expect(200);
    }
    for _ in 0..2 {
        acme.api
            .put("/api/v1/agents/bob", &json!({"name": "Bobby"}))
            .expect(200);
    }
    acme.api.delete("/api/v1/agents/bob").expect(204);
    acme.api.delete("/api/v1/agents/bob").expect_problem(404);
    let tags = json!({"id": 7, "email": "v1@example.com", "labels": ["vip"]});
    let v1 = acme.visitor("v1");
    for _ in 0..2 {
        acme.api
            .put(&format!("/api/v1/customers/{v1}"), &tags)
            .expect(200);
    }
    for status in [201, 200] {
        acme.api
            .put(
                "/api/v1/customers/crm-8",
                &json!({"id": 8, "labels": ["trial"]}),
            )
            .expect(status);
    }
    // A page's identify changes no customer: no customer event.
    let identify = json!({"site": acme.site_key, "visitor": acme.visitor("v2"), "id": 8});
    host.client()
        .post("/v1/widget/identify", &identify)
        .expect(200);

    // Assert: the log holds each change once, in order.
    let events = acme.events();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(events[0]["type"], "conversation.created");
    let changes = account_events(&events);
    let types: Vec<&str> = changes.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "agent.updated",
            "agent.updated",
            "agent.updated",
            "agent.updated",
            "agent.updated",
            "customer.updated",
            "customer.updated"
        ],
        "{events:#?}"
    );
    let agents: Vec<(&str, &str, &Value)> =
        changes[..5].iter().map(|(_, d)| agent_change(d)).collect();
    let [alice, bob, status, renamed, removed] = agents[..] else {
        unreachable!()
    };
    assert_eq!((alice.0, alice.1), ("alice", "created"));
    assert_eq!(alice.2["email"], "alice@example.com");
    assert_eq!(alice.2["online"], false);
    assert_eq!(
        (bob.0, bob.1, &bob.2["name"]),
        ("bob", "created", &json!("Bob"))
    );
    assert_eq!((status.0, status.1), ("alice", "status"));
    assert_eq!(
        (&status.2["online"], &status.2["available"]),
        (&json!(true), &json!(true))
    );
    assert_eq!((renamed.0, renamed.1), ("bob", "updated"));
    assert_eq!(renamed.2["name"], "Bobby");
    assert_eq!(
        (removed.0, removed.1, removed.2),
        ("bob", "removed", &Value::Null)
    );

    let tagged = &changes[5].1;
    assert_eq!(tagged["customer_id"], v1.as_str());
    assert_eq!(tagged["change"], "updated", "starting the chat created v1");
    assert_eq!(tagged["customer"]["id"], 7);
    assert_eq!(tagged["customer"]["labels"], json!(["vip"]));
    assert_eq!(
        tagged["customer"],
        acme.api
            .get(&format!("/api/v1/customers/{v1}"))
            .expect(200)
            .json()
    );
    let identified = &changes[6].1;
    assert_eq!(identified["customer_id"], "crm-8");
    assert_eq!(identified["change"], "created");
    assert_eq!(identified["customer"]["labels"], json!(["trial"]));

    // The change feed shows the conversation only, and its cursor is past
    // the other events.
    let feed = acme.api.get("/api/v1/conversations");
    let feed_items = items(feed.expect(200));
    assert_eq!(feed_items.len(), 1);
    assert_eq!(feed_items[0]["id"], chat.id.as_str());
    let cursor = next_cursor(&feed);
    let after = acme
        .api
        .get(&format!("/api/v1/conversations?cursor={cursor}"));
    assert!(items(after.expect(200)).is_empty());
}

#[test]
fn a_waiting_events_poll_wakes_for_an_agent_change() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true)]);
    let head = acme.api.get("/api/v1/events");
    let cursor = next_cursor(head.expect(200));

    let waiting = {
        let api = acme.api.clone();
        std::thread::spawn(move || {
            let reply = api.get(&format!("/api/v1/events?cursor={cursor}&wait=20"));
            items(reply.expect(200))
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    acme.api
        .put(
            "/api/v1/agents/alice/status",
            &json!({"online": false, "available": false}),
        )
        .expect(200);
    // Not empty: it woke for the change before its 20 s ran out.
    let arrived = waiting.join().unwrap();
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0]["type"], "agent.updated");
    assert_eq!(arrived[0]["data"]["change"], "status");
}
