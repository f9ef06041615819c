//! Every error class on every route: problem+json with a detail.

use crate::{App, audit_actions};
use edgechat_tests::ADMIN_TOKEN;

/// Every API route (method, concrete path, takes a body).
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/api/v1/accounts", true),
    ("POST", "/api/v1/tokens", true),
    ("GET", "/api/v1/tokens", false),
    ("DELETE", "/api/v1/tokens/tok_00000000000000000000", false),
    ("PUT", "/api/v1/agents", true),
    ("GET", "/api/v1/agents", false),
    ("PUT", "/api/v1/agents/alice", true),
    ("GET", "/api/v1/agents/alice", false),
    ("DELETE", "/api/v1/agents/alice", false),
    ("PUT", "/api/v1/agents/alice/status", true),
    ("GET", "/api/v1/customers?external_id=1", false),
    ("PUT", "/api/v1/customers/c1", true),
    ("GET", "/api/v1/customers/c1", false),
    ("GET", "/api/v1/audit-logs", false),
];

#[test]
fn every_route_is_401_without_a_token() {
    let app = App::start();
    app.tenant("Acme");
    let json = [("content-type", "application/json")];
    for (method, path, has_body) in ROUTES {
        let body = has_body.then_some(&b"{}"[..]);
        let reply = app.anonymous().send(method, path, &json, body);
        reply.expect_problem(401);
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{method} {path} needs WWW-Authenticate: Bearer"
        );
    }
}

#[test]
fn every_body_route_answers_415_400_and_413() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let big = vec![b' '; 64 * 1024 + 1];
    for (method, path, has_body) in ROUTES.iter().filter(|r| r.2) {
        let _ = has_body;
        let client = if *path == "/api/v1/accounts" {
            app.anonymous().with_bearer(ADMIN_TOKEN)
        } else {
            tenant.api.clone()
        };
        let text = client.send(method, path, &[("content-type", "text/plain")], Some(b"{}"));
        text.expect_problem(415);
        let none = client.send(method, path, &[], Some(b"{}"));
        none.expect_problem(415);
        let bad = client.send(
            method,
            path,
            &[("content-type", "application/json")],
            Some(b"{\"name\":"),
        );
        bad.expect_problem(400);
        let large = client.send(
            method,
            path,
            &[("content-type", "application/json")],
            Some(&big),
        );
        large.expect_problem(413);
    }
}

#[test]
fn rejected_requests_change_nothing() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let before = audit_actions(&tenant);
    let json = [("content-type", "application/json")];
    for (method, path, has_body) in ROUTES.iter().filter(|r| r.2 && r.1 != "/api/v1/accounts") {
        let _ = has_body;
        tenant
            .api
            .send(method, path, &json, Some(b"[["))
            .expect_problem(400);
        tenant
            .api
            .send(method, path, &[("content-type", "text/plain")], Some(b"{}"))
            .expect_problem(415);
    }
    assert_eq!(
        audit_actions(&tenant),
        before,
        "nothing was audited, so nothing changed"
    );
    tenant.api.get("/api/v1/agents/alice").expect_problem(404);
    tenant.api.get("/api/v1/customers/c1").expect_problem(404);
}

/// One body, one meaning: a key given twice (which a proxy may read as the
/// first and we would read as the last) or a U+0000 in text is a 400 that
/// names the field, on every route that takes a body, and changes nothing.
#[test]
fn duplicate_keys_and_nul_characters_are_refused_by_field() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let before = audit_actions(&tenant);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "PUT",
            "/api/v1/agents/alice",
            r#"{"name": "Alice", "name": "Mallory"}"#,
            "name",
        ),
        (
            "PUT",
            "/api/v1/agents",
            r#"{"agents": [{"id": "a", "name": "A", "id": "b"}]}"#,
            "agents[0].id",
        ),
        (
            "PUT",
            "/api/v1/agents/alice",
            r#"{"name": "Al\u0000ice"}"#,
            "name",
        ),
        (
            "PUT",
            "/api/v1/customers/c1",
            r#"{"id": 1, "labels": ["vip", "a\u0000b"]}"#,
            "labels[1]",
        ),
        ("PUT", "/api/v1/customers/c1", r#"{"id": 1, "id": 2}"#, "id"),
        (
            "POST",
            "/api/v1/tokens",
            r#"{"name": "ci", "name": "other"}"#,
            "name",
        ),
        ("POST", "/api/v1/tokens", r#"{"name": "c\u0000i"}"#, "name"),
    ];
    let json = [("content-type", "application/json")];
    for (method, path, body, field) in cases {
        let reply = tenant.api.send(method, path, &json, Some(body.as_bytes()));
        reply.expect_problem(400);
        assert_eq!(reply.invalid_fields(), [*field], "{method} {path} {body}");
    }
    let widget = app.anonymous().send(
        "POST",
        "/v1/widget/visitors",
        &json,
        Some(format!(r#"{{"site": "{0}", "site": "{0}"}}"#, tenant.site_key).as_bytes()),
    );
    assert_eq!(widget.invalid_fields(), ["site"]);
    assert_eq!(audit_actions(&tenant), before, "nothing changed");
    tenant.api.get("/api/v1/agents/alice").expect_problem(404);
    tenant.api.get("/api/v1/customers/c1").expect_problem(404);
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let cases = [
        ("/api/v1/accounts", "POST"),
        ("/api/v1/tokens", "GET, POST"),
        ("/api/v1/tokens/tok_00000000000000000000", "DELETE"),
        ("/api/v1/agents", "GET, PUT"),
        ("/api/v1/agents/alice", "DELETE, GET, PUT"),
        ("/api/v1/agents/alice/status", "PUT"),
        ("/api/v1/customers", "GET"),
        ("/api/v1/customers/c1", "GET, PUT"),
        ("/api/v1/audit-logs", "GET"),
        ("/openapi.json", "GET"),
    ];
    for (path, allow) in cases {
        let reply = tenant.api.send("PATCH", path, &[], None);
        reply.expect_problem(405);
        assert_eq!(reply.header("allow"), Some(allow), "PATCH {path}");
    }
}

#[test]
fn unknown_paths_below_a_resource_are_404_problems() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    for path in [
        "/api/v1/tokens/tok_00000000000000000000/extra",
        "/api/v1/agents/alice/status/extra",
        "/api/v1/agents/alice/nope",
        "/api/v1/customers/c1/nope/deeper",
    ] {
        tenant.api.get(path).expect_problem(404);
    }
}

/// A path that no component serves is a problem+json 404 too (the `web`
/// component is the catch-all route), not the runtime's plain text.
#[test]
fn unrouted_paths_are_404_problems() {
    let app = App::start();
    for path in ["/", "/nope", "/api", "/api/v2/agents", "/widget.js/x"] {
        let problem = app.anonymous().get(path).expect_problem(404);
        assert!(
            problem["detail"].as_str().unwrap().contains(path),
            "{problem}"
        );
    }
}
