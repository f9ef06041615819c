//! When receivers fail: retries with the original `webhook-id`, the
//! delivery log, `Retry-After`, 410, the end of the schedule, manual retry
//! and replay, and one slow receiver among fast ones.

use crate::{
    assert_all_verified, deliveries, distinct_ids, endpoint, start_app, tag, wait_for_deliveries,
};
use edgechat_tests::receiver::Receiver;
use edgechat_tests::{HostOptions, Value, json};

#[test]
fn a_receiver_that_was_down_gets_every_event_with_its_original_id() {
    // Retries long enough to outlast the receiver's downtime.
    let host = HostOptions::webhooks("1s,2s,4s,8s,16s,30s").start();
    let mut receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    receiver.stop();
    // The calls that make the events do not wait for their delivery.
    for i in 0..5 {
        tag(&tenant, &format!("c{i}"), "Down");
    }
    let failed = wait_for_deliveries(&tenant, &id, "failed attempts", |log| {
        log.iter().filter(|a| a["status"] == "failed").count() >= 5
    });
    assert!(
        failed
            .iter()
            .all(|a| a["error"].is_string() && a["response_status"].is_null()),
        "{failed:#?}"
    );
    assert!(failed.iter().all(|a| a["next_attempt_at"].is_string()));
    receiver.restart();
    receiver.configure("crm", &[&secret], json!({"status": 200}));
    let items = receiver.wait_for("crm", "all five events", |items| {
        distinct_ids(items).len() == 5
    });
    assert_all_verified(&items, 0);
    let failed_ids: Vec<String> = {
        let mut ids: Vec<String> = failed
            .iter()
            .map(|a| a["webhook_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(
        distinct_ids(&items),
        failed_ids,
        "the retries carry the first attempts' ids"
    );
    let log = wait_for_deliveries(&tenant, &id, "five successes", |log| {
        log.iter().filter(|a| a["status"] == "succeeded").count() >= 5
    });
    assert!(
        log.iter()
            .any(|a| a["status"] == "succeeded" && a["attempt"].as_u64() > Some(1))
    );
    let only_failed = deliveries(&tenant, &id, "&status=failed");
    assert!(only_failed.iter().all(|a| a["status"] == "failed") && !only_failed.is_empty());
}

#[test]
fn gone_disables_the_endpoint_and_the_audit_log_says_why() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    receiver.configure("crm", &[&secret], json!({"status": 410}));
    tag(&tenant, "john", "John");
    let path = format!("/api/v1/webhooks/{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while tenant.api.get(&path).expect(200).json()["enabled"] == true {
        assert!(
            std::time::Instant::now() < deadline,
            "410 never disabled the endpoint"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let endpoint = tenant.api.get(&path).expect(200).json();
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{endpoint}"
    );
    let disabled = tenant
        .api
        .get("/api/v1/audit-logs?type=webhook.disabled")
        .expect(200)
        .items();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["actor"], "system");
    // No more deliveries: a later event is not sent.
    tag(&tenant, "mary", "Mary");
    let marker = host.tenant("Other");
    let (_, other_secret) = endpoint_for_marker(&marker, &receiver);
    tag(&marker, "x", "X");
    receiver.wait_for("marker", "a later delivery", |items| !items.is_empty());
    let _ = other_secret;
    assert_eq!(receiver.received("crm").len(), 1, "nothing after the 410");
}

fn endpoint_for_marker(tenant: &edgechat_tests::Tenant, receiver: &Receiver) -> (String, String) {
    endpoint(tenant, receiver, "marker", json!({}))
}

#[test]
fn retry_after_is_honoured_on_503() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (_, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    receiver.configure(
        "crm",
        &[&secret],
        json!({"statuses": [503], "retry_after": 4, "status": 200}),
    );
    tag(&tenant, "john", "John");
    let items = receiver.wait_for("crm", "a retry", |items| items.len() >= 2);
    let gap = items[1]["arrived"].as_f64().unwrap() - items[0]["arrived"].as_f64().unwrap();
    // The schedule alone would retry after about 1 s.
    assert!(
        gap >= 3.5,
        "retried {gap:.2} s after the 503 that asked for 4 s"
    );
    assert_eq!(items[0]["webhook_id"], items[1]["webhook_id"]);
}

#[test]
fn an_exhausted_delivery_stays_failed_and_listed_until_retried_by_hand() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    receiver.configure("crm", &[&secret], json!({"status": 500}));
    tag(&tenant, "john", "John");
    // 1 attempt + 3 retries (FAST_RETRIES), the last with no next attempt.
    let log = wait_for_deliveries(&tenant, &id, "the schedule exhausted", |log| {
        log.len() >= 4 && log[3]["next_attempt_at"].is_null()
    });
    let attempts: Vec<u64> = log.iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    assert!(
        log.iter()
            .all(|a| a["status"] == "failed" && a["response_status"] == 500)
    );
    receiver.configure("crm", &[&secret], json!({"status": 200}));
    let retried = tenant
        .api
        .post(
            &format!(
                "/api/v1/webhooks/{id}/deliveries/{}/retry",
                log[3]["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .expect(200)
        .json();
    assert_eq!(retried["status"], "succeeded");
    assert_eq!(retried["trigger"], "manual");
    assert_eq!(retried["webhook_id"], log[0]["webhook_id"]);
    let items = receiver.received("crm");
    assert_eq!(distinct_ids(&items).len(), 1);
    assert_eq!(items.last().unwrap()["answered"], 200);
    assert_all_verified(&items, 0);
}

#[test]
fn a_replay_sends_everything_since_then_again_with_the_same_ids() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, _) = endpoint(&tenant, &receiver, "crm", json!({}));
    let cursor = tenant.api.get("/api/v1/events").expect(200).next_cursor();
    for name in ["a", "b", "c"] {
        tag(&tenant, name, name);
    }
    // At least once: count distinct ids, never raw arrivals (a retry may
    // repeat one).
    let first = receiver.wait_for("crm", "three events", |items| {
        distinct_ids(items).len() >= 3
    });
    let ids = distinct_ids(&first);
    let accepted = tenant
        .api
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            &json!({"since": cursor}),
        )
        .expect(202)
        .json();
    assert_eq!(
        accepted["to_seq"].as_u64().unwrap() + 1 - accepted["from_seq"].as_u64().unwrap(),
        3
    );
    let arrivals_of =
        |items: &[Value], id: &str| items.iter().filter(|i| i["webhook_id"] == id).count();
    let all = receiver.wait_for("crm", "the replay of each event", |items| {
        ids.iter().all(|id| arrivals_of(items, id) >= 2)
    });
    assert_eq!(distinct_ids(&all), ids, "the replay used new ids");
    assert_all_verified(&all, 0);
    // The log records an attempt once its answer is in, which can be just
    // after the receiver counted it: wait for the log, not the receiver.
    let log = wait_for_deliveries(&tenant, &id, "three replay attempts", |log| {
        log.iter().filter(|a| a["trigger"] == "replay").count() >= 3
    });
    let replayed: Vec<_> = log.iter().filter(|a| a["trigger"] == "replay").collect();
    assert_eq!(replayed.len(), 3, "{replayed:#?}");
}

#[test]
fn a_slow_receiver_never_holds_up_the_others() {
    let host = start_app();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (_, slow_secret) = endpoint(&tenant, &receiver, "slow", json!({}));
    endpoint(&tenant, &receiver, "fast", json!({}));
    receiver.configure(
        "slow",
        &[&slow_secret],
        json!({"status": 200, "delay_ms": 8000}),
    );
    for name in ["a", "b", "c"] {
        tag(&tenant, name, name);
    }
    receiver.wait_for("fast", "all three", |items| items.len() >= 3);
    // The slow one is still answering its first, one at a time.
    assert!(
        receiver.received("slow").len() <= 1,
        "{:#?}",
        receiver.received("slow")
    );
}

#[test]
fn an_endpoint_failing_for_too_long_is_disabled() {
    let host = HostOptions::webhooks("1s,1s,1s,1s,1s,1s,1s,1s,1s,1s")
        .env("SPIN_VARIABLE_WEBHOOK_DISABLE_AFTER", "3s")
        .start();
    let receiver = Receiver::start();
    let tenant = host.tenant("Acme");
    let (id, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    receiver.configure("crm", &[&secret], json!({"status": 500}));
    tag(&tenant, "john", "John");
    let path = format!("/api/v1/webhooks/{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while tenant.api.get(&path).expect(200).json()["enabled"] == true {
        assert!(std::time::Instant::now() < deadline, "never disabled");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let audit = tenant
        .api
        .get("/api/v1/audit-logs?type=webhook.disabled")
        .expect(200)
        .items();
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert!(
        deliveries(&tenant, &id, "")
            .iter()
            .all(|a| a["status"] == "failed")
    );
}
