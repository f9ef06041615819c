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
    let deadline = Instant::now() + Duration::from_secs(90);
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
    assert_eq!(
        seen.listed, seen.evented,
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
    let chat = start_chat(&host, &tenant, "visitor-1", Some("hello"));
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

#[test]
fn a_crash_after_any_write_of_a_message_post_leaves_it_in_both_readers_or_neither() {
    if skip_on_spin() {
        return;
    }
    let store = Store::new();
    let (tenant, chat) = prepare(&store);
    let mut acknowledged = vec!["hello".to_string()];
    let mut crashes = 0;
    let mut writes_per_post = None;
    for n in 1..=MAX_CRASH_POINTS {
        let host = store.host(Some(n));
        let text = format!("crash after write {n}");
        let body = json!({"agent_id": "alice", "text": text});
        match try_post(&host.base, &tenant.token, &reply_path(&chat.id), &body) {
            None => crashes += 1,
            Some(201) => {
                acknowledged.push(text);
                // The post never reached write n: it takes n - 1 writes.
                writes_per_post = Some(n - 1);
                break;
            }
            Some(status) => panic!("{text}: answered {status}"),
        }
    }
    let writes = writes_per_post.expect("a post that writes fewer than the maximum");
    eprintln!("one agent reply takes {writes} key-value writes");
    assert_eq!(crashes, writes, "every write was a crash point");
    assert!(writes >= 4, "a post writes its event, its message and more");
    let seen = settle(&store, &tenant, &chat, "proof");
    acknowledged.push("proof".into());
    assert_one_outcome(&seen, &acknowledged);
}

#[test]
fn a_crash_after_any_write_of_an_assignment_leaves_it_in_the_document_and_the_log_or_neither() {
    if skip_on_spin() {
        return;
    }
    let store = Store::new();
    let (tenant, chat) = prepare(&store);
    // What the document says after each attempt: the assignments that
    // happened, which the event log must show, in that order.
    let (mut happened, mut assignee) = {
        let host = store.host(None);
        let api = edgechat_tests::Client::new(&host.base).with_bearer(&tenant.token);
        let conversation = api.get(&format!("/api/v1/conversations/{}", chat.id)).json();
        let assignee = conversation["assignee_id"].as_str().map(str::to_string);
        (seen(&host.base, &tenant.token, &chat.id).assigned, assignee)
    };
    let mut completed = false;
    for n in 1..=MAX_CRASH_POINTS {
        let target = if assignee.as_deref() == Some("alice") { "bob" } else { "alice" };
        let host = store.host(Some(n));
        let path = format!("/api/v1/conversations/{}/assign", chat.id);
        let status = try_post(&host.base, &tenant.token, &path, &json!({"agent_id": target}));
        drop(host);
        let check = store.host(None);
        let api = edgechat_tests::Client::new(&check.base).with_bearer(&tenant.token);
        let now = api.get(&format!("/api/v1/conversations/{}", chat.id)).expect(200).json();
        let now = now["assignee_id"].as_str().map(str::to_string);
        if status.is_some() {
            assert_eq!(status, Some(200), "assign after write {n}");
            assert_eq!(now.as_deref(), Some(target), "acknowledged but not written");
        }
        if now != assignee {
            happened.push(now.clone().expect("an assignee"));
            assignee = now;
        }
        if status.is_some() {
            completed = true;
            eprintln!("one assignment takes {} key-value writes", n - 1);
            break;
        }
    }
    assert!(completed, "an assignment that writes fewer than the maximum");
    assert!(happened.len() >= 2, "some crashes fell after the commit");
    let seen = settle(&store, &tenant, &chat, "proof");
    assert_eq!(
        seen.assigned, happened,
        "the event log must show exactly the assignments the document went through"
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
                let (base, token, path) = (host.base.clone(), tenant.token.clone(), reply_path(&chat.id));
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
