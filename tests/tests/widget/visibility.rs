use crate::{App, invalid_fields};
use edgechat_tests::json;

#[test]
fn with_nothing_configured_the_chat_is_visible() {
    let app = App::start();
    let tenant = app.tenant();
    let answer = crate::visibility(&app, &tenant, "visitor=v1&time_on_page=3&visit=1");
    assert_eq!(answer["visible"], true);
    assert_eq!(answer["reason"], "no_rules");
    assert_eq!(answer["matched_rules"], json!([]));
    assert_eq!(answer["recheck_after_seconds"], 30);
}

#[test]
fn action_rules_decide_and_say_when_to_ask_again() {
    let app = App::start();
    let tenant = app.tenant();
    let rules = json!([
        {"id": "staffed", "conditions": [{"type": "agents_online"}, {"type": "agents_available"}]},
        {"id": "engaged", "conditions": [{"type": "time_on_page", "seconds": 30}, {"type": "visit", "at_least": 2}]}
    ]);
    let stored = tenant
        .api
        .put("/api/v1/action-rules", &rules)
        .expect(200)
        .json();
    assert_eq!(stored["rules"], rules);
    assert_eq!(
        tenant.api.get("/api/v1/action-rules").expect(200).json()["rules"],
        rules
    );

    let early = crate::visibility(&app, &tenant, "visitor=v1&time_on_page=12&visit=2");
    assert_eq!(
        (early["visible"].clone(), early["reason"].clone()),
        (json!(false), json!("no_rule_matched"))
    );
    assert_eq!(
        early["recheck_after_seconds"], 18,
        "the time-on-page threshold is 18 s away"
    );
    let engaged = crate::visibility(&app, &tenant, "visitor=v1&time_on_page=31&visit=2");
    assert_eq!(engaged["matched_rules"], json!(["engaged"]));

    tenant
        .api
        .put(
            "/api/v1/agents/alice",
            &json!({"name": "Alice", "online": true, "available": true}),
        )
        .expect(201);
    let staffed = crate::visibility(&app, &tenant, "visitor=v1&time_on_page=0&visit=1");
    assert_eq!(staffed["visible"], true);
    assert_eq!(staffed["matched_rules"], json!(["staffed"]));
    tenant
        .api
        .put(
            "/api/v1/agents/alice/status",
            &json!({"online": true, "available": false}),
        )
        .expect(200);
    assert_eq!(
        crate::visibility(&app, &tenant, "visitor=v1")["visible"],
        false
    );

    tenant
        .api
        .put("/api/v1/action-rules", &json!({"rules": []}))
        .expect(200);
    assert_eq!(crate::visibility(&app, &tenant, "")["reason"], "no_rules");
}

#[test]
fn overrides_win_customer_over_account_and_expire() {
    let app = App::start();
    let tenant = app.tenant();
    assert_eq!(
        tenant.api.get("/api/v1/visibility").expect(200).json()["mode"],
        "auto"
    );
    // Long enough that a busy machine still reads the override before it
    // ends; the expiry is then waited for, not timed.
    let until = edgechat_time_in(15);
    let set = tenant
        .api
        .put(
            "/api/v1/visibility",
            &json!({"mode": "hide", "until": until}),
        )
        .expect(200)
        .json();
    assert_eq!(set["active"], true);
    let hidden = crate::visibility(&app, &tenant, "visitor=v1");
    assert_eq!(
        (hidden["visible"].clone(), hidden["reason"].clone()),
        (json!(false), json!("account_override"))
    );
    let recheck = hidden["recheck_after_seconds"].as_u64().unwrap();
    assert!(
        (1..=15).contains(&recheck),
        "recheck at the override's until: {recheck}"
    );

    let v1 = tenant.visitor("v1");
    tenant
        .api
        .put(
            &format!("/api/v1/customers/{v1}/visibility"),
            &json!({"mode": "show"}),
        )
        .expect(200);
    assert_eq!(
        tenant
            .api
            .get(&format!("/api/v1/customers/{v1}/visibility"))
            .expect(200)
            .json()["mode"],
        "show"
    );
    assert_eq!(
        crate::visibility(&app, &tenant, "visitor=v1")["reason"],
        "customer_override"
    );
    assert_eq!(
        crate::visibility(&app, &tenant, "visitor=v2")["reason"],
        "account_override"
    );

    // After `until` the override is over (waited for, with a generous deadline).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let after = loop {
        let now = crate::visibility(&app, &tenant, "visitor=v2");
        if now["reason"] != "account_override" || std::time::Instant::now() > deadline {
            break now;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert_eq!(
        (after["visible"].clone(), after["reason"].clone()),
        (json!(true), json!("no_rules"))
    );
    assert_eq!(
        tenant.api.get("/api/v1/visibility").expect(200).json()["active"],
        false
    );
}

/// An RFC 3339 time `seconds` from now (from the system clock).
fn edgechat_time_in(seconds: i64) -> String {
    use edgechat::time::{Clock, SystemClock};
    SystemClock.now().plus_millis(seconds * 1_000).to_string()
}

#[test]
fn invalid_rules_overrides_and_queries_are_refused_naming_the_field() {
    let app = App::start();
    let tenant = app.tenant();
    let bad_zone = json!([{"id": "a", "conditions": [{"type": "opening_hours", "timezone": "Mars/Olympus", "weekly": {}}]}]);
    assert_eq!(
        invalid_fields(&tenant.api.put("/api/v1/action-rules", &bad_zone)),
        ["[0].conditions[0].timezone"]
    );
    let bad_window = json!({"rules": [{"id": "a", "conditions": [{"type": "opening_hours", "timezone": "Europe/Vienna", "weekly": {"mon": [["9", "17:00"]]}}]}]});
    assert_eq!(
        invalid_fields(&tenant.api.put("/api/v1/action-rules", &bad_window)),
        ["rules[0].conditions[0].weekly.mon[0][0]"]
    );
    assert_eq!(
        invalid_fields(
            &tenant
                .api
                .put("/api/v1/visibility", &json!({"mode": "maybe"}))
        ),
        ["mode"]
    );
    assert_eq!(
        invalid_fields(&tenant.api.put(
            "/api/v1/visibility",
            &json!({"mode": "hide", "until": "2001-01-01T00:00:00Z"})
        )),
        ["until"]
    );
    assert_eq!(
        invalid_fields(&tenant.api.put(
            "/api/v1/customers/a%20b/visibility",
            &json!({"mode": "hide"})
        )),
        ["customer_id"]
    );
    let public = app.public();
    assert_eq!(
        invalid_fields(&public.get("/v1/widget/visibility")),
        ["site"]
    );
    assert_eq!(
        invalid_fields(&public.get("/v1/widget/visibility?site=nope")),
        ["site"]
    );
    let query = format!(
        "/v1/widget/visibility?site={}&time_on_page=-3",
        tenant.site_key
    );
    assert_eq!(invalid_fields(&public.get(&query)), ["time_on_page"]);
    let query = format!(
        "/v1/widget/visibility?site={}&visitor=a%2Fb",
        tenant.site_key
    );
    assert_eq!(invalid_fields(&public.get(&query)), ["visitor"]);
    public
        .get("/v1/widget/visibility?site=site_000000000000000000000000")
        .expect_problem(404);
}

#[test]
fn every_integration_route_needs_a_token_and_names_its_methods() {
    let app = App::start();
    let anonymous = app.public();
    for path in [
        "/api/v1/action-rules",
        "/api/v1/visibility",
        "/api/v1/customers/c1/visibility",
        "/api/v1/widget/config",
        "/api/v1/widget/identity-secret",
    ] {
        let reply = anonymous.get(path);
        reply.expect_problem(401);
        assert!(reply.header("www-authenticate").is_some(), "{path}");
        let reply = anonymous.send("POST", path, &[], None);
        let problem = reply.expect_problem(405);
        assert!(
            reply.header("allow").is_some_and(|a| a.contains("GET")),
            "{path}: {problem}"
        );
    }
    let tenant = app.tenant();
    let reply = tenant.api.send(
        "PUT",
        "/api/v1/visibility",
        &[("content-type", "text/plain")],
        Some(b"hide"),
    );
    reply.expect_problem(415);
    let reply = tenant.api.send(
        "PUT",
        "/api/v1/action-rules",
        &[("content-type", "application/json")],
        Some(b"[{"),
    );
    reply.expect_problem(400);
    let huge = vec![b' '; 70 * 1024];
    tenant
        .api
        .send(
            "PUT",
            "/api/v1/action-rules",
            &[("content-type", "application/json")],
            Some(&huge),
        )
        .expect_problem(413);
    tenant.api.get("/api/v1/widget/nothing").expect_problem(404);
    let reply = anonymous.send("DELETE", "/v1/widget/visibility", &[], None);
    reply.expect_problem(405);
    assert_eq!(reply.header("allow"), Some("GET"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn public_routes_answer_cors_preflights() {
    let app = App::start();
    for path in [
        "/v1/widget/visibility",
        "/v1/widget/config",
        "/v1/widget/identify",
    ] {
        let reply = app.public().send(
            "OPTIONS",
            path,
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        );
        reply.expect(204);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert!(
            reply
                .header("access-control-allow-headers")
                .is_some_and(|h| h.contains("content-type"))
        );
        assert!(
            reply
                .header("access-control-allow-methods")
                .is_some_and(|h| h.contains("POST"))
        );
    }
}
