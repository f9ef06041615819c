//! The README's table of key-value round trips per write route is true:
//! each write route runs once in a fixed scenario on a host that counts its
//! key-value calls (`EDGECHAT_HOST_KV_COUNT=1` adds the
//! `edgechat-kv-round-trips` response header; a batch call is one), and the
//! counts must be the table's. On a mismatch the test prints the table as
//! measured, ready to paste.

use edgechat_tests::{ADMIN_TOKEN, HostOptions, Reply, json, repo_root};

const START: &str = "<!-- kv-round-trips:start -->";
const END: &str = "<!-- kv-round-trips:end -->";

/// `(route, what the scenario does, count)` rows of the README table.
fn documented() -> Vec<(String, String, u32)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let table = readme
        .split_once(START)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(table, _)| table.to_string())
        .expect("README.md has the key-value round-trips table between its markers");
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].parse().expect("a count"),
            )
        })
        .collect()
}

fn count(reply: &Reply) -> u32 {
    reply
        .header("edgechat-kv-round-trips")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no edgechat-kv-round-trips header: {reply:?}"))
}

#[test]
fn every_write_route_makes_the_documented_number_of_key_value_round_trips() {
    if edgechat_tests::on_real_spin() {
        eprintln!("skipped: only the local runtime counts key-value calls");
        return;
    }
    let host = HostOptions::app()
        .env("EDGECHAT_HOST_KV_COUNT", "1")
        .start();
    let admin = host.client().with_bearer(ADMIN_TOKEN);
    let public = host.client();
    let mut measured: Vec<(String, String, u32)> = Vec::new();
    let mut note = |route: &str, what: &str, reply: &Reply, status: u16| {
        reply.expect(status);
        measured.push((route.into(), what.into(), count(reply)));
    };

    let created = admin.post("/api/v1/accounts", &json!({"name": "Acme"}));
    note("POST /api/v1/accounts", "create an account", &created, 201);
    let account = created.json();
    let site = account["site_key"].as_str().unwrap().to_string();
    let id = account["account"]["id"].as_str().unwrap().to_string();
    let api = host
        .client()
        .with_bearer(account["api_token"].as_str().unwrap());
    let minted = admin.post(
        &format!("/api/v1/accounts/{id}/tokens"),
        &json!({"name": "ops"}),
    );
    note(
        "POST /api/v1/accounts/{id}/tokens",
        "admin mints a token",
        &minted,
        201,
    );
    let token = api.post("/api/v1/tokens", &json!({"name": "crm"}));
    note("POST /api/v1/tokens", "create a token", &token, 201);
    let token_id = token.json()["id"].as_str().unwrap().to_string();
    let revoked = api.delete(&format!("/api/v1/tokens/{token_id}"));
    note("DELETE /api/v1/tokens/{id}", "revoke it", &revoked, 204);

    let agents = json!({"agents": [
        {"id": "alice", "name": "Alice", "online": true, "available": true},
        {"id": "bob", "name": "Bob", "online": true, "available": true}]});
    note(
        "PUT /api/v1/agents",
        "sync two agents",
        &api.put("/api/v1/agents", &agents),
        200,
    );
    let carol = api.put("/api/v1/agents/carol", &json!({"name": "Carol"}));
    note("PUT /api/v1/agents/{id}", "add one agent", &carol, 201);
    let status = api.put(
        "/api/v1/agents/carol/status",
        &json!({"online": true, "available": false}),
    );
    note(
        "PUT /api/v1/agents/{id}/status",
        "change its presence",
        &status,
        200,
    );
    let removed = api.delete("/api/v1/agents/carol");
    note("DELETE /api/v1/agents/{id}", "remove it", &removed, 204);

    let visitor = public.post("/v1/widget/visitors", &json!({"site": site}));
    note(
        "POST /v1/widget/visitors",
        "mint a visitor id",
        &visitor,
        201,
    );
    let visitor = visitor.json()["visitor"].as_str().unwrap().to_string();
    let started = public.post(
        "/v1/widget/conversations",
        &json!({"site": site, "visitor": visitor, "text": "hello"}),
    );
    note(
        "POST /v1/widget/conversations",
        "start with a first message (routed to an agent)",
        &started,
        201,
    );
    let started = started.json();
    let conversation = started["conversation_id"].as_str().unwrap().to_string();
    let chat = host
        .client()
        .with_bearer(started["visitor_token"].as_str().unwrap());
    let messages = format!("/v1/widget/conversations/{conversation}/messages");
    let said = chat.post(&messages, &json!({"text": "anyone?"}));
    note(
        "POST /v1/widget/conversations/{id}/messages",
        "a visitor message",
        &said,
        201,
    );
    let conv = format!("/api/v1/conversations/{conversation}");
    let reply = api.post(
        &format!("{conv}/messages"),
        &json!({"agent_id": "alice", "text": "Hi"}),
    );
    note(
        "POST /api/v1/conversations/{id}/messages",
        "an agent reply",
        &reply,
        201,
    );
    let assigned = api.post(&format!("{conv}/assign"), &json!({"agent_id": "bob"}));
    note(
        "POST /api/v1/conversations/{id}/assign",
        "hand it to another agent",
        &assigned,
        200,
    );
    let closed = api.post(&format!("{conv}/close"), &json!({}));
    note(
        "POST /api/v1/conversations/{id}/close",
        "close it",
        &closed,
        200,
    );
    let reopened = chat.post(&messages, &json!({"text": "one more thing"}));
    note(
        "POST /v1/widget/conversations/{id}/messages",
        "a visitor message that reopens it",
        &reopened,
        201,
    );

    let tags = json!({"email": "ann@example.com", "firstname": "Ann", "id": "u-1",
        "labels": ["vip"], "lastname": "Lee"});
    let tagged = api.put(&format!("/api/v1/customers/{visitor}"), &tags);
    note("PUT /api/v1/customers/{id}", "tag a customer", &tagged, 200);
    let hide = json!({"mode": "hide"});
    let one = api.put(&format!("/api/v1/customers/{visitor}/visibility"), &hide);
    note(
        "PUT /api/v1/customers/{id}/visibility",
        "hide the chat for them",
        &one,
        200,
    );
    note(
        "PUT /api/v1/visibility",
        "account-wide override",
        &api.put("/api/v1/visibility", &hide),
        200,
    );
    let rules = json!({"rules": [{"id": "office", "conditions": [{"type": "agents_online"}]}]});
    note(
        "PUT /api/v1/action-rules",
        "one rule",
        &api.put("/api/v1/action-rules", &rules),
        200,
    );
    let config = json!({"colors": {"primary": "#aa3300", "text": "#ffffff"}});
    let configured = api.put("/api/v1/widget/config", &config);
    note("PUT /api/v1/widget/config", "colors", &configured, 200);
    let routing = api.put("/api/v1/settings/routing", &json!({"mode": "manual"}));
    note(
        "PUT /api/v1/settings/routing",
        "manual routing",
        &routing,
        200,
    );

    let expected = documented();
    let render = |rows: &[(String, String, u32)]| -> String {
        rows.iter()
            .map(|(route, what, n)| format!("| `{route}` | {what} | {n} |\n"))
            .collect()
    };
    assert_eq!(
        render(&expected),
        render(&measured),
        "README.md's table differs from what the host counted; measured:\n{}",
        render(&measured)
    );
}
