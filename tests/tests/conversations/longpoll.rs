//! Long-polls answer as soon as something arrives, and empty at `wait`.

use crate::{items, next_cursor, start_app, start_chat, tenant};
use std::time::{Duration, Instant};

#[test]
fn a_waiting_visitor_poll_returns_the_agent_reply_at_once() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true)]);
    let chat = start_chat(&host, &acme, "v", Some("hello?"));
    let first = chat.visitor.get(&chat.messages_path());
    let cursor = next_cursor(first.expect(200));

    let poll = {
        let visitor = chat.visitor.clone();
        let path = format!("{}?cursor={cursor}&wait=20", chat.messages_path());
        std::thread::spawn(move || visitor.get(&path))
    };
    // Most likely the poll is waiting by now; if not, it finds the reply on
    // its first read, which is right too.
    std::thread::sleep(Duration::from_millis(500));
    crate::reply(&acme, &chat, "alice", "Hi, I'm here").expect(201);
    // A poll that did not wake would answer empty when its 20 s ran out: the
    // reply in the page is the proof that it woke. (How fast: the benchmark.)
    let reply = poll.join().unwrap();
    let page = items(reply.expect(200));
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["text"], "Hi, I'm here");
}

#[test]
fn an_idle_poll_returns_empty_when_its_wait_runs_out() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    let chat = start_chat(&host, &acme, "v", None);
    let began = Instant::now();
    let reply = chat
        .visitor
        .get(&format!("{}?wait=1", chat.messages_path()));
    let took = began.elapsed();
    assert!(items(reply.expect(200)).is_empty());
    // It waited (a busy machine may only make it later, never earlier).
    assert!(took >= Duration::from_millis(950), "took {took:?}");

    let first = acme.api.get("/api/v1/events");
    let cursor = next_cursor(first.expect(200));
    let began = Instant::now();
    let idle = acme
        .api
        .get(&format!("/api/v1/events?cursor={cursor}&wait=1.5"));
    assert!(items(idle.expect(200)).is_empty());
    assert_eq!(next_cursor(&idle), cursor);
    assert!(began.elapsed() >= Duration::from_millis(1_450));
}

#[test]
fn a_waiting_event_poll_wakes_on_a_visitor_message() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    let chat = start_chat(&host, &acme, "v", None);
    let first = acme.api.get("/api/v1/events");
    let cursor = next_cursor(first.expect(200));
    let poll = {
        let api = acme.api.clone();
        std::thread::spawn(move || api.get(&format!("/api/v1/events?cursor={cursor}&wait=20")))
    };
    std::thread::sleep(Duration::from_millis(300));
    chat.say("ping").expect(201);
    // Not empty: the poll woke for the message before its 20 s ran out.
    let reply = poll.join().unwrap();
    let events = items(reply.expect(200));
    assert_eq!(events[0]["type"], "message.created");
    assert_eq!(events[0]["data"]["text"], "ping");
}
