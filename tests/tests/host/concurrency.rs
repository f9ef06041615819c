//! Atomic increments and compare-and-swap hold across concurrent requests
//! and across host processes sharing one backend.

use edgechat_tests::{Host, HostOptions, Redis, in_parallel};
use std::collections::HashSet;

const REQUESTS: usize = 1_000;

/// Sends `REQUESTS` calls of `path`, alternating between two hosts; returns
/// the numbers the component answered.
fn hammer(a: &Host, b: &Host, path: &str) -> Vec<i64> {
    let clients = [a.client(), b.client()];
    let path = path.to_string();
    in_parallel(REQUESTS, 16, move |i| {
        let reply = clients[i % 2].get(&path);
        reply.expect(200);
        reply
            .body
            .split(' ')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    })
}

fn assert_each_value_once(values: Vec<i64>, total: usize) {
    let distinct: HashSet<i64> = values.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        total,
        "some increments returned the same value"
    );
    assert_eq!(values.iter().max().copied(), Some(total as i64));
}

#[test]
fn two_hosts_on_one_sqlite_file_lose_no_increment() {
    let state = tempfile::tempdir().unwrap();
    let a = HostOptions::probe().state_dir(state.path()).start();
    let b = HostOptions::probe().state_dir(state.path()).start();
    let values = hammer(&a, &b, "/probe/kv/incr?key=hits");
    assert_each_value_once(values, REQUESTS);
    assert_eq!(a.client().get("/probe/kv/incr?key=hits").body, "1001");
}

#[test]
fn two_hosts_on_one_redis_lose_no_increment() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(dir.path());
    let a = HostOptions::probe().runtime_config(&config).start();
    let b = HostOptions::probe().runtime_config(&config).start();
    let values = hammer(&a, &b, "/probe/kv/incr?key=hits");
    assert_each_value_once(values, REQUESTS);
}

#[test]
fn compare_and_swap_serialises_writers_across_hosts() {
    let state = tempfile::tempdir().unwrap();
    let a = HostOptions::probe().state_dir(state.path()).start();
    let b = HostOptions::probe().state_dir(state.path()).start();
    let values = hammer(&a, &b, "/probe/kv/cas-incr?key=cas");
    assert_each_value_once(values, REQUESTS);
}

#[test]
fn compare_and_swap_serialises_writers_on_redis() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(dir.path());
    let a = HostOptions::probe().runtime_config(&config).start();
    let b = HostOptions::probe().runtime_config(&config).start();
    let values = hammer(&a, &b, "/probe/kv/cas-incr?key=cas");
    assert_each_value_once(values, REQUESTS);
}
