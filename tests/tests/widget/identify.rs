use crate::{App, invalid_fields};
use edgechat_tests::json;

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

#[test]
fn identify_links_the_visitor_and_a_secret_makes_the_hash_mandatory() {
    let app = App::start();
    let tenant = app.tenant();
    let body = |hash: Option<&str>| {
        let mut b = json!({"site": tenant.site_key, "visitor": "v_1", "id": 123, "email": "jd@example.com", "labels": ["vip"]});
        if let Some(h) = hash {
            b["hash"] = json!(h);
        }
        b
    };
    let unverified = app
        .public()
        .post("/v1/widget/identify", &body(None))
        .expect(200)
        .json();
    assert_eq!(unverified["verified"], false);
    assert_eq!(unverified["customer_id"], "v_1");
    let found = tenant
        .api
        .get("/api/v1/customers?external_id=123")
        .expect(200)
        .json();
    assert_eq!(found["items"][0]["customer_id"], "v_1");
    assert_eq!(found["items"][0]["labels"], json!(["vip"]));

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

    app.public()
        .post("/v1/widget/identify", &body(None))
        .expect_problem(401);
    let wrong = hmac_hex(secret, "124");
    app.public()
        .post("/v1/widget/identify", &body(Some(&wrong)))
        .expect_problem(401);
    let right = hmac_hex(secret, "123");
    let verified = app
        .public()
        .post("/v1/widget/identify", &body(Some(&right)))
        .expect(200)
        .json();
    assert_eq!(verified["verified"], true);
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
    app.public()
        .post("/v1/widget/identify", &body(None))
        .expect(200);
    assert_eq!(
        invalid_fields(&tenant.api.put(
            "/api/v1/widget/identity-secret",
            &json!({"secret": "short"})
        )),
        ["secret"]
    );
}

#[test]
fn identify_validates_its_fields_and_the_site() {
    let app = App::start();
    let tenant = app.tenant();
    let public = app.public();
    assert_eq!(
        invalid_fields(&public.post(
            "/v1/widget/identify",
            &json!({"site": tenant.site_key, "visitor": "v1"})
        )),
        ["id"]
    );
    assert_eq!(
        invalid_fields(&public.post(
            "/v1/widget/identify",
            &json!({"site": tenant.site_key, "visitor": "v1", "id": 1, "email": "nope"})
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
