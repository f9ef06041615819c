//! Atomic increments hold across concurrent requests and across host
//! processes sharing one backend; compare-and-swap does on SQLite, and is
//! refused on Redis, where Spin breaks it.

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

/// Local runtime only: Spin's SQLite store does not wait on a locked
/// database file (two `spin up`s on one file answer 500, "database is
/// locked"), so one Spin process owns a SQLite file and scale-out is Redis.
#[test]
fn two_hosts_on_one_sqlite_file_lose_no_increment() {
    if edgechat_tests::on_real_spin() {
        eprintln!("skipped: Spin does not share a SQLite file between processes");
        return;
    }
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
    let [a, b] = redis.two_hosts(HostOptions::probe);
    let values = hammer(&a, &b, "/probe/kv/incr?key=hits");
    assert_each_value_once(values, REQUESTS);
}

/// Local runtime only, as above.
#[test]
fn compare_and_swap_serialises_writers_across_hosts() {
    if edgechat_tests::on_real_spin() {
        eprintln!("skipped: Spin does not share a SQLite file between processes");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let a = HostOptions::probe().state_dir(state.path()).start();
    let b = HostOptions::probe().state_dir(state.path()).start();
    let values = hammer(&a, &b, "/probe/kv/cas-incr?key=cas");
    assert_each_value_once(values, REQUESTS);
}

/// Spin's Redis backend breaks compare-and-swap (a swap that wrote reports
/// `cas-failed`), so the local runtime refuses it there instead of letting a
/// component pass tests that it would fail under Spin.
#[test]
fn compare_and_swap_is_refused_on_redis() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(dir.path());
    let host = HostOptions::probe().runtime_config(&config).start();
    let reply = host.client().get("/probe/kv/cas-incr?key=cas");
    assert_ne!(reply.status, 200, "{}", reply.body);
    if !edgechat_tests::on_real_spin() {
        assert!(
            reply.body.contains("compare-and-swap is not supported"),
            "{}",
            reply.body
        );
    }
}

#[test]
fn get_many_is_refused_on_redis() {
    // Spin's Redis backend (3.6.3, 4.0.2) sends get-many's keys to `KEYS`:
    // a component that relies on it must fail here as it fails there.
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = redis.runtime_config(dir.path());
    let host = HostOptions::probe().runtime_config(&config).start();
    let reply = host.client().get("/probe/kv/batch?key=many");
    assert_ne!(reply.status, 200, "{}", reply.body);
    if !edgechat_tests::on_real_spin() {
        assert!(
            reply.body.contains("get-many is not supported"),
            "{}",
            reply.body
        );
    }
}

/// The SQLite writer answers a write only once its group is committed: every
/// increment a client saw acknowledged is still there after `kill -9`, in
/// the middle of a load of concurrent increments.
#[test]
fn increments_acknowledged_before_a_kill_9_survive_it() {
    if edgechat_tests::on_real_spin() {
        eprintln!("skipped: the runtime under test is killed by the harness only locally");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let host = HostOptions::probe().state_dir(state.path()).start();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (url, stop, acked) = (
                host.url("/probe/kv/incr?key=hits"),
                stop.clone(),
                acked.clone(),
            );
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    // A failed connection: the host was killed mid-request.
                    let Ok(mut reply) = agent.get(&url).call() else {
                        return;
                    };
                    let body = reply.body_mut().read_to_string().unwrap_or_default();
                    if reply.status() != 200 {
                        return;
                    }
                    let n = body.split(' ').next().unwrap().parse().unwrap();
                    acked.lock().unwrap().push(n);
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(host); // SIGKILL, with increments in flight
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let highest = *acked.iter().max().unwrap();
    let distinct: HashSet<i64> = acked.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        acked.len(),
        "an increment was answered twice"
    );
    let host = HostOptions::probe().state_dir(state.path()).start();
    let after: i64 = host
        .client()
        .get("/probe/kv/counter?key=hits")
        .body
        .trim()
        .parse()
        .unwrap();
    assert!(
        after >= highest,
        "{highest} was acknowledged, {after} survived the kill"
    );
}
