use crate::{App, ids, invalid_fields};
use edgechat_tests::{Value, json};

fn john() -> Value {
    json!({"email": "john.doe@example.com", "firstname": "John", "id": 123, "labels": ["foo", "bar"], "lastname": "Doe"})
}

#[test]
fn the_body_integrators_already_send_tags_a_customer() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let created = tenant
        .api
        .put("/api/v1/customers/visitor-1", &john())
        .expect(201)
        .json();
    assert_eq!(created["customer_id"], "visitor-1");
    assert_eq!(
        created["id"],
        json!(123),
        "the caller's id comes back as given"
    );
    assert_eq!(created["labels"], json!(["foo", "bar"]));
    assert_eq!(created["firstname"], "John");
    let got = tenant
        .api
        .get("/api/v1/customers/visitor-1")
        .expect(200)
        .json();
    assert_eq!(got, created);
    let updated = tenant.api.put(
        "/api/v1/customers/visitor-1",
        &json!({"id": "crm-123", "labels": ["vip"]}),
    );
    let updated = updated.expect(200).json();
    assert_eq!(updated["id"], json!("crm-123"));
    assert_eq!(updated["email"], Value::Null, "a PUT replaces the tags");
}

#[test]
fn a_customer_is_found_by_external_id_and_by_email() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/customers/visitor-1", &john())
        .expect(201);
    let by_id = tenant.api.get("/api/v1/customers?external_id=123");
    assert_eq!(ids(&by_id.expect(200), "customer_id"), ["visitor-1"]);
    assert_eq!(by_id.json()["items"][0]["id"], json!(123));
    let by_email = tenant
        .api
        .get("/api/v1/customers?email=John.Doe%40example.com");
    assert_eq!(ids(&by_email.expect(200), "customer_id"), ["visitor-1"]);
    assert!(
        ids(
            &tenant.api.get("/api/v1/customers?external_id=999"),
            "customer_id"
        )
        .is_empty()
    );
}

#[test]
fn lookups_follow_a_changed_email_and_id() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/customers/visitor-1", &john())
        .expect(201);
    tenant
        .api
        .put(
            "/api/v1/customers/visitor-1",
            &json!({"id": 456, "email": "jd@example.org"}),
        )
        .expect(200);
    let find = |query: &str| {
        ids(
            &tenant
                .api
                .get(&format!("/api/v1/customers?{query}"))
                .expect(200),
            "customer_id",
        )
    };
    assert!(find("external_id=123").is_empty());
    assert!(find("email=john.doe%40example.com").is_empty());
    assert_eq!(find("external_id=456"), ["visitor-1"]);
    assert_eq!(find("email=jd%40example.org"), ["visitor-1"]);
}

#[test]
fn a_lookup_needs_external_id_or_email() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    assert_eq!(
        invalid_fields(&tenant.api.get("/api/v1/customers")),
        ["external_id"]
    );
}

#[test]
fn labels_are_limited_and_validation_names_the_field() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let fifty_one: Vec<String> = (0..51).map(|i| format!("l{i}")).collect();
    let cases = [
        (json!({"labels": fifty_one}), "labels"),
        (json!({"labels": ["ok", ""]}), "labels[1]"),
        (json!({"labels": ["x".repeat(65)]}), "labels[0]"),
        (json!({"email": "john.doe"}), "email"),
        (json!({"id": 1.5}), "id"),
        (json!({"id": [1]}), "id"),
    ];
    for (body, field) in cases {
        let fields = invalid_fields(&tenant.api.put("/api/v1/customers/visitor-1", &body));
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }
    tenant
        .api
        .get("/api/v1/customers/visitor-1")
        .expect_problem(404);
    let fifty: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
    let ok = tenant.api.put(
        "/api/v1/customers/visitor-1",
        &json!({"labels": fifty, "id": 1}),
    );
    assert_eq!(
        ok.expect(201).json()["labels"].as_array().unwrap().len(),
        50
    );
    let bad_path = tenant.api.put("/api/v1/customers/has%20space", &john());
    assert_eq!(invalid_fields(&bad_path), ["customer_id"]);
}

#[test]
fn an_unknown_customer_is_not_found() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .get("/api/v1/customers/nobody")
        .expect_problem(404);
}
