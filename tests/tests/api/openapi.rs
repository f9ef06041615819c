//! `/openapi.json` is a valid OpenAPI 3.1 document (checked by
//! openapi-spec-validator) that describes exactly the routes served.

use crate::App;
use crate::errors::ROUTES;
use edgechat_tests::{ADMIN_TOKEN, Value, repo_root};
use std::process::Command;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

fn document(app: &App) -> Value {
    let reply = app.anonymous().get("/openapi.json");
    reply.expect(200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

#[test]
fn the_document_passes_a_real_openapi_validator() {
    let app = App::start();
    let doc = document(&app);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 is needed (with `pip install openapi-spec-validator`)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("No module named"),
        "install the validator: pip install openapi-spec-validator\n{text}"
    );
    assert!(
        output.status.success(),
        "the validator rejected the document:\n{text}"
    );
}

fn spec_operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(*method).is_some() {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "tok_00000000000000000000")
        .replace("{agent_id}", "alice")
        .replace("{customer_id}", "c1")
}

#[test]
fn every_documented_operation_is_served_with_a_documented_status() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let doc = document(&app);
    for (method, path) in spec_operations(&doc) {
        let client = if path == "/api/v1/accounts" {
            app.anonymous().with_bearer(ADMIN_TOKEN)
        } else {
            tenant.api.clone()
        };
        let op = &doc["paths"][&path][method.to_lowercase()];
        let body = op.get("requestBody").map(|_| &b"{}"[..]);
        let mut url = concrete(&path);
        if path == "/api/v1/customers" {
            url.push_str("?external_id=1");
        }
        let reply = client.send(&method, &url, &[("content-type", "application/json")], body);
        let documented = op["responses"].as_object().unwrap();
        assert!(
            documented.contains_key(&reply.status.to_string()),
            "{method} {path} answered {} which the document does not list: {}",
            reply.status,
            reply.body
        );
        if reply.status == 404 {
            assert!(
                !reply.body.contains("no such resource"),
                "{method} {path} is not routed"
            );
        }
    }
}

#[test]
fn each_documented_path_allows_exactly_its_documented_methods() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let doc = document(&app);
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut methods: Vec<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        methods.sort();
        // A method the path lacks (PATCH, unless it has one: then PUT).
        let other = if methods.iter().any(|m| m == "PATCH") {
            "PUT"
        } else {
            "PATCH"
        };
        let reply = tenant.api.send(other, &concrete(path), &[], None);
        reply.expect_problem(405);
        assert_eq!(
            reply.header("allow"),
            Some(methods.join(", ").as_str()),
            "{path}"
        );
    }
}

#[test]
fn every_served_route_is_documented() {
    let app = App::start();
    let doc = document(&app);
    let documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    // The manifest's routes: each must lead to at least one documented path.
    let manifest = std::fs::read_to_string(repo_root().join("spin.toml")).unwrap();
    for line in manifest.lines() {
        let Some(route) = line.trim().strip_prefix("route = \"") else {
            continue;
        };
        let route = route.trim_end_matches('"');
        // A route's `:name` segment is a `{name}` of the document, whatever
        // each one calls it.
        let prefix: Vec<&str> = route.trim_end_matches("/...").split('/').collect();
        let leads_to = |path: &str| {
            let path: Vec<&str> = path.split('/').collect();
            path.len() >= prefix.len()
                && prefix.iter().zip(&path).all(|(r, p)| {
                    r == p || (r.starts_with(':') && p.starts_with('{') && p.ends_with('}'))
                })
        };
        assert!(
            documented.iter().any(|p| leads_to(p)),
            "spin.toml serves {route}, which /openapi.json does not describe"
        );
    }
    // The API routes the tests exercise: each is documented with its method.
    let ops = spec_operations(&doc);
    for (method, path, _) in ROUTES {
        let path = path.split('?').next().unwrap();
        let found = ops.iter().any(|(m, p)| m == method && concrete(p) == path);
        assert!(found, "{method} {path} is served but not documented");
    }
}
