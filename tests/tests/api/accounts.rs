use crate::{App, invalid_fields};
use edgechat_tests::json;

#[test]
fn the_operator_creates_an_account_with_a_site_key_and_an_api_token() {
    let app = App::start();
    let reply = app
        .admin()
        .post("/api/v1/accounts", &json!({"name": "Acme"}));
    let body = reply.expect(201).json();
    assert_eq!(body["account"]["name"], "Acme");
    assert!(body["account"]["id"].as_str().unwrap().starts_with("acc_"));
    assert!(
        body["account"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(body["site_key"].as_str().unwrap().starts_with("site_"));
    let token = body["api_token"].as_str().unwrap();
    assert!(token.starts_with("ec_"), "{token}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // The token works at once.
    app.host
        .client()
        .with_bearer(token)
        .get("/api/v1/tokens")
        .expect(200);
}

#[test]
fn creating_an_account_needs_the_admin_token() {
    let app = App::start();
    let body = json!({"name": "Acme"});
    for client in [app.anonymous(), app.anonymous().with_bearer("wrong")] {
        let reply = client.post("/api/v1/accounts", &body);
        reply.expect_problem(401);
        assert!(
            reply
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer")
        );
    }
    // An API token is not an admin token.
    let tenant = app.tenant("Acme");
    tenant
        .api
        .post("/api/v1/accounts", &body)
        .expect_problem(401);
}

#[test]
fn an_account_needs_a_name() {
    let app = App::start();
    let reply = app.admin().post("/api/v1/accounts", &json!({"name": ""}));
    assert_eq!(invalid_fields(&reply), ["name"]);
    let reply = app.admin().post("/api/v1/accounts", &json!({}));
    assert_eq!(invalid_fields(&reply), ["name"]);
}

#[test]
fn the_same_idempotency_key_creates_one_account() {
    let app = App::start();
    let admin = app.admin();
    let body = br#"{"name":"Acme"}"#;
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "create-acme"),
    ];
    let first = admin.send("POST", "/api/v1/accounts", &headers, Some(body));
    let second = admin.send("POST", "/api/v1/accounts", &headers, Some(body));
    first.expect(201);
    second.expect(201);
    assert_eq!(
        first.json(),
        second.json(),
        "a replay answers the same response"
    );
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let other = admin.send(
        "POST",
        "/api/v1/accounts",
        &headers,
        Some(br#"{"name":"Other"}"#),
    );
    other.expect_problem(422);
}
