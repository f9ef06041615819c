use crate::{invalid_fields, items, start_app, start_chat, tenant};
use edgechat_tests::json;

#[test]
fn a_visitor_and_the_business_chat_from_start_to_reopen() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true)]);

    // Arrange: a visitor starts a chat with a first message.
    let chat = start_chat(&host, &acme, "visitor-42", Some("Hi, is anyone there?"));
    assert!(chat.id.starts_with("conv_"), "{}", chat.id);
    let visitor = acme.visitor("visitor-42");
    assert_eq!(chat.customer_id, visitor);
    // The visitor is now a customer that tagging updates.
    acme.api
        .get(&format!("/api/v1/customers/{visitor}"))
        .expect(200);

    // The business sees it in the feed and reads it.
    let feed = acme.api.get("/api/v1/conversations").expect(200).json();
    assert_eq!(feed["items"][0]["id"], chat.id.as_str());
    assert_eq!(feed["items"][0]["status"], "open");
    let one = acme
        .api
        .get(&format!("/api/v1/conversations/{}", chat.id))
        .expect(200)
        .json();
    assert_eq!(one["customer_id"], visitor.as_str());
    assert_eq!(one["visitor_id"], visitor.as_str());
    let messages = acme
        .api
        .get(&format!("/api/v1/conversations/{}/messages", chat.id))
        .expect(200)
        .json();
    assert_eq!(messages["items"][0]["text"], "Hi, is anyone there?");
    assert_eq!(
        messages["items"][0]["author"],
        json!({"type": "visitor", "id": visitor})
    );

    // Routes and answers it.
    let assigned = acme.api.post(
        &format!("/api/v1/conversations/{}/assign", chat.id),
        &json!({"agent_id": "alice"}),
    );
    assert_eq!(assigned.expect(200).json()["assignee_id"], "alice");
    let reply = crate::reply(&acme, &chat, "alice", "Hello! How can I help?")
        .expect(201)
        .json();
    assert_eq!(reply["seq"], 2);
    for field in [
        "id",
        "seq",
        "conversation_id",
        "author",
        "text",
        "created_at",
    ] {
        assert!(reply.get(field).is_some(), "messages have {field}: {reply}");
    }

    // The visitor reads the reply and writes again.
    let seen = chat.visitor.get(&chat.messages_path());
    seen.expect(200);
    let texts: Vec<_> = items(&seen)
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["Hi, is anyone there?", "Hello! How can I help?"]);
    assert_eq!(
        items(&seen)[1]["author"],
        // The agent's display name travels with the reply (the harness
        // names agents by their ids).
        json!({"type": "agent", "id": "alice", "name": "alice"})
    );

    // Closing, then a visitor message reopens.
    let closed = acme.api.post(
        &format!("/api/v1/conversations/{}/close", chat.id),
        &json!({}),
    );
    assert_eq!(closed.expect(200).json()["status"], "closed");
    let closed_feed = acme.api.get("/api/v1/conversations?status=closed");
    closed_feed.expect(200);
    assert_eq!(items(&closed_feed).len(), 1);
    chat.say("One more thing").expect(201);
    let reopened = acme
        .api
        .get(&format!("/api/v1/conversations/{}", chat.id))
        .expect(200)
        .json();
    assert_eq!(reopened["status"], "open");
    let none_closed = acme.api.get("/api/v1/conversations?status=closed");
    assert!(items(none_closed.expect(200)).is_empty());

    // Every change is in the event log once, in order.
    let events = acme.events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "agent.updated",
            "conversation.created",
            "message.created",
            "conversation.assigned",
            "message.created",
            "conversation.closed",
            "conversation.reopened",
            "message.created"
        ]
    );
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(
        events[1..]
            .iter()
            .all(|e| e["conversation_id"] == chat.id.as_str())
    );

    // And every mutating call is audited.
    let audit = acme
        .api
        .get("/api/v1/audit-logs?type=conversation&limit=200")
        .expect(200)
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "conversation.created",
            "conversation.assigned",
            "conversation.closed",
            "conversation.reopened"
        ]
    );
}

#[test]
fn round_robin_routes_new_conversations_to_available_agents_in_turn() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true), ("bob", true), ("carol", false)]);
    assert_eq!(
        acme.api.get("/api/v1/settings/routing").expect(200).json()["mode"],
        "manual"
    );
    let set = acme
        .api
        .put("/api/v1/settings/routing", &json!({"mode": "round_robin"}));
    assert_eq!(set.expect(200).json()["mode"], "round_robin");
    let assignees: Vec<String> = (0..4)
        .map(|i| {
            let chat = start_chat(&host, &acme, &format!("v{i}"), None);
            let conversation = acme
                .api
                .get(&format!("/api/v1/conversations/{}", chat.id))
                .expect(200)
                .json();
            conversation["assignee_id"]
                .as_str()
                .unwrap_or("nobody")
                .to_string()
        })
        .collect();
    assert_eq!(assignees, ["alice", "bob", "alice", "bob"]);
    assert_eq!(
        invalid_fields(
            &acme
                .api
                .put("/api/v1/settings/routing", &json!({"mode": "random"}))
        ),
        ["mode"]
    );
}

#[test]
fn bad_requests_get_problems_that_say_what_to_fix() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    let chat = start_chat(&host, &acme, "v", None);
    let conv = format!("/api/v1/conversations/{}", chat.id);

    let unknown = acme
        .api
        .post(&format!("{conv}/assign"), &json!({"agent_id": "ghost"}))
        .expect_problem(404);
    assert!(
        unknown["detail"].as_str().unwrap().contains("ghost"),
        "{unknown}"
    );
    acme.api
        .get("/api/v1/conversations/conv_00000000000000000000")
        .expect_problem(404);

    assert_eq!(invalid_fields(&chat.say(&"x".repeat(4_001))), ["text"]);
    assert_eq!(invalid_fields(&chat.say("   ")), ["text"]);
    assert_eq!(
        invalid_fields(&crate::reply(&acme, &chat, "", "hi")),
        ["agent_id"]
    );
    assert_eq!(
        invalid_fields(
            &chat
                .visitor
                .get(&format!("{}?wait=31", chat.messages_path()))
        ),
        ["wait"]
    );
    assert_eq!(
        invalid_fields(&acme.api.get("/api/v1/events?wait=abc")),
        ["wait"]
    );
    assert_eq!(
        invalid_fields(&acme.api.get("/api/v1/conversations?status=maybe")),
        ["status"]
    );
    assert_eq!(
        invalid_fields(&acme.api.get("/api/v1/conversations?limit=201")),
        ["limit"]
    );
    assert_eq!(
        invalid_fields(&acme.api.get("/api/v1/conversations?cursor=bogus")),
        ["cursor"]
    );
    let start_fields = invalid_fields(
        &host
            .client()
            .post("/v1/widget/conversations", &json!({"site": 1, "text": ""})),
    );
    assert_eq!(start_fields, ["site", "visitor", "text"]);
    let no_site = host.client().post(
        "/v1/widget/conversations",
        &json!({"site": "site_000000000000000000000000", "visitor": "v"}),
    );
    no_site.expect_problem(404);

    let not_json = chat.visitor.send(
        "POST",
        &chat.messages_path(),
        &[("content-type", "text/plain")],
        Some(b"hi"),
    );
    not_json.expect_problem(415);
    let big = format!("{{\"text\": \"{}\"}}", "x".repeat(70_000));
    let too_large = chat.visitor.send(
        "POST",
        &chat.messages_path(),
        &[("content-type", "application/json")],
        Some(big.as_bytes()),
    );
    too_large.expect_problem(413);

    for (method, path, allow) in [
        ("POST", "/api/v1/conversations".to_string(), "GET"),
        ("DELETE", conv.clone(), "GET"),
        ("GET", format!("{conv}/close"), "POST"),
        ("PUT", "/api/v1/events".to_string(), "GET"),
        ("GET", "/v1/widget/conversations".to_string(), "POST"),
    ] {
        let reply = acme.api.send(method, &path, &[], None);
        reply.expect_problem(405);
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
    // Nothing above was written: only the conversation's creation.
    assert_eq!(acme.events().len(), 1);
}

#[test]
fn the_widget_routes_answer_cors_preflights() {
    let host = start_app();
    let preflight = host.client().send(
        "OPTIONS",
        "/v1/widget/conversations",
        &[("origin", "https://shop.example")],
        None,
    );
    preflight.expect(204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .contains("authorization")
    );
}
