//! Deliveries survive the dispatcher: `kill -9` with events pending, and
//! two hosts on one Redis delivering at once.

use crate::{FAST_RETRIES, assert_all_verified, distinct_ids, endpoint, tag};
use edgechat_tests::receiver::Receiver;
use edgechat_tests::{HostOptions, Redis, json, kv_is_redis};

#[test]
fn events_pending_when_the_host_is_killed_all_arrive_after_it_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let redis = kv_is_redis().then(Redis::start);
    let options = || {
        // Retries that outlast the restart (a new process waits up to two
        // lease windows for the dead one's endpoints).
        let mut options = HostOptions::webhooks("2s,5s,10s,20s,30s,60s").state_dir(dir.path());
        options.own_redis = false;
        match &redis {
            Some(redis) => options.runtime_config(&redis.runtime_config(dir.path())),
            None => options,
        }
    };
    let mut receiver = Receiver::start();
    let host = options().start();
    let tenant = host.tenant("Acme");
    let (_, secret) = endpoint(&tenant, &receiver, "crm", json!({}));
    tag(&tenant, "before", "Before");
    receiver.wait_for("crm", "the first event", |items| !items.is_empty());
    receiver.stop();
    for i in 0..10 {
        tag(&tenant, &format!("c{i}"), "Pending");
    }
    drop(host); // SIGKILL, with ten events pending
    let host = options().start();
    receiver.restart();
    receiver.configure("crm", &[&secret], json!({"status": 200}));
    let items = receiver.wait_for("crm", "all eleven events", |items| {
        distinct_ids(items).len() == 11
    });
    assert_all_verified(&items, 0);
    drop(host);
}

#[test]
fn two_hosts_on_one_redis_deliver_everything() {
    let redis = Redis::start();
    let [a, b] = redis.two_hosts(|| HostOptions::webhooks(FAST_RETRIES));
    let receiver = Receiver::start();
    let tenant = a.tenant("Acme");
    endpoint(&tenant, &receiver, "crm", json!({}));
    let other = b.client().with_bearer(&tenant.token);
    for i in 0..20 {
        let client = if i % 2 == 0 { &tenant.api } else { &other };
        let body = json!({"email": format!("c{i}@example.com"), "id": i, "labels": []});
        let reply = client.put(&format!("/api/v1/customers/c{i}"), &body);
        assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
    }
    let items = receiver.wait_for("crm", "all twenty events", |items| {
        distinct_ids(items).len() == 20
    });
    assert_all_verified(&items, 0);
    drop((a, b));
}
