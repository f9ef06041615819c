//! Webhooks end to end: endpoints managed through the API, every event
//! delivered to a real receiver that verifies it with the official
//! `standardwebhooks` package, retries, replays, crashes. One test binary;
//! each test has its own host (delivering by itself, `--tick`) and receiver.

mod crash;
mod delivery;
mod failures;
mod management;

use edgechat_tests::receiver::Receiver;
use edgechat_tests::{Host, HostOptions, Reply, Tenant, Value, json};

/// Retries a second apart: the tests see a whole schedule in seconds.
pub const FAST_RETRIES: &str = "1s,1s,1s";

/// The app delivering webhooks, with fast retries.
pub fn start_app() -> Host {
    HostOptions::webhooks(FAST_RETRIES).start()
}

/// An endpoint of `tenant` for the receiver's `name`: its id and secret.
pub fn endpoint(
    tenant: &Tenant,
    receiver: &Receiver,
    name: &str,
    extra: Value,
) -> (String, String) {
    let mut body = json!({"url": receiver.url(name)});
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        body[key] = value;
    }
    let created = tenant
        .api
        .post("/api/v1/webhooks", &body)
        .expect(201)
        .json();
    let id = created["id"].as_str().expect("id").to_string();
    let secret = created["secret"].as_str().expect("secret").to_string();
    receiver.configure(name, &[&secret], json!({"status": 200}));
    (id, secret)
}

/// Makes one `customer.updated` event (tagging customer `id`).
pub fn tag(tenant: &Tenant, id: &str, firstname: &str) -> Reply {
    let body = json!({"email": format!("{id}@example.com"), "firstname": firstname, "id": id, "labels": ["vip"], "lastname": "Doe"});
    let reply = tenant.api.put(&format!("/api/v1/customers/{id}"), &body);
    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
    reply
}

/// The `webhook-id`s of what arrived, sorted, without repeats.
pub fn distinct_ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .filter_map(|i| i["webhook_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Whether every arrival verified with the receiver's secret `index`.
#[track_caller]
pub fn assert_all_verified(items: &[Value], index: u64) {
    for item in items {
        let verified = item["verified_with"].as_array().expect("verified_with");
        assert!(
            verified.iter().any(|i| i == index),
            "a delivery did not verify with secret {index}: {item:#}"
        );
    }
}

/// The endpoint's delivery log.
pub fn deliveries(tenant: &Tenant, id: &str, query: &str) -> Vec<Value> {
    tenant
        .api
        .get(&format!(
            "/api/v1/webhooks/{id}/deliveries?limit=200{query}"
        ))
        .expect(200)
        .items()
}

/// Waits (generously) until `done` holds for the endpoint's delivery log.
#[track_caller]
pub fn wait_for_deliveries(
    tenant: &Tenant,
    id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let items = deliveries(tenant, id, "");
        if done(&items) {
            return items;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {what}: {items:#?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A visitor of `tenant` starts a chat with a first message; returns the
/// conversation id.
pub fn start_chat(host: &Host, tenant: &Tenant, text: &str) -> String {
    let visitor = tenant.visitor_via(&host.client(), "v1");
    let started = host
        .client()
        .post(
            "/v1/widget/conversations",
            &json!({"site": tenant.site_key, "visitor": visitor, "text": text}),
        )
        .expect(201)
        .json();
    started["conversation_id"]
        .as_str()
        .expect("conversation_id")
        .to_string()
}
