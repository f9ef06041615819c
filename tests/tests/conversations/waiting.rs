//! Waiting budgets: past them a long-poll is refused at once with a
//! retryable 503 problem (`Retry-After`), never a 500, while the rest of
//! the app answers; one account cannot take another's share; a refused
//! poll succeeds once a slot is free.

use crate::{Chat, items, next_cursor, start_chat, tenant};
use edgechat_tests::{Host, HostOptions, Reply, Tenant};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous: how long a test waits for a condition before it fails.
const DEADLINE: Duration = Duration::from_secs(60);

fn host_with_budgets(total: u32, per_account: u32) -> Host {
    HostOptions::app()
        .env("SPIN_VARIABLE_LONG_POLL_SLOTS", &total.to_string())
        .env(
            "SPIN_VARIABLE_LONG_POLL_SLOTS_PER_ACCOUNT",
            &per_account.to_string(),
        )
        .start()
}

/// A visitor's long-poll from the tail of its chat, waiting up to 30 s. A
/// probe of the test may hold a slot for a moment just when this poll
/// arrives: then it is refused, and tries again until it waits.
fn wait_on(chat: &Chat) -> JoinHandle<Reply> {
    let cursor = next_cursor(chat.visitor.get(&chat.messages_path()).expect(200));
    let (visitor, path) = (
        chat.visitor.clone(),
        format!("{}?cursor={cursor}&wait=30", chat.messages_path()),
    );
    std::thread::spawn(move || {
        let began = Instant::now();
        loop {
            let reply = visitor.get(&path);
            if reply.status != 503 || began.elapsed() > DEADLINE {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

/// Polls `chat` with a short wait until the answer is `status`.
fn poll_until(chat: &Chat, status: u16) -> Reply {
    let began = Instant::now();
    loop {
        let reply = chat
            .visitor
            .get(&format!("{}?wait=0.5", chat.messages_path()));
        if reply.status == status {
            return reply;
        }
        assert!(
            began.elapsed() < DEADLINE,
            "never answered {status}; last: {reply:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_busy(reply: &Reply) {
    let problem = reply.expect_problem(503);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("waiting")),
        "{problem}"
    );
    let retry_after: u32 = reply
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after >= 1, "{retry_after}");
}

fn chats(host: &Host, tenant: &Tenant, count: usize) -> Vec<Chat> {
    (0..count)
        .map(|i| start_chat(host, tenant, &format!("v{i}"), None))
        .collect()
}

#[test]
fn polls_past_the_account_budget_are_refused_retryably_and_served_once_a_slot_frees() {
    let host = host_with_budgets(100, 2);
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true)]);
    let chats = chats(&host, &acme, 3);
    let holders: Vec<_> = chats[..2].iter().map(wait_on).collect();

    // Once both hold their slot, the third is turned away at once.
    let refused = poll_until(&chats[2], 503);
    assert_busy(&refused);
    // Answers that wait for nothing need no slot; the rest of the app answers.
    let now = chats[2].visitor.get(&chats[2].messages_path());
    assert_eq!(items(now.expect(200)).len(), 0);
    host.client().get("/healthz").expect(200);
    acme.api.get("/api/v1/conversations").expect(200);
    // Another account has a share of its own.
    let globex = tenant(&host, "Globex");
    let other = start_chat(&host, &globex, "g", None);
    poll_until(&other, 200);

    // The holders get their reply and give their slots back.
    for chat in &chats[..2] {
        crate::reply(&acme, chat, "alice", "hello").expect(201);
    }
    for holder in holders {
        assert_eq!(items(holder.join().unwrap().expect(200)).len(), 1);
    }
    poll_until(&chats[2], 200);
}

#[test]
fn the_store_budget_holds_across_accounts_and_the_integration_api_long_polls_too() {
    let host = host_with_budgets(2, 10);
    let acme = tenant(&host, "Acme");
    let globex = tenant(&host, "Globex");
    let a = start_chat(&host, &acme, "a", None);
    let g = start_chat(&host, &globex, "g", None);
    let holders = [wait_on(&a), wait_on(&g)];

    let third = start_chat(&host, &tenant(&host, "Initech"), "i", None);
    assert_busy(&poll_until(&third, 503));
    // The event log's long-poll counts against the same budget.
    let cursor = next_cursor(acme.api.get("/api/v1/events").expect(200));
    let events = acme
        .api
        .get(&format!("/api/v1/events?cursor={cursor}&wait=5"));
    assert_busy(&events);
    host.client().get("/healthz").expect(200);

    a.say("done").expect(201);
    g.say("done").expect(201);
    for holder in holders {
        assert_eq!(items(holder.join().unwrap().expect(200)).len(), 1);
    }
    poll_until(&third, 200);
}

#[test]
fn waiting_polls_beyond_the_budget_never_exhaust_the_instance_pool() {
    // A pool of 12 instances, of which the budget lets 6 wait: the other
    // six always serve everything else, and no request ever gets a 500.
    let host = HostOptions::app()
        .env("SPIN_WASMTIME_INSTANCE_COUNT", "12")
        .env("SPIN_VARIABLE_LONG_POLL_SLOTS", "6")
        .env("SPIN_VARIABLE_LONG_POLL_SLOTS_PER_ACCOUNT", "6")
        .start();
    let acme = tenant(&host, "Acme");
    let chats = chats(&host, &acme, 10);
    let holders: Vec<_> = chats[..6].iter().map(wait_on).collect();
    assert_busy(&poll_until(&chats[6], 503));
    // Turned away one after the other, as widgets coming back would be.
    for chat in &chats[6..] {
        for _ in 0..3 {
            let reply = chat
                .visitor
                .get(&format!("{}?wait=10", chat.messages_path()));
            assert_busy(&reply);
            host.client().get("/healthz").expect(200);
        }
    }
    for chat in &chats[..6] {
        chat.say("bye").expect(201);
    }
    for holder in holders {
        holder.join().unwrap().expect(200);
    }
}
