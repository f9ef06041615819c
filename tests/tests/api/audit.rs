use crate::{App, audit_actions, invalid_fields};
use edgechat_tests::json;

#[test]
fn every_mutating_call_is_audited_with_actor_action_and_target() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let own_token = tenant.api.get("/api/v1/tokens").expect(200).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let minted = tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "crm"}))
        .expect(201)
        .json();
    tenant
        .api
        .put("/api/v1/agents", &json!([{"id": "alice", "name": "Alice"}]))
        .expect(200);
    tenant
        .api
        .put("/api/v1/agents/bob", &json!({"name": "Bob"}))
        .expect(201);
    tenant
        .api
        .put(
            "/api/v1/agents/bob/status",
            &json!({"online": true, "available": true}),
        )
        .expect(200);
    tenant.api.delete("/api/v1/agents/bob").expect(204);
    tenant
        .api
        .put("/api/v1/customers/c1", &json!({"id": 1}))
        .expect(201);
    tenant
        .api
        .put("/api/v1/customers/c1", &json!({"id": 2}))
        .expect(200);
    tenant
        .api
        .delete(&format!(
            "/api/v1/tokens/{}",
            minted["id"].as_str().unwrap()
        ))
        .expect(204);
    // Reads are not audited.
    tenant.api.get("/api/v1/agents").expect(200);

    let entries = audit_actions(&tenant);
    let summary: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_string();
            (field("actor"), field("action"), field("target"))
        })
        .collect();
    let me = format!("token:{own_token}");
    let expected = [
        (
            "admin".to_string(),
            "account.created",
            format!("account:{}", tenant.id),
        ),
        (
            "admin".to_string(),
            "token.created",
            format!("token:{own_token}"),
        ),
        (
            me.clone(),
            "token.created",
            format!("token:{}", minted["id"].as_str().unwrap()),
        ),
        (me.clone(), "agent.synced", "agents".to_string()),
        (me.clone(), "agent.created", "agent:bob".to_string()),
        (me.clone(), "agent.status_changed", "agent:bob".to_string()),
        (me.clone(), "agent.deleted", "agent:bob".to_string()),
        (me.clone(), "customer.created", "customer:c1".to_string()),
        (me.clone(), "customer.updated", "customer:c1".to_string()),
        (
            me.clone(),
            "token.revoked",
            format!("token:{}", minted["id"].as_str().unwrap()),
        ),
    ];
    let expected: Vec<(String, String, String)> = expected
        .into_iter()
        .map(|(a, b, c)| (a, b.to_string(), c))
        .collect();
    assert_eq!(summary, expected);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["id"], (i + 1).to_string());
        assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn the_log_pages_oldest_to_newest_with_an_opaque_cursor() {
    let app = App::start();
    let tenant = app.tenant("Acme"); // two entries
    for i in 0..3 {
        tenant
            .api
            .put(&format!("/api/v1/customers/c{i}"), &json!({}))
            .expect(201);
    }
    let first = tenant
        .api
        .get("/api/v1/audit-logs?limit=2")
        .expect(200)
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    let rest = tenant
        .api
        .get(&format!("/api/v1/audit-logs?cursor={cursor}"))
        .expect(200)
        .json();
    let targets: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["customer:c0", "customer:c1", "customer:c2"]);
    cursor = rest["next_cursor"].as_str().unwrap().to_string();
    let end = tenant
        .api
        .get(&format!("/api/v1/audit-logs?cursor={cursor}"))
        .expect(200)
        .json();
    assert_eq!(end["items"], json!([]));
    // Polling from the end finds what comes later.
    tenant
        .api
        .put("/api/v1/customers/c9", &json!({}))
        .expect(201);
    let cursor = end["next_cursor"].as_str().unwrap();
    let later = tenant
        .api
        .get(&format!("/api/v1/audit-logs?cursor={cursor}"))
        .expect(200)
        .json();
    assert_eq!(later["items"][0]["target"], "customer:c9");
}

#[test]
fn the_type_filter_selects_an_action_or_a_type() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/agents/bob", &json!({"name": "Bob"}))
        .expect(201);
    tenant
        .api
        .put("/api/v1/customers/c1", &json!({}))
        .expect(201);
    let agents = tenant
        .api
        .get("/api/v1/audit-logs?type=agent")
        .expect(200)
        .json();
    assert_eq!(agents["items"].as_array().unwrap().len(), 1);
    let created = tenant
        .api
        .get("/api/v1/audit-logs?type=token.created")
        .expect(200)
        .json();
    assert_eq!(created["items"][0]["action"], "token.created");
}

#[test]
fn bad_cursors_and_limits_name_the_parameter() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    assert_eq!(
        invalid_fields(&tenant.api.get("/api/v1/audit-logs?cursor=nope")),
        ["cursor"]
    );
    assert_eq!(
        invalid_fields(&tenant.api.get("/api/v1/audit-logs?limit=1000")),
        ["limit"]
    );
    assert_eq!(
        invalid_fields(&tenant.api.get("/api/v1/audit-logs?limit=x")),
        ["limit"]
    );
}
