use crate::{App, ids, invalid_fields};
use edgechat_tests::json;

#[test]
fn a_minted_token_is_shown_once_and_listed_without_its_secret() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let reply = tenant.api.post("/api/v1/tokens", &json!({"name": "crm"}));
    let minted = reply.expect(201).json();
    let token = minted["token"].as_str().unwrap();
    assert!(token.starts_with("ec_") && token.len() > 40, "{token}");
    assert!(minted["id"].as_str().unwrap().starts_with("tok_"));
    assert_eq!(minted["name"], "crm");
    assert!(minted["created_at"].is_string());

    let list = tenant.api.get("/api/v1/tokens");
    list.expect(200);
    assert_eq!(ids(&list, "name"), ["default", "crm"]);
    assert!(
        !list.body.contains(token),
        "the list must never show a secret"
    );
    assert!(!list.body.contains(&tenant.token));
    for item in list.json()["items"].as_array().unwrap() {
        assert_eq!(
            item.as_object().unwrap().len(),
            3,
            "only id, name, created_at: {item}"
        );
    }
    // The new token works.
    app.host
        .client()
        .with_bearer(token)
        .get("/api/v1/tokens")
        .expect(200);
}

#[test]
fn a_revoked_token_fails_on_the_very_next_call() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let minted = tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "crm"}))
        .expect(201)
        .json();
    let crm = app
        .host
        .client()
        .with_bearer(minted["token"].as_str().unwrap());
    crm.get("/api/v1/agents").expect(200);

    let path = format!("/api/v1/tokens/{}", minted["id"].as_str().unwrap());
    tenant.api.delete(&path).expect(204);

    let reply = crm.get("/api/v1/agents");
    reply.expect_problem(401);
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        ids(&tenant.api.get("/api/v1/tokens").expect(200), "name"),
        ["default"]
    );
    // Revoking again: it no longer exists.
    tenant.api.delete(&path).expect_problem(404);
}

#[test]
fn a_token_can_revoke_itself_while_another_remains() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let list = tenant.api.get("/api/v1/tokens").expect(200).json();
    let own = list["items"][0]["id"].as_str().unwrap().to_string();
    tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "spare"}))
        .expect(201);
    tenant
        .api
        .delete(&format!("/api/v1/tokens/{own}"))
        .expect(204);
    tenant.api.get("/api/v1/tokens").expect_problem(401);
}

/// Revoking the only token would lock the account out for good (only
/// account creation mints the first one): 409, and nothing changes.
#[test]
fn the_last_token_cannot_be_revoked() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let list = tenant.api.get("/api/v1/tokens").expect(200).json();
    let own = list["items"][0]["id"].as_str().unwrap().to_string();
    let refused = tenant.api.delete(&format!("/api/v1/tokens/{own}"));
    let problem = refused.expect_problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("last"),
        "{problem}"
    );
    assert_eq!(
        ids(&tenant.api.get("/api/v1/tokens").expect(200), "name"),
        ["default"]
    );
}

/// The operator's way back for an account that lost its tokens: the admin
/// token mints a new one for an existing account, and nothing else can.
#[test]
fn the_operator_mints_a_token_for_an_existing_account() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let path = format!("/api/v1/accounts/{}/tokens", tenant.id);
    let body = json!({"name": "recovery"});
    tenant.api.post(&path, &body).expect_problem(401);
    app.anonymous().post(&path, &body).expect_problem(401);

    let reply = app.admin().post(&path, &body);
    assert_eq!(reply.expect(201).header("cache-control"), Some("no-store"));
    let issued = reply.json();
    let recovered = app
        .anonymous()
        .with_bearer(issued["token"].as_str().unwrap());
    assert_eq!(
        ids(&recovered.get("/api/v1/tokens").expect(200), "name"),
        ["default", "recovery"]
    );
    let audit = recovered.get("/api/v1/audit-logs").expect(200).json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "token.created"
                && entry["actor"] == "admin"
                && entry["target"] == format!("token:{}", issued["id"].as_str().unwrap())),
        "{audit}"
    );

    let unknown = "/api/v1/accounts/acc_00000000000000000000/tokens";
    app.admin().post(unknown, &body).expect_problem(404);
    assert_eq!(
        invalid_fields(&app.admin().post(&path, &json!({"name": 5}))),
        ["name"]
    );
}

#[test]
fn missing_and_malformed_tokens_are_unauthorized() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let forged = format!("{}x", &tenant.token[..tenant.token.len() - 1]);
    for client in [
        app.anonymous(),
        app.anonymous().with_bearer("nonsense"),
        app.anonymous().with_bearer(&forged),
    ] {
        let reply = client.get("/api/v1/tokens");
        reply.expect_problem(401);
        assert!(reply.header("www-authenticate").is_some());
    }
    let basic = app.anonymous().send(
        "GET",
        "/api/v1/tokens",
        &[("authorization", "Basic dXNlcjpwYXNz")],
        None,
    );
    basic.expect_problem(401);
}

#[test]
fn a_token_needs_a_name() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    assert_eq!(
        invalid_fields(&tenant.api.post("/api/v1/tokens", &json!({"name": 5}))),
        ["name"]
    );
    assert_eq!(
        ids(&tenant.api.get("/api/v1/tokens").expect(200), "name"),
        ["default"]
    );
}

#[test]
fn the_same_idempotency_key_mints_one_token_and_replays_it() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "mint-crm-1"),
    ];
    let body = br#"{"name":"crm"}"#;
    let first = tenant
        .api
        .send("POST", "/api/v1/tokens", &headers, Some(body));
    let second = tenant
        .api
        .send("POST", "/api/v1/tokens", &headers, Some(body));
    assert_eq!(first.expect(201).json(), second.expect(201).json());
    assert_eq!(
        ids(&tenant.api.get("/api/v1/tokens").expect(200), "name"),
        ["default", "crm"]
    );
    let different = tenant.api.send(
        "POST",
        "/api/v1/tokens",
        &headers,
        Some(br#"{"name":"other"}"#),
    );
    different.expect_problem(422);
    // Keys belong to an account: another account may use the same key.
    let other = app.tenant("Other");
    other
        .api
        .send("POST", "/api/v1/tokens", &headers, Some(body))
        .expect(201);
}

#[test]
fn a_failed_request_does_not_burn_its_idempotency_key() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "retry-me"),
    ];
    tenant
        .api
        .send("POST", "/api/v1/tokens", &headers, Some(b"{}"))
        .expect_problem(400);
    tenant
        .api
        .send(
            "POST",
            "/api/v1/tokens",
            &headers,
            Some(br#"{"name":"crm"}"#),
        )
        .expect(201);
}
