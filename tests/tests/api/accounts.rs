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

/// An Idempotency-Key that is not visible ASCII is refused, never ignored:
/// a retry would otherwise create twice. Not UTF-8 at all (Latin-1 bytes),
/// Spin itself fails the request before any component runs, and so does the
/// local runtime; UTF-8 but not ASCII, the app answers 400.
#[test]
fn a_non_ascii_idempotency_key_never_creates() {
    use std::io::{Read, Write};
    let app = App::start();
    let addr = app.host.base.trim_start_matches("http://").to_string();
    let post = |key: &[u8]| -> String {
        let body = br#"{"name":"Acme"}"#;
        let mut request = format!(
            "POST /api/v1/accounts HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            edgechat_tests::ADMIN_TOKEN,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(b"idempotency-key: ");
        request.extend_from_slice(key);
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(&request).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let latin1 = post(b"caf\xe9");
    assert!(latin1.starts_with("HTTP/1.1 500"), "{latin1}");
    let utf8 = post("café".as_bytes());
    assert!(utf8.starts_with("HTTP/1.1 400"), "{utf8}");
    assert!(utf8.contains("Idempotency-Key"), "{utf8}");
}

#[test]
fn a_replayed_creation_is_not_cacheable_and_json_is_not_sniffed() {
    let app = App::start();
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "create-once"),
    ];
    let body = br#"{"name":"Acme"}"#;
    let first = app
        .admin()
        .send("POST", "/api/v1/accounts", &headers, Some(body));
    let replay = app
        .admin()
        .send("POST", "/api/v1/accounts", &headers, Some(body));
    for reply in [&first, &replay] {
        reply.expect(201);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let problem = app.anonymous().get("/api/v1/tokens");
    problem.expect_problem(401);
    assert_eq!(problem.header("x-content-type-options"), Some("nosniff"));
}
