//! A message never exists without its event, nor a conversation change
//! without its event, whatever point the process dies at.
//!
//! The deterministic tests use the local runtime's test-only fault knob
//! (`EDGECHAT_HOST_TEST_ABORT_AFTER_KV_WRITES=N`, see `host/src/kv/fault.rs`):
//! the host aborts, like `kill -9`, right after its Nth key-value write.
//! Looping N over every write of one request tries a crash between every
//! two of its writes; after each, the host restarts on the same store and
//! both readers — the conversation's messages and `/api/v1/events` — must
//! agree once the grace period has passed: each message in both or in
//! neither, every acknowledged post in both. Real Spin has no such knob, so
//! those tests skip there; the `kill -9` under load runs everywhere.

use crate::{Chat, start_chat};
use edgechat_tests::{HostOptions, Redis, Tenant, Value, json, kv_is_redis, on_real_spin};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ABORT_KNOB: &str = "EDGECHAT_HOST_TEST_ABORT_AFTER_KV_WRITES";
/// More than any request here writes: the loops stop at the first N that
/// the request does not reach.
const MAX_CRASH_POINTS: u64 = 40;

/// A store that outlives the host processes: a SQLite file in a directory,
/// or (with `EDGECHAT_TEST_KV=redis`) a Redis server of its own.
struct Store {
    dir: tempfile::TempDir,
    redis: Option<(Redis, PathBuf)>,
}

impl Store {
    fn new() -> Store {
        let dir = tempfile::tempdir().expect("temp dir");
        let redis = kv_is_redis().then(|| {
            let redis = Redis::start();
            let config = redis.runtime_config(dir.path());
            (redis, config)
        });
        Store { dir, redis }
    }

    /// The app on this store; `abort_after` arms the fault knob.
    fn host(&self, abort_after: Option<u64>) -> edgechat_tests::Host {
        let mut options = HostOptions::app();
        options.own_redis = false;
        let mut options = options.state_dir(self.dir.path());
        if let Some((_, config)) = &self.redis {
            options = options.runtime_config(config);
        }
        if let Some(n) = abort_after {
            options = options.env(ABORT_KNOB, &n.to_string());
        }
        options.start()
    }
}

/// A POST that may find the process gone: `None` when the connection
/// failed (the host aborted while answering).
fn try_post(base: &str, token: &str, path: &str, body: &Value) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    agent
        .post(&format!("{base}{path}"))
        .header("authorization", &format!("Bearer {token}"))
        .send_json(body)
        .ok()
        .map(|r| r.status().as_u16())
}

fn reply_path(conversation: &str) -> String {
    format!("/api/v1/conversations/{conversation}/messages")
}

/// What both readers show of one conversation.
#[derive(Debug)]
struct Seen {
    /// Message texts in the conversation's list, by `seq`.
    listed: Vec<String>,
    /// Message texts of its `message.created` events, by event `seq`.
    evented: Vec<String>,
    /// `agent_id`s of its `conversation.assigned` events, in order.
    assigned: Vec<String>,
}

fn seen(base: &str, token: &str, conversation: &str) -> Seen {
    let api = edgechat_tests::Client::new(base).with_bearer(token);
    let messages = api
        .get(&format!("{}?limit=500", reply_path(conversation)))
        .expect(200)
        .items();
    let events = api.get("/api/v1/events?limit=500").expect(200).items();
    let ours = |e: &&Value| e["conversation_id"] == conversation;
    let of_type = |kind: &'static str| move |e: &&Value| e["type"] == kind;
    let text = |v: &Value| v["text"].as_str().unwrap_or_default().to_string();
    Seen {
        listed: messages.iter().map(text).collect(),
        evented: events
            .iter()
            .filter(ours)
            .filter(of_type("message.created"))
            .map(|e| text(&e["data"]))
            .collect(),
        assigned: events
            .iter()
            .filter(ours)
            .filter(of_type("conversation.assigned"))
            .map(|e| e["data"]["agent_id"].as_str().unwrap_or_default().into())
            .collect(),
    }
}

/// Posts `proof` on a healthy host and waits (generously) until both
/// readers show it: a gap is passed only once a later entry is older than
/// the grace period, so then every crash's leftovers have been decided.
fn settle(store: &Store, tenant: &Tenant, chat: &Chat, proof: &str) -> Seen {
    let host = store.host(None);
    let api = edgechat_tests::Client::new(&host.base).with_bearer(&tenant.token);
    api.post(
        &reply_path(&chat.id),
        &json!({"agent_id": "alice", "text": proof}),
    )
    .expect(201);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let seen = seen(&host.base, &tenant.token, &chat.id);
        let shown = |texts: &[String]| texts.iter().any(|t| t == proof);
        if shown(&seen.listed) && shown(&seen.evented) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "the readers never reached {proof:?}: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asserts the invariant on messages: the two readers list the same
/// messages in the same order, each at most once, and every acknowledged
/// post is there.
fn assert_one_outcome(seen: &Seen, acknowledged: &[String]) {
    // The same messages; not always in the same order: concurrent posts
    // take their two numbers one after the other, not atomically together.
    let (mut listed, mut evented) = (seen.listed.clone(), seen.evented.clone());
    listed.sort();
    evented.sort();
    assert_eq!(
        listed, evented,
        "the message list and the event log disagree"
    );
    for text in acknowledged {
        let copies = seen.listed.iter().filter(|t| *t == text).count();
        assert_eq!(copies, 1, "acknowledged {text:?} shows {copies} times");
    }
    let mut unique = seen.listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.listed.len(), "a message shows twice");
}

/// An account with agents alice and bob and one conversation, on `store`.
fn prepare(store: &Store) -> (Tenant, Chat) {
    let host = store.host(None);
    let tenant = host.tenant("Crash");
    tenant.sync_agents(&[("alice", true), ("bob", true)]);
    let chat = start_chat(&host, &tenant, "visitor-0", Some("hello"));
    (tenant, chat)
}

fn skip_on_spin() -> bool {
    if on_real_spin() {
        eprintln!(
            "skipped on Spin: the crash points come from the local runtime's \
             test-only fault knob ({ABORT_KNOB}), which Spin does not have"
        );
    }
    on_real_spin()
}

/// One crash point: a fresh conversation (so that no earlier crash's
/// leftovers, such as a dead document claim, shape this one), then `request`
/// on a host armed to abort after its write `n`.
struct Attempt {
    conversation: String,
    /// The status, or `None` when the host died answering.
    status: Option<u16>,
}

/// Runs `request` with a crash after write 1, 2, … until one completes;
/// returns every attempt, the completed one last.
fn every_crash_point(
    store: &Store,
    tenant: &Tenant,
    request: impl Fn(&str, &str) -> Option<u16>,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for n in 1..=MAX_CRASH_POINTS {
        let conversation = {
            let host = store.host(None);
            start_chat(&host, tenant, &format!("visitor-{n}"), Some("hello")).id
        };
        let host = store.host(Some(n));
        let status = request(&host.base, &conversation);
        drop(host);
        let done = status.is_some();
        attempts.push(Attempt {
            conversation,
            status,
        });
        if done {
            // The request never reached write n: it takes n - 1 writes.
            eprintln!("the request takes {} key-value writes", n - 1);
            return attempts;
        }
    }
    panic!("the request still crashed after {MAX_CRASH_POINTS} writes");
}

#[test]
fn a_crash_after_any_write_of_a_message_post_leaves_it_in_both_readers_or_neither() {
    if skip_on_spin() {
        return;
    }
    let store = Store::new();
    let (tenant, chat) = prepare(&store);
    let text = "the reply";
    let attempts = every_crash_point(&store, &tenant, |base, conversation| {
        let body = json!({"agent_id": "alice", "text": text});
        try_post(base, &tenant.token, &reply_path(conversation), &body)
    });
    assert!(
        attempts.len() > 4,
        "a post writes its event, its message and more"
    );
    let proof = settle(&store, &tenant, &chat, "proof");
    assert_one_outcome(&proof, &["hello".into(), "proof".into()]);
    let host = store.host(None);
    let mut stored = 0;
    for (n, attempt) in attempts.iter().enumerate() {
        let seen = seen(&host.base, &tenant.token, &attempt.conversation);
        let acknowledged: Vec<String> = match attempt.status {
            Some(201) => vec!["hello".into(), text.into()],
            None => vec!["hello".into()],
            Some(status) => panic!("crash after write {}: answered {status}", n + 1),
        };
        assert_one_outcome(&seen, &acknowledged);
        assert!(
            seen.listed.len() <= 2,
            "crash after write {}: {seen:?}",
            n + 1
        );
        stored += usize::from(seen.listed.len() == 2);
    }
    // Crashes after the commit point keep the message: both outcomes were tried.
    assert!(
        stored >= 2 && stored < attempts.len(),
        "{stored} of {}",
        attempts.len()
    );
}

#[test]
fn a_crash_after_any_write_of_an_assignment_leaves_it_in_the_document_and_the_log_or_neither() {
    if skip_on_spin() {
        return;
    }
    let store = Store::new();
    let (tenant, chat) = prepare(&store);
    let attempts = every_crash_point(&store, &tenant, |base, conversation| {
        let path = format!("/api/v1/conversations/{conversation}/assign");
        try_post(base, &tenant.token, &path, &json!({"agent_id": "bob"}))
    });
    assert!(
        attempts.len() > 4,
        "an assignment writes its event, the document and more"
    );
    settle(&store, &tenant, &chat, "proof");
    let host = store.host(None);
    let api = edgechat_tests::Client::new(&host.base).with_bearer(&tenant.token);
    let mut assigned = 0;
    for (n, attempt) in attempts.iter().enumerate() {
        let path = format!("/api/v1/conversations/{}", attempt.conversation);
        let document = api.get(&path).expect(200).json();
        let in_document = document["assignee_id"] == "bob";
        match attempt.status {
            Some(200) => assert!(in_document, "acknowledged but not written"),
            None => {}
            Some(status) => panic!("crash after write {}: answered {status}", n + 1),
        }
        let expected: Vec<String> = if in_document {
            vec!["bob".into()]
        } else {
            vec![]
        };
        let seen = seen(&host.base, &tenant.token, &attempt.conversation);
        assert_eq!(
            seen.assigned,
            expected,
            "crash after write {}: the event log must show the assignment iff the \
             conversation has it",
            n + 1
        );
        assigned += usize::from(in_document);
    }
    assert!(
        assigned >= 2 && assigned < attempts.len(),
        "{assigned} of {}",
        attempts.len()
    );
}

#[test]
fn kill_9_under_write_load_leaves_every_message_in_both_readers_or_neither() {
    let store = Store::new();
    let (tenant, chat) = prepare(&store);
    let mut acknowledged = vec!["hello".to_string()];
    for round in 0..3 {
        let host = store.host(None);
        let stop = Arc::new(AtomicBool::new(false));
        let posted = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let (base, token, path) = (
                    host.base.clone(),
                    tenant.token.clone(),
                    reply_path(&chat.id),
                );
                let (stop, posted) = (stop.clone(), posted.clone());
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0.. {
                        let text = format!("load {round}.{writer}.{i}");
                        let body = json!({"agent_id": "alice", "text": text});
                        match try_post(&base, &token, &path, &body) {
                            Some(201) => {
                                mine.push(text);
                                posted.fetch_add(1, Ordering::SeqCst);
                            }
                            _ => return mine, // killed: stop writing
                        }
                        if stop.load(Ordering::SeqCst) {
                            return mine;
                        }
                    }
                    mine
                })
            })
            .collect();
        // Kill in the middle of the load, once it is well under way.
        let deadline = Instant::now() + Duration::from_secs(120);
        while posted.load(Ordering::SeqCst) < 20 + round * 7 {
            assert!(Instant::now() < deadline, "the load never got going");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(host); // SIGKILL to the runtime, mid-request for most writers
        stop.store(true, Ordering::SeqCst);
        for writer in writers {
            acknowledged.extend(writer.join().expect("writer"));
        }
    }
    let seen = settle(&store, &tenant, &chat, "proof");
    acknowledged.push("proof".into());
    assert_one_outcome(&seen, &acknowledged);
}
