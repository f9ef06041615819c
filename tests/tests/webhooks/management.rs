//! Managing endpoints: the secret shown once, paging, changes, limits,
//! isolation, audit, and bad input refused without a trace.

use crate::{endpoint, start_app};
use edgechat_tests::receiver::Receiver;
use edgechat_tests::{HostOptions, json};

#[test]
fn an_endpoint_shows_its_secret_once_and_every_call_is_audited() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let created = tenant
        .api
        .post(
            "/api/v1/webhooks",
            &json!({"url": receiver.url("a"), "events": ["message.created"], "description": "CRM"}),
        )
        .expect(201)
        .json();
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["events"], json!(["message.created"]));
    let path = format!("/api/v1/webhooks/{id}");
    let shown = tenant.api.get(&path).expect(200).body.clone();
    let listed = tenant.api.get("/api/v1/webhooks").expect(200).body.clone();
    for text in [&shown, &listed] {
        assert!(
            !text.contains(&secret) && !text.contains("whsec_"),
            "{text}"
        );
    }
    let patched = tenant
        .api
        .patch(
            &path,
            &json!({"events": null, "enabled": false, "description": null}),
        )
        .expect(200)
        .json();
    assert_eq!(
        (patched["events"].clone(), patched["enabled"].clone()),
        (json!(null), json!(false))
    );
    assert_eq!(patched["description"], json!(null));
    let rotated = tenant
        .api
        .post(&format!("{path}/rotate-secret"), &json!({}))
        .expect(200)
        .json();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    receiver.configure("a", &[new_secret], json!({"status": 200}));
    let tested = tenant
        .api
        .post(&format!("{path}/test"), &json!({}))
        .expect(200)
        .json();
    assert_eq!(tested["status"], "succeeded", "{tested}");
    tenant
        .api
        .post(
            &format!("{path}/replay"),
            &json!({"since": "2020-01-01T00:00:00Z"}),
        )
        .expect(202);
    tenant.api.delete(&path).expect(204);
    tenant.api.get(&path).expect_problem(404);
    let actions: Vec<String> = tenant
        .api
        .get("/api/v1/audit-logs?type=webhook")
        .expect(200)
        .items()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.created",
            "webhook.updated",
            "webhook.secret_rotated",
            "webhook.tested",
            "webhook.replayed",
            "webhook.deleted"
        ]
    );
}

#[test]
fn bad_input_is_a_problem_naming_the_field_and_changes_nothing() {
    // The production defaults: https only, no private addresses.
    let host = HostOptions::app().start();
    let tenant = host.tenant("Acme");
    let long = "x".repeat(501);
    let cases = [
        (json!({"url": "http://hooks.example.com/"}), "url"),
        (json!({"url": "https://127.0.0.1/"}), "url"),
        (json!({"url": "https://localhost:8443/"}), "url"),
        (json!({"url": "https://169.254.169.254/latest"}), "url"),
        (json!({"url": "https://[::1]/"}), "url"),
        (json!({"url": "ftp://hooks.example.com/"}), "url"),
        // Accepted only as https://xn--bcher-kva.example/ (see urls.rs).
        (json!({"url": "https://bücher.example/"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": 5}), "url"),
        (json!({}), "url"),
        (
            json!({"url": "https://hooks.example.com/", "events": ["message.sent"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": "message.created"}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/", "description": long}),
            "description",
        ),
        (
            json!({"url": "https://hooks.example.com/", "event_types": ["message.created"]}),
            "event_types",
        ),
    ];
    for (body, field) in cases {
        let reply = tenant.api.post("/api/v1/webhooks", &body);
        assert!(
            reply.invalid_fields().contains(&field.to_string()),
            "{body}: {}",
            reply.body
        );
    }
    let unknown = tenant.api.post(
        "/api/v1/webhooks",
        &json!({"url": "https://hooks.example.com/", "events": ["message.sent"]}),
    );
    assert!(
        unknown.body.contains("message.sent"),
        "the unknown type is named: {}",
        unknown.body
    );
    tenant
        .api
        .send(
            "POST",
            "/api/v1/webhooks",
            &[("content-type", "text/plain")],
            Some(b"{}"),
        )
        .expect_problem(415);
    assert!(
        tenant
            .api
            .get("/api/v1/webhooks")
            .expect(200)
            .items()
            .is_empty()
    );
    assert!(
        tenant
            .api
            .get("/api/v1/audit-logs?type=webhook")
            .expect(200)
            .items()
            .is_empty()
    );

    // A good one, then bad changes to it: refused, and it stays as it was.
    let created = tenant
        .api
        .post(
            "/api/v1/webhooks",
            &json!({"url": "https://hooks.example.com/in"}),
        )
        .expect(201)
        .json();
    let path = format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"url": "http://hooks.example.com/"}), "url"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"enabled": null}), "enabled"),
        (json!({"events": ["nope"]}), "events[0]"),
        (json!({"secret": "whsec_x"}), "secret"),
    ] {
        assert!(
            tenant
                .api
                .patch(&path, &body)
                .invalid_fields()
                .contains(&field.to_string()),
            "{body}"
        );
    }
    let now = tenant.api.get(&path).expect(200).json();
    assert_eq!(now["url"], "https://hooks.example.com/in");
    assert_eq!(now["enabled"], true);
    assert_eq!(
        tenant
            .api
            .get("/api/v1/audit-logs?type=webhook")
            .expect(200)
            .items()
            .len(),
        1
    );
    tenant
        .api
        .post(&format!("{path}/replay"), &json!({"since": "yesterday"}))
        .invalid_fields();
    tenant
        .api
        .get(&format!("{path}/deliveries?status=maybe"))
        .invalid_fields();
    tenant
        .api
        .post(&format!("{path}/deliveries/99/retry"), &json!({}))
        .expect_problem(404);
}

#[test]
fn an_account_has_at_most_twenty_endpoints_paged_oldest_first() {
    let host = HostOptions::app().start();
    let tenant = host.tenant("Acme");
    for i in 0..20 {
        tenant
            .api
            .post(
                "/api/v1/webhooks",
                &json!({"url": format!("https://hooks.example.com/{i}")}),
            )
            .expect(201);
    }
    let refused = tenant.api.post(
        "/api/v1/webhooks",
        &json!({"url": "https://hooks.example.com/21"}),
    );
    assert!(
        refused.expect_problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("20")
    );
    let first = tenant.api.get("/api/v1/webhooks?limit=15");
    first.expect(200);
    let rest = tenant.api.get(&format!(
        "/api/v1/webhooks?limit=15&cursor={}",
        first.next_cursor()
    ));
    rest.expect(200);
    let urls: Vec<String> = first
        .items()
        .iter()
        .chain(rest.items().iter())
        .map(|e| e["url"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..20)
        .map(|i| format!("https://hooks.example.com/{i}"))
        .collect();
    assert_eq!(urls, expected);
}

#[test]
fn another_accounts_endpoint_is_not_found_whatever_the_call() {
    let host = start_app();
    let receiver = Receiver::start();
    let (a, b) = (host.tenant("A"), host.tenant("B"));
    let (id, _) = endpoint(&a, &receiver, "a", json!({}));
    let path = format!("/api/v1/webhooks/{id}");
    b.api.get(&path).expect_problem(404);
    b.api
        .patch(&path, &json!({"enabled": false}))
        .expect_problem(404);
    b.api
        .post(&format!("{path}/rotate-secret"), &json!({}))
        .expect_problem(404);
    b.api
        .post(&format!("{path}/test"), &json!({}))
        .expect_problem(404);
    b.api.get(&format!("{path}/deliveries")).expect_problem(404);
    b.api
        .post(
            &format!("{path}/replay"),
            &json!({"since": "2020-01-01T00:00:00Z"}),
        )
        .expect_problem(404);
    b.api.delete(&path).expect_problem(404);
    assert!(b.api.get("/api/v1/webhooks").expect(200).items().is_empty());
    assert_eq!(a.api.get(&path).expect(200).json()["enabled"], true);
    assert!(
        receiver.received("a").is_empty(),
        "B's test call sent nothing"
    );
}

#[test]
fn dispatch_is_for_the_operator_only() {
    let host = HostOptions::app().start();
    let tenant = host.tenant("Acme");
    tenant
        .api
        .send("POST", "/api/v1/webhook-dispatch", &[], None)
        .expect_problem(401);
    host.client()
        .send("POST", "/api/v1/webhook-dispatch", &[], None)
        .expect_problem(401);
    let ran = host
        .admin()
        .send("POST", "/api/v1/webhook-dispatch?wait=0", &[], None)
        .expect(200)
        .json();
    assert_eq!(ran["attempts"], 0);
    host.admin()
        .send("POST", "/api/v1/webhook-dispatch?wait=600", &[], None)
        .invalid_fields();
}

#[test]
fn without_a_token_every_call_is_401_before_its_body_is_read() {
    let host = HostOptions::app().start();
    let tenant = host.tenant("Acme");
    let created = tenant
        .api
        .post(
            "/api/v1/webhooks",
            &json!({"url": "https://hooks.example.com/in"}),
        )
        .expect(201)
        .json();
    let path = format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap());
    let stranger = host.client();
    for (method, route, body) in [
        ("POST", format!("{path}/replay"), json!({"since": "0"})),
        ("POST", format!("{path}/rotate-secret"), json!({"x": 1})),
        ("POST", format!("{path}/test"), json!({"x": 1})),
        (
            "POST",
            format!("{path}/deliveries/1/retry"),
            json!({"x": 1}),
        ),
        ("PATCH", path.clone(), json!({"url": 5})),
        ("POST", "/api/v1/webhooks".to_string(), json!({"url": 5})),
    ] {
        stranger.json(method, &route, &body).expect_problem(401);
    }
}
