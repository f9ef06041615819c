//! `POST /api/v1/agent-links`.

use crate::*;

fn seconds_of(rfc3339: &str) -> i64 {
    edgechat::time::Timestamp::parse(rfc3339)
        .expect("an RFC 3339 time")
        .millis()
        / 1_000
}

#[test]
fn a_link_is_absolute_on_the_requests_origin_expires_in_ten_minutes_and_assigns() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let before = now_seconds();
    let reply = tenant.api.post(
        "/api/v1/agent-links",
        &json!({"agent_id": "alice", "conversation_id": chat.id}),
    );
    let minted = reply.expect(201).json();
    let after = now_seconds();
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let url = minted["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/agent/join?token=v1.", host.base)),
        "{url}"
    );
    let expires = seconds_of(minted["expires_at"].as_str().unwrap());
    assert!(
        expires >= before + 599 && expires <= after + 600,
        "{minted}"
    );
    assert_eq!(minted["conversation_id"], chat.id.as_str());
    assert_eq!(minted["agent_id"], "alice");
    assert!(minted["link_id"].as_str().unwrap().starts_with("lnk_"));
    let conversation = tenant
        .api
        .get(&format!("/api/v1/conversations/{}", chat.id))
        .expect(200)
        .json();
    assert_eq!(conversation["assignee_id"], "alice");
    let created = audit(&tenant, "agent_link.created");
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["target"],
        format!("agent_link:{}", minted["link_id"].as_str().unwrap())
    );
    assert!(created[0]["actor"].as_str().unwrap().starts_with("token:"));

    // A lifetime of its own, and no routing when asked not to.
    let other = start_chat(&host, &tenant, "v2");
    let minted = tenant
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "bob", "conversation_id": other.id, "ttl_seconds": 86_400, "assign": false}),
        )
        .expect(201)
        .json();
    let expires = seconds_of(minted["expires_at"].as_str().unwrap());
    assert!(expires >= before + 86_399, "{minted}");
    let conversation = tenant
        .api
        .get(&format!("/api/v1/conversations/{}", other.id))
        .expect(200)
        .json();
    assert_eq!(conversation["assignee_id"], Value::Null);
}

#[test]
fn behind_a_proxy_the_link_uses_the_public_base_url() {
    let (host, tenant) = setup_with(
        HostOptions::app().env("SPIN_VARIABLE_PUBLIC_BASE_URL", "https://chat.example.test"),
    );
    let chat = start_chat(&host, &tenant, "v1");
    let minted = tenant
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "alice", "conversation_id": chat.id}),
        )
        .expect(201)
        .json();
    assert!(
        minted["url"]
            .as_str()
            .unwrap()
            .starts_with("https://chat.example.test/agent/join?token=v1."),
        "{minted}"
    );
}

#[test]
fn a_customer_id_opens_that_customers_most_recent_open_conversation() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let minted = tenant
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "alice", "customer_id": chat.customer_id}),
        )
        .expect(201)
        .json();
    assert_eq!(minted["conversation_id"], chat.id.as_str());
    tenant
        .api
        .post(
            &format!("/api/v1/conversations/{}/close", chat.id),
            &json!({}),
        )
        .expect(200);
    let problem = tenant
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "alice", "customer_id": chat.customer_id}),
        )
        .expect_problem(404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no open conversation")
    );
}

#[test]
fn bad_input_is_a_problem_that_changes_nothing() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let other = host.tenant("Other shop");
    let foreign = start_chat(&host, &other, "v9");
    let events_before = tenant.events().len();
    let audit_before = audit(&tenant, "").len();
    let conv = chat.id.as_str();
    for (body, field) in [
        (json!({"conversation_id": conv}), "agent_id"),
        (json!({"agent_id": "alice"}), "conversation_id"),
        (
            json!({"agent_id": "alice", "conversation_id": conv, "customer_id": chat.customer_id}),
            "customer_id",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": "conv_nope"}),
            "conversation_id",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": 7}),
            "conversation_id",
        ),
        (
            json!({"agent_id": "no spaces", "conversation_id": conv}),
            "agent_id",
        ),
        (
            json!({"agent_id": "alice", "customer_id": "a/b"}),
            "customer_id",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conv, "ttl_seconds": 0}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conv, "ttl_seconds": 86_401}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conv, "ttl_seconds": "600"}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conv, "assign": 1}),
            "assign",
        ),
        (json!(["alice"]), "body"),
    ] {
        let reply = tenant.api.post("/api/v1/agent-links", &body);
        assert_eq!(reply.invalid_fields()[0], field, "{body}");
    }
    for (body, status) in [
        (json!({"agent_id": "carol", "conversation_id": conv}), 404),
        (
            json!({"agent_id": "alice", "conversation_id": foreign.id}),
            404,
        ),
        (json!({"agent_id": "alice", "customer_id": "nobody"}), 404),
    ] {
        tenant
            .api
            .post("/api/v1/agent-links", &body)
            .expect_problem(status);
    }
    let not_json = tenant.api.send(
        "POST",
        "/api/v1/agent-links",
        &[("content-type", "text/plain")],
        Some(b"alice"),
    );
    not_json.expect_problem(415);
    host.client()
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "alice", "conversation_id": conv}),
        )
        .expect_problem(401);
    // Another account's token cannot mint into this account.
    other
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": "alice", "conversation_id": conv}),
        )
        .expect_problem(404);
    assert_eq!(tenant.events().len(), events_before);
    assert_eq!(audit(&tenant, "").len(), audit_before);
    let conversation = tenant
        .api
        .get(&format!("/api/v1/conversations/{conv}"))
        .expect(200)
        .json();
    assert_eq!(conversation["assignee_id"], Value::Null);
}

#[test]
fn an_idempotency_key_replays_the_same_link() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let body =
        serde_json::to_vec(&json!({"agent_id": "alice", "conversation_id": chat.id})).unwrap();
    let send = || {
        tenant.api.send(
            "POST",
            "/api/v1/agent-links",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "mint-1"),
            ],
            Some(&body),
        )
    };
    let first = send();
    let second = send();
    first.expect(201);
    second.expect(201);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.json()["url"], second.json()["url"]);
    assert_eq!(audit(&tenant, "agent_link.created").len(), 1);
}
