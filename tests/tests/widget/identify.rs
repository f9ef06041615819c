use crate::{App, invalid_fields};
use edgechat_tests::{Reply, Tenant, Value, json};

fn hmac_hex(secret: &str, message: &str) -> String {
    // The test computes the hash as a business's server would, with openssl.
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret, "-r"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(message.as_bytes())?;
            child.wait_with_output()
        })
        .expect("openssl");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The business's backend tags john (external id 123) and shows him the
/// widget whatever the rules say.
fn tag_john(tenant: &Tenant) -> Value {
    let tags = json!({"id": 123, "email": "john.doe@example.com", "firstname": "John", "lastname": "Doe", "labels": ["crm"]});
    tenant.api.put("/api/v1/customers/john", &tags).expect(201);
    tenant
        .api
        .put(
            "/api/v1/customers/john/visibility",
            &json!({"mode": "show"}),
        )
        .expect(200);
    tenant.api.get("/api/v1/customers/john").expect(200).json()
}

fn identify(app: &App, body: &Value) -> Reply {
    app.public().post("/v1/widget/identify", body)
}

/// A stranger holding only the site key cannot overwrite a tagged customer,
/// learn customer ids, borrow an override or chat as someone else: a typed
/// visitor id is refused everywhere, with one wording for every id.
#[test]
fn a_stranger_cannot_act_as_or_probe_a_tagged_customer() {
    let app = App::start();
    let tenant = app.tenant();
    let john = tag_john(&tenant);
    let site = &tenant.site_key;
    let attack = json!({"site": site, "visitor": "john", "id": 123,
        "email": "attacker@evil.example", "firstname": "Mallory"});
    assert_eq!(invalid_fields(&identify(&app, &attack)), ["visitor"]);
    let chat = app.public().post(
        "/v1/widget/conversations",
        &json!({"site": site, "visitor": "john", "text": "hi"}),
    );
    assert_eq!(invalid_fields(&chat), ["visitor"]);
    let probe = |visitor: &str| {
        let reply = app.public().get(&format!(
            "/v1/widget/visibility?site={site}&visitor={visitor}"
        ));
        reply.expect_problem(400);
        reply.json()["errors"].clone()
    };
    assert_eq!(probe("john"), probe("nobody-at-all"), "no oracle");

    // With a minted id, an unverified identify is a hint: it links no one.
    let stranger = tenant.visitor("stranger");
    let hint = json!({"site": site, "visitor": stranger, "id": 123,
        "email": "attacker@evil.example", "firstname": "Mallory"});
    let answer = identify(&app, &hint).expect(200).json();
    assert_eq!(answer, json!({"verified": false}), "no customer id is told");
    let seen = crate::visibility(&app, &tenant, "visitor=stranger");
    assert_ne!(seen["reason"], "customer_override", "{seen}");
    let labels = json!({"site": site, "visitor": stranger, "id": 123, "labels": ["vip"]});
    assert_eq!(invalid_fields(&identify(&app, &labels)), ["labels"]);
    assert_eq!(
        tenant.api.get("/api/v1/customers/john").expect(200).json(),
        john,
        "john's tags are the backend's alone"
    );

    // The stranger's chat is its own, with the claim shown as unverified.
    let started = app
        .public()
        .post(
            "/v1/widget/conversations",
            &json!({"site": site, "visitor": stranger, "text": "I am John"}),
        )
        .expect(201)
        .json();
    assert_eq!(started["customer_id"], stranger.as_str());
    let conversation = tenant
        .api
        .get(&format!(
            "/api/v1/conversations/{}",
            started["conversation_id"].as_str().unwrap()
        ))
        .expect(200)
        .json();
    assert_eq!(conversation["customer_id"], stranger.as_str());
    assert_eq!(conversation["identity"]["verified"], false);
    assert_eq!(conversation["identity"]["email"], "attacker@evil.example");
    assert_eq!(
        tenant.api.get("/api/v1/customers/john").expect(200).json(),
        john
    );
}

/// With an identity secret, the right hash proves "this visitor is the
/// customer with external id X": the chat is X's, X's override applies,
/// and X's tags still never change. A hash for another id changes nothing
/// of john.
#[test]
fn a_verified_identify_ties_the_visitor_to_the_tagged_customer() {
    let app = App::start();
    let tenant = app.tenant();
    let john = tag_john(&tenant);
    let site = &tenant.site_key;
    let secret = "s3cret-identity-key-0123456789";
    let status = tenant
        .api
        .put("/api/v1/widget/identity-secret", &json!({"secret": secret}));
    status.expect(200);
    assert!(!status.body.contains(secret));
    let shown = tenant.api.get("/api/v1/widget/identity-secret");
    shown.expect(200);
    assert_eq!(shown.json()["configured"], true);
    assert!(
        !shown.body.contains(secret),
        "the secret is never shown again"
    );

    // A visitor with a valid hash for its own id 999 aims at john.
    let own = hmac_hex(secret, "999");
    let aimed = json!({"site": site, "visitor": "john", "id": 999, "hash": own,
        "email": "attacker@evil.example"});
    assert_eq!(invalid_fields(&identify(&app, &aimed)), ["visitor"]);
    let mallory = tenant.visitor("mallory");
    let mut as_999 = aimed.clone();
    as_999["visitor"] = json!(mallory);
    assert_eq!(identify(&app, &as_999).expect(200).json()["verified"], true);
    assert_eq!(
        tenant.api.get("/api/v1/customers/john").expect(200).json(),
        john
    );

    // John's own browser, with the hash his page was rendered with.
    let browser = tenant.visitor("johns-laptop");
    let body = |hash: Option<String>| {
        let mut b =
            json!({"site": site, "visitor": browser, "id": 123, "email": "typo@example.com"});
        if let Some(h) = hash {
            b["hash"] = json!(h);
        }
        b
    };
    identify(&app, &body(None)).expect_problem(401);
    identify(&app, &body(Some(hmac_hex(secret, "124")))).expect_problem(401);
    let verified = identify(&app, &body(Some(hmac_hex(secret, "123"))))
        .expect(200)
        .json();
    assert_eq!(verified, json!({"verified": true}));
    assert_eq!(
        crate::visibility(&app, &tenant, "visitor=johns-laptop")["reason"],
        "customer_override"
    );
    let started = app
        .public()
        .post(
            "/v1/widget/conversations",
            &json!({"site": site, "visitor": browser, "text": "hello"}),
        )
        .expect(201)
        .json();
    assert_eq!(started["customer_id"], "john", "the agent sees john's tags");
    assert_eq!(
        tenant.api.get("/api/v1/customers/john").expect(200).json(),
        john,
        "the page's email claim is not copied into the tags"
    );
    let audit = tenant
        .api
        .get("/api/v1/audit-logs?type=widget")
        .expect(200)
        .json();
    let refused = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "widget.identify_refused")
        .count();
    assert_eq!(refused, 2, "{audit}");

    tenant
        .api
        .delete("/api/v1/widget/identity-secret")
        .expect(204);
    assert_eq!(
        identify(&app, &body(None)).expect(200).json()["verified"],
        false
    );
    assert_eq!(
        invalid_fields(&tenant.api.put(
            "/api/v1/widget/identity-secret",
            &json!({"secret": "short"})
        )),
        ["secret"]
    );
}

/// The widget's way to get an id: minted per call, refused for an unknown
/// site, never cached.
#[test]
fn visitor_ids_are_minted_per_browser() {
    let app = App::start();
    let tenant = app.tenant();
    let mint = || {
        app.public()
            .post("/v1/widget/visitors", &json!({"site": tenant.site_key}))
    };
    let first = mint();
    assert_eq!(first.expect(201).header("cache-control"), Some("no-store"));
    assert_eq!(first.header("access-control-allow-origin"), Some("*"));
    let second = mint().expect(201).json();
    assert_ne!(first.json()["visitor"], second["visitor"]);
    assert!(
        first.json()["visitor"]
            .as_str()
            .unwrap()
            .starts_with("vis_"),
        "{}",
        first.body
    );
    app.public()
        .post(
            "/v1/widget/visitors",
            &json!({"site": "site_000000000000000000000000"}),
        )
        .expect_problem(404);
    assert_eq!(
        invalid_fields(&app.public().post("/v1/widget/visitors", &json!({}))),
        ["site"]
    );
    // Another site's visitor id is not this site's.
    let other = app.host.tenant("Other");
    let foreign = other.visitor("v");
    let reply = app.public().get(&format!(
        "/v1/widget/visibility?site={}&visitor={foreign}",
        tenant.site_key
    ));
    assert_eq!(invalid_fields(&reply), ["visitor"]);
}

#[test]
fn identify_validates_its_fields_and_the_site() {
    let app = App::start();
    let tenant = app.tenant();
    let public = app.public();
    assert_eq!(
        invalid_fields(&public.post(
            "/v1/widget/identify",
            &json!({"site": tenant.site_key, "visitor": tenant.visitor("v1")})
        )),
        ["id"]
    );
    assert_eq!(
        invalid_fields(&public.post(
            "/v1/widget/identify",
            &json!({"site": tenant.site_key, "visitor": tenant.visitor("v1"), "id": 1, "email": "nope"})
        )),
        ["email"]
    );
    public
        .post(
            "/v1/widget/identify",
            &json!({"site": "site_000000000000000000000000", "visitor": "v1", "id": 1}),
        )
        .expect_problem(404);
    let reply = public.get("/v1/widget/identify");
    reply.expect_problem(405);
    assert_eq!(reply.header("allow"), Some("POST"));
}
