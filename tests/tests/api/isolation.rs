//! Account B's token on each of account A's resources: 404, never 403,
//! never a leak; and A's resources stay as they were.

use crate::{App, audit_actions, ids};
use edgechat_tests::json;

#[test]
fn another_accounts_resources_are_not_found() {
    let app = App::start();
    let a = app.tenant("Alpha");
    let b = app.tenant("Beta");
    a.api
        .put("/api/v1/agents", &json!([{"id": "alice", "name": "Alice"}]))
        .expect(200);
    a.api
        .put(
            "/api/v1/customers/c1",
            &json!({"id": 123, "email": "john.doe@example.com"}),
        )
        .expect(201);
    let a_token = a
        .api
        .post("/api/v1/tokens", &json!({"name": "crm"}))
        .expect(201)
        .json();
    let a_token_path = format!("/api/v1/tokens/{}", a_token["id"].as_str().unwrap());
    let a_audit = audit_actions(&a);

    let json_body = [("content-type", "application/json")];
    let matrix: &[(&str, &str, Option<&[u8]>)] = &[
        ("GET", "/api/v1/agents/alice", None),
        ("DELETE", "/api/v1/agents/alice", None),
        (
            "PUT",
            "/api/v1/agents/alice/status",
            Some(br#"{"online":true,"available":true}"#),
        ),
        ("GET", "/api/v1/customers/c1", None),
        ("DELETE", a_token_path.as_str(), None),
    ];
    for (method, path, body) in matrix {
        let reply = b.api.send(method, path, &json_body, *body);
        let problem = reply.expect_problem(404);
        assert!(
            !reply.body.contains(&a.id),
            "{method} {path} leaks: {problem}"
        );
    }
    for query in ["external_id=123", "email=john.doe%40example.com"] {
        let found = b.api.get(&format!("/api/v1/customers?{query}"));
        assert!(ids(&found.expect(200), "customer_id").is_empty(), "{query}");
    }
    assert!(ids(&b.api.get("/api/v1/agents").expect(200), "id").is_empty());
    assert_eq!(
        ids(&b.api.get("/api/v1/tokens").expect(200), "name"),
        ["default"]
    );
    let b_log = b.api.get("/api/v1/audit-logs");
    b_log.expect(200);
    assert!(!b_log.body.contains(&a.id) && !b_log.body.contains("alice"));

    // A is untouched: its agent, customer, token and log are as before.
    assert_eq!(
        a.api.get("/api/v1/agents/alice").expect(200).json()["online"],
        false
    );
    a.api.get("/api/v1/customers/c1").expect(200);
    let crm = app
        .host
        .client()
        .with_bearer(a_token["token"].as_str().unwrap());
    crm.get("/api/v1/agents").expect(200);
    assert_eq!(audit_actions(&a), a_audit);
}
