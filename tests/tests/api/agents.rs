use crate::{App, ids, invalid_fields};
use edgechat_tests::{Client, Value, json};
use std::sync::{Arc, Barrier};

fn directory(ids: &[&str]) -> Value {
    let agents: Vec<Value> = ids
        .iter()
        .map(
            |id| json!({"id": id, "name": id.to_uppercase(), "email": format!("{id}@example.com")}),
        )
        .collect();
    json!({ "agents": agents })
}

#[test]
fn a_sync_makes_the_stored_list_exactly_the_given_list() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let first = tenant
        .api
        .put("/api/v1/agents", &directory(&["alice", "bob"]));
    assert_eq!(
        first.expect(200).json(),
        json!({"created": ["alice", "bob"], "updated": [], "removed": []})
    );

    let second = tenant.api.put(
        "/api/v1/agents",
        &json!({"agents": [{"id": "alice", "name": "Alice A."}, {"id": "carol", "name": "Carol"}]}),
    );
    assert_eq!(
        second.expect(200).json(),
        json!({"created": ["carol"], "updated": ["alice"], "removed": ["bob"]})
    );

    let list = tenant.api.get("/api/v1/agents");
    assert_eq!(ids(&list.expect(200), "id"), ["alice", "carol"]);
    let alice = &list.json()["items"][0];
    for field in ["id", "name", "email", "online", "available", "updated_at"] {
        assert!(alice.get(field).is_some(), "agents have {field}: {alice}");
    }
}

#[test]
fn repeating_a_sync_changes_nothing() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let body = directory(&["alice", "bob"]);
    tenant.api.put("/api/v1/agents", &body).expect(200);
    let before = tenant.api.get("/api/v1/agents").expect(200).json();
    let again = tenant.api.put("/api/v1/agents", &body).expect(200).json();
    assert_eq!(again, json!({"created": [], "updated": [], "removed": []}));
    assert_eq!(tenant.api.get("/api/v1/agents").expect(200).json(), before);
}

#[test]
fn a_bare_array_is_accepted_as_the_list() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/agents", &json!([{"id": "alice", "name": "Alice"}]))
        .expect(200);
    assert_eq!(ids(&tenant.api.get("/api/v1/agents"), "id"), ["alice"]);
}

#[test]
fn validation_names_the_field_and_changes_nothing() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/agents", &directory(&["alice"]))
        .expect(200);
    let cases = [
        (
            json!({"agents": [{"id": "bob", "name": "Bob", "email": "not-an-email"}]}),
            "agents[0].email",
        ),
        (
            json!({"agents": [{"id": "bob smith", "name": "Bob"}]}),
            "agents[0].id",
        ),
        (
            json!({"agents": [{"id": "x".repeat(65), "name": "Bob"}]}),
            "agents[0].id",
        ),
        (
            json!({"agents": [{"id": "bob", "name": "Bob"}, {"id": "bob", "name": "Robert"}]}),
            "agents[1].id",
        ),
        (json!({"agents": [{"id": "bob"}]}), "agents[0].name"),
        (json!({"agents": "bob"}), "agents"),
    ];
    for (body, field) in cases {
        let fields = invalid_fields(&tenant.api.put("/api/v1/agents", &body));
        assert!(
            fields.contains(&field.to_string()),
            "{field} in {fields:?} for {body}"
        );
    }
    assert_eq!(ids(&tenant.api.get("/api/v1/agents"), "id"), ["alice"]);
}

#[test]
fn one_agent_is_created_read_replaced_and_deleted() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let created = tenant.api.put(
        "/api/v1/agents/alice",
        &json!({"name": "Alice", "email": "alice@example.com"}),
    );
    assert_eq!(created.expect(201).json()["id"], "alice");
    let replaced = tenant
        .api
        .put("/api/v1/agents/alice", &json!({"name": "Alice A."}));
    assert_eq!(replaced.expect(200).json()["name"], "Alice A.");
    let got = tenant.api.get("/api/v1/agents/alice").expect(200).json();
    assert_eq!(got["name"], "Alice A.");
    assert_eq!(got["email"], Value::Null);
    tenant.api.delete("/api/v1/agents/alice").expect(204);
    tenant.api.get("/api/v1/agents/alice").expect_problem(404);
    tenant
        .api
        .delete("/api/v1/agents/alice")
        .expect_problem(404);
}

#[test]
fn an_email_shaped_agent_id_works_in_the_path() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put(
            "/api/v1/agents/alice%40example.com",
            &json!({"name": "Alice"}),
        )
        .expect(201);
    tenant
        .api
        .get("/api/v1/agents/alice@example.com")
        .expect(200);
}

#[test]
fn a_single_agent_put_validates_the_path_id_and_body() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let long = format!("/api/v1/agents/{}", "x".repeat(65));
    assert_eq!(
        invalid_fields(&tenant.api.put(&long, &json!({"name": "X"}))),
        ["agent_id"]
    );
    let mismatch = tenant
        .api
        .put("/api/v1/agents/alice", &json!({"id": "bob", "name": "X"}));
    assert_eq!(invalid_fields(&mismatch), ["id"]);
    let bad_email = tenant
        .api
        .put("/api/v1/agents/alice", &json!({"name": "X", "email": "x@"}));
    assert_eq!(invalid_fields(&bad_email), ["email"]);
    tenant.api.get("/api/v1/agents/alice").expect_problem(404);
}

#[test]
fn presence_is_set_per_agent_and_kept_by_a_sync() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/agents", &directory(&["alice"]))
        .expect(200);
    let reply = tenant.api.put(
        "/api/v1/agents/alice/status",
        &json!({"online": true, "available": false}),
    );
    let alice = reply.expect(200).json();
    assert_eq!(
        (alice["online"].clone(), alice["available"].clone()),
        (json!(true), json!(false))
    );
    tenant
        .api
        .put("/api/v1/agents", &directory(&["alice"]))
        .expect(200);
    assert_eq!(
        tenant.api.get("/api/v1/agents/alice").json()["online"],
        true
    );

    let missing = tenant
        .api
        .put("/api/v1/agents/alice/status", &json!({"online": true}));
    assert_eq!(invalid_fields(&missing), ["available"]);
    tenant
        .api
        .put(
            "/api/v1/agents/ghost/status",
            &json!({"online": true, "available": true}),
        )
        .expect_problem(404);
}

#[test]
fn agents_are_listed_in_pages_by_id() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    tenant
        .api
        .put("/api/v1/agents", &directory(&["d", "b", "a", "c", "e"]))
        .expect(200);
    let first = tenant.api.get("/api/v1/agents?limit=2").expect(200).json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = tenant
        .api
        .get(&format!("/api/v1/agents?limit=2&cursor={cursor}"));
    assert_eq!(ids(&second.expect(200), "id"), ["c", "d"]);
    tenant.api.get("/api/v1/agents?limit=0").expect_problem(400);
    tenant
        .api
        .get("/api/v1/agents?cursor=%21%21")
        .expect_problem(400);
}

/// Two whole-list syncs racing many times: the result is always exactly one
/// of the two lists, never a mix.
#[test]
fn concurrent_syncs_leave_one_list_never_a_mix() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    race_whole_list_syncs([tenant.api.clone(), tenant.api.clone()], 12);
}

/// Races a sync of 40 agents `a00…` through `apis[0]` against one of 40
/// agents `b00…` through `apis[1]`, `rounds` times; after each round the
/// stored list must be exactly one of the two.
pub fn race_whole_list_syncs(apis: [Client; 2], rounds: usize) {
    let list_a: Vec<String> = (0..40).map(|i| format!("a{i:02}")).collect();
    let list_b: Vec<String> = (0..40).map(|i| format!("b{i:02}")).collect();
    let body = |ids: &[String]| {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        directory(&refs)
    };
    for round in 0..rounds {
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [
            (apis[0].clone(), body(&list_a)),
            (apis[1].clone(), body(&list_b)),
        ]
        .into_iter()
        .map(|(api, body)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                api.put("/api/v1/agents", &body).status
            })
        })
        .collect();
        for racer in racers {
            assert_eq!(racer.join().unwrap(), 200, "round {round}");
        }
        let stored = ids(
            apis[round % 2].get("/api/v1/agents?limit=1000").expect(200),
            "id",
        );
        assert!(
            stored == list_a || stored == list_b,
            "round {round}: the list is a mix: {stored:?}"
        );
    }
}
