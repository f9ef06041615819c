//! Cursors never skip or repeat, also while writes go on.

use crate::{items, next_cursor, start_app, start_chat, tenant};
use edgechat_tests::in_parallel;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn the_change_feed_neither_skips_nor_repeats_while_conversations_start() {
    let host = Arc::new(start_app());
    let acme = Arc::new(tenant(&host, "Acme"));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (host, acme, done) = (host.clone(), acme.clone(), done.clone());
        std::thread::spawn(move || {
            let ids: Vec<String> = (0..60)
                .map(|i| start_chat(&host, &acme, &format!("v{i}"), None).id)
                .collect();
            done.store(true, Ordering::SeqCst);
            ids
        })
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = acme
            .api
            .get(&format!("/api/v1/conversations?limit=7&cursor={cursor}"));
        page.expect(200);
        let page_items = items(&page);
        assert!(page_items.len() <= 7);
        seen.extend(
            page_items
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        cursor = next_cursor(&page);
        if finished && page_items.is_empty() {
            break;
        }
    }
    let started = writer.join().unwrap();
    assert_eq!(
        seen, started,
        "each conversation once, in the order they started"
    );
}

#[test]
fn a_conversation_reappears_only_when_it_changes_again() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    acme.sync_agents(&[("alice", true)]);
    let a = start_chat(&host, &acme, "a", Some("one"));
    let b = start_chat(&host, &acme, "b", None);
    a.say("two").expect(201);
    let first = acme.api.get("/api/v1/conversations");
    first.expect(200);
    let ids: Vec<_> = items(&first)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [b.id.clone(), a.id.clone()],
        "ordered by last change, each once"
    );
    let cursor = next_cursor(&first);
    let idle = acme
        .api
        .get(&format!("/api/v1/conversations?cursor={cursor}"));
    idle.expect(200);
    assert!(items(&idle).is_empty());
    assert_eq!(
        next_cursor(&idle),
        cursor,
        "an empty page keeps the position"
    );
    crate::reply(&acme, &b, "alice", "hi b").expect(201);
    let later = acme
        .api
        .get(&format!("/api/v1/conversations?cursor={cursor}"));
    later.expect(200);
    let ids: Vec<_> = items(&later)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [b.id.clone()]);
}

#[test]
fn message_and_event_cursors_neither_skip_nor_repeat_under_concurrent_posts() {
    let host = Arc::new(start_app());
    let acme = Arc::new(tenant(&host, "Acme"));
    let chat = Arc::new(start_chat(&host, &acme, "v", None));
    let writer = {
        let chat = chat.clone();
        std::thread::spawn(move || {
            in_parallel(80, 8, move |i| {
                chat.say(&format!("m{i}")).expect(201);
            })
        })
    };
    let mut seqs = Vec::new();
    let mut events = Vec::new();
    let (mut cursor, mut event_cursor) = (String::new(), String::new());
    loop {
        let writing = !writer.is_finished();
        let page = chat
            .visitor
            .get(&format!("{}?cursor={cursor}", chat.messages_path()));
        page.expect(200);
        seqs.extend(items(&page).iter().map(|m| m["seq"].as_u64().unwrap()));
        cursor = next_cursor(&page);
        let page = acme
            .api
            .get(&format!("/api/v1/events?limit=9&cursor={event_cursor}"));
        page.expect(200);
        events.extend(items(&page).iter().map(|e| e["seq"].as_u64().unwrap()));
        event_cursor = next_cursor(&page);
        if !writing && seqs.len() == 80 && events.len() == 81 {
            break;
        }
        assert!(
            seqs.len() <= 80 && events.len() <= 81,
            "repeats: {seqs:?} {events:?}"
        );
    }
    writer.join().unwrap();
    assert_eq!(seqs, (1..=80).collect::<Vec<u64>>());
    let distinct: HashSet<u64> = events.iter().copied().collect();
    assert_eq!(distinct.len(), 81);
    assert!(events.windows(2).all(|w| w[0] < w[1]), "{events:?}");
}
