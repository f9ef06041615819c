use super::*;
use crate::api::agents::{self, AgentInput};
use crate::base::ids::TokenId;
use crate::base::time::ManualClock;
use crate::chat::events::Event;
use crate::storage::store::MemoryStore;
use crate::testing::World;
use std::cell::Cell;

const KEY: &[u8] = b"signing-key";

struct Chat {
    world: World,
    site: SiteKey,
    /// Test labels ("visitor-1") to the visitor ids minted for them.
    visitors: std::cell::RefCell<std::collections::HashMap<String, CustomerId>>,
}

impl std::ops::Deref for Chat {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

fn world() -> Chat {
    let (world, site) = World::with_account(Actor::Token(TokenId::generate()));
    Chat {
        world,
        site,
        visitors: Default::default(),
    }
}

impl Chat {
    /// The visitor id minted for the browser this test calls `label`.
    fn visitor(&self, label: &str) -> CustomerId {
        self.visitors
            .borrow_mut()
            .entry(label.to_string())
            .or_insert_with(|| visitors::mint_id(KEY, &self.caller.account))
            .clone()
    }

    fn start(&self, visitor: &str, text: Option<&str>) -> (Started, Visitor) {
        let input = StartInput {
            site: self.site.clone(),
            visitor: self.visitor(visitor).to_string(),
            text: text.map(str::to_string),
        };
        let started = start(&self.kv, &self.clock, KEY, &input).unwrap();
        let visitor = visitors::verify(KEY, &started.visitor_token, self.clock.now()).unwrap();
        (started, visitor)
    }

    fn events(&self) -> Vec<Event> {
        events::page(
            &self.kv,
            &self.clock,
            &self.caller.account,
            &longpoll::Query::first(500),
            longpoll::NO_SLEEP,
        )
        .unwrap()
        .items
    }

    fn event_types(&self) -> Vec<String> {
        self.events().into_iter().map(|e| e.kind).collect()
    }

    fn agents(&self, ids: &[(&str, bool)]) {
        let inputs: Vec<AgentInput> = ids
            .iter()
            .map(|(id, available)| AgentInput {
                id: AgentId::parse(id).unwrap(),
                name: id.to_string(),
                email: None,
                online: Some(true),
                available: Some(*available),
            })
            .collect();
        agents::sync(&self.kv, &self.clock, &self.caller, &inputs).unwrap();
    }

    fn feed_ids(&self, cursor: Option<&str>, limit: usize) -> (Vec<String>, String) {
        let page = feed(
            &self.kv,
            &self.clock,
            &self.caller.account,
            cursor,
            limit,
            None,
        )
        .unwrap();
        let ids = page
            .items
            .iter()
            .map(|v| v.conversation.id.to_string())
            .collect();
        (ids, page.next_cursor)
    }
}

#[test]
fn starting_a_chat_creates_the_customer_the_conversation_and_its_first_message() {
    let w = world();
    let (started, visitor) = w.start("visitor-1", Some("Hello?"));
    let id = w.visitor("visitor-1");
    assert_eq!(started.customer_id, id);
    assert_eq!(visitor.conversation, started.conversation_id);
    assert!(customers::get(&w.kv, &w.caller.account, id.as_str()).is_ok());
    let view = get(&w.kv, &w.caller.account, started.conversation_id.as_str()).unwrap();
    assert_eq!(view.conversation.status, Status::Open);
    assert_eq!(view.conversation.assignee_id, None);
    assert_eq!(
        w.event_types(),
        [CONVERSATION_CREATED, events::MESSAGE_CREATED]
    );
    assert_eq!(view.last_event_seq, 2);
    let page = visitor_messages(
        &w.kv,
        &w.clock,
        &visitor,
        started.conversation_id.as_str(),
        &longpoll::Query::first(messages::DEFAULT_PAGE),
        longpoll::NO_SLEEP,
    )
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].text, "Hello?");
    assert_eq!(page.items[0].seq, 1);
    assert_eq!(
        page.items[0].author,
        Author::visitor(&w.visitor("visitor-1"))
    );
}

#[test]
fn an_unknown_site_is_not_found_and_writes_nothing() {
    let kv = MemoryStore::new();
    let clock = ManualClock::at(Timestamp::from_millis(0));
    let input = StartInput {
        site: SiteKey::generate(),
        visitor: "v".into(),
        text: None,
    };
    assert!(matches!(
        start(&kv, &clock, KEY, &input),
        Err(Error::NotFound(_))
    ));
    assert!(kv.is_empty());
}

#[test]
fn start_requests_name_each_invalid_field() {
    let Err(Error::Invalid(errors)) =
        parse_start(&json!({"site": "nope", "visitor": "a b", "text": ""}))
    else {
        panic!("expected invalid");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["site", "text"]);
}

#[test]
fn a_visitor_reaches_only_its_own_conversation() {
    let w = world();
    let (mine, me) = w.start("me", None);
    let (theirs, _) = w.start("them", None);
    assert!(
        post_visitor_message(&w.kv, &w.clock, &me, mine.conversation_id.as_str(), "hi").is_ok()
    );
    for other in [theirs.conversation_id.as_str(), "conv_nope"] {
        assert!(matches!(
            post_visitor_message(&w.kv, &w.clock, &me, other, "hi"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            visitor_messages(
                &w.kv,
                &w.clock,
                &me,
                other,
                &longpoll::Query::first(messages::DEFAULT_PAGE),
                longpoll::NO_SLEEP
            ),
            Err(Error::NotFound(_))
        ));
    }
}

#[test]
fn a_visitor_message_reopens_a_closed_conversation_but_an_agent_reply_does_not() {
    let w = world();
    w.agents(&[("alice", true)]);
    let (started, visitor) = w.start("v", None);
    let id = started.conversation_id.as_str();
    let alice = AgentId::parse("alice").unwrap();
    assert_eq!(
        close(&w.kv, &w.clock, &w.caller, id)
            .unwrap()
            .conversation
            .status,
        Status::Closed
    );
    reply(&w.kv, &w.clock, &w.caller, id, &alice, "Anything else?").unwrap();
    assert_eq!(
        get(&w.kv, &w.caller.account, id)
            .unwrap()
            .conversation
            .status,
        Status::Closed
    );
    post_visitor_message(&w.kv, &w.clock, &visitor, id, "Yes!").unwrap();
    let view = get(&w.kv, &w.caller.account, id).unwrap();
    assert_eq!(view.conversation.status, Status::Open);
    assert!(view.conversation.closed_at.is_some());
    assert_eq!(
        w.event_types(),
        [
            events::AGENT_UPDATED,
            CONVERSATION_CREATED,
            CONVERSATION_CLOSED,
            events::MESSAGE_CREATED,
            CONVERSATION_REOPENED,
            events::MESSAGE_CREATED
        ]
    );
}

#[test]
fn repeated_closes_and_assignments_record_one_event_each() {
    let w = world();
    w.agents(&[("alice", true)]);
    let (started, _) = w.start("v", None);
    let id = started.conversation_id.as_str();
    let alice = AgentId::parse("alice").unwrap();
    for _ in 0..2 {
        let view = assign(&w.kv, &w.clock, &w.caller, id, &alice).unwrap();
        assert_eq!(view.conversation.assignee_id, Some(alice.clone()));
        close(&w.kv, &w.clock, &w.caller, id).unwrap();
    }
    assert_eq!(
        w.event_types(),
        [
            events::AGENT_UPDATED,
            CONVERSATION_CREATED,
            CONVERSATION_ASSIGNED,
            CONVERSATION_CLOSED
        ]
    );
    let assigned = &w.events()[2];
    assert_eq!(assigned.data["agent_id"], "alice");
    assert_eq!(assigned.data["previous_agent_id"], Value::Null);
}

#[test]
fn assigning_or_replying_as_an_unknown_agent_is_not_found_and_changes_nothing() {
    let w = world();
    let (started, _) = w.start("v", None);
    let id = started.conversation_id.as_str();
    let ghost = AgentId::parse("ghost").unwrap();
    let Err(Error::NotFound(detail)) = assign(&w.kv, &w.clock, &w.caller, id, &ghost) else {
        panic!("expected 404");
    };
    assert!(detail.contains("ghost"), "{detail}");
    assert!(matches!(
        reply(&w.kv, &w.clock, &w.caller, id, &ghost, "hi"),
        Err(Error::NotFound(_))
    ));
    assert_eq!(w.event_types(), [CONVERSATION_CREATED]);
}

#[test]
fn round_robin_routes_new_conversations_in_turn() {
    let w = world();
    w.agents(&[("alice", true), ("bob", true), ("carol", false)]);
    routing::set(&w.kv, &w.clock, &w.caller, routing::Mode::RoundRobin).unwrap();
    let assignees: Vec<String> = (0..4)
        .map(|i| {
            let (started, _) = w.start(&format!("v{i}"), None);
            let view = get(&w.kv, &w.caller.account, started.conversation_id.as_str()).unwrap();
            view.conversation.assignee_id.unwrap().to_string()
        })
        .collect();
    assert_eq!(assignees, ["alice", "bob", "alice", "bob"]);
    let assigned = w
        .events()
        .into_iter()
        .find(|e| e.kind == CONVERSATION_ASSIGNED)
        .unwrap();
    assert_eq!(assigned.data["by"], "routing:round_robin");
}

#[test]
fn the_feed_shows_each_conversation_once_at_its_latest_change() {
    let w = world();
    let (a, va) = w.start("a", Some("first"));
    let (b, _) = w.start("b", None);
    let (c, _) = w.start("c", None);
    post_visitor_message(&w.kv, &w.clock, &va, a.conversation_id.as_str(), "again").unwrap();
    let (ids, cursor) = w.feed_ids(None, 50);
    let expected: Vec<String> = [&b, &c, &a]
        .iter()
        .map(|s| s.conversation_id.to_string())
        .collect();
    assert_eq!(ids, expected);
    let (none, same) = w.feed_ids(Some(&cursor), 50);
    assert!(none.is_empty());
    assert_eq!(same, cursor);
    close(&w.kv, &w.clock, &w.caller, b.conversation_id.as_str()).unwrap();
    let (changed, _) = w.feed_ids(Some(&cursor), 50);
    assert_eq!(changed, [b.conversation_id.to_string()]);
    let closed = feed(
        &w.kv,
        &w.clock,
        &w.caller.account,
        None,
        50,
        Some(Status::Closed),
    )
    .unwrap();
    assert_eq!(closed.items.len(), 1);
    assert_eq!(closed.items[0].conversation.id, b.conversation_id);
}

#[test]
fn feed_pages_neither_skip_nor_repeat_while_conversations_are_started() {
    let w = world();
    let mut started = Vec::new();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0..10 {
        for i in 0..7 {
            started.push(
                w.start(&format!("v{round}-{i}"), None)
                    .0
                    .conversation_id
                    .to_string(),
            );
        }
        let (ids, next) = w.feed_ids(cursor.as_deref(), 3);
        seen.extend(ids);
        cursor = Some(next);
    }
    loop {
        let (ids, next) = w.feed_ids(cursor.as_deref(), 3);
        if ids.is_empty() {
            break;
        }
        seen.extend(ids);
        cursor = Some(next);
    }
    assert_eq!(seen, started);
}

#[test]
fn message_seqs_count_up_and_page_by_cursor() {
    let w = world();
    w.agents(&[("alice", true)]);
    let (started, visitor) = w.start("v", None);
    let id = started.conversation_id.as_str();
    let alice = AgentId::parse("alice").unwrap();
    for i in 0..5 {
        if i % 2 == 0 {
            post_visitor_message(&w.kv, &w.clock, &visitor, id, &format!("m{i}")).unwrap();
        } else {
            reply(&w.kv, &w.clock, &w.caller, id, &alice, &format!("m{i}")).unwrap();
        }
    }
    let first = messages(
        &w.kv,
        &w.clock,
        &w.caller.account,
        id,
        &longpoll::Query::first(2),
        longpoll::NO_SLEEP,
    )
    .unwrap();
    let rest = messages(
        &w.kv,
        &w.clock,
        &w.caller.account,
        id,
        &longpoll::Query {
            cursor: Some(first.next_cursor.clone()),
            ..longpoll::Query::first(10)
        },
        longpoll::NO_SLEEP,
    )
    .unwrap();
    let seqs: Vec<u64> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(first.items[1].author, Author::agent(&alice, "alice"));
}

#[test]
fn a_waiting_visitor_poll_returns_the_reply_that_arrives_meanwhile() {
    let w = world();
    w.agents(&[("alice", true)]);
    let (started, visitor) = w.start("v", Some("hi"));
    let id = started.conversation_id.as_str();
    let now = visitor_messages(
        &w.kv,
        &w.clock,
        &visitor,
        id,
        &longpoll::Query::first(messages::DEFAULT_PAGE),
        longpoll::NO_SLEEP,
    )
    .unwrap();
    let sleeps = Cell::new(0);
    let sleep = |millis| {
        sleeps.set(sleeps.get() + 1);
        w.clock.advance(millis as i64);
        if sleeps.get() == 3 {
            let alice = AgentId::parse("alice").unwrap();
            reply(&w.kv, &w.clock, &w.caller, id, &alice, "Hello from Alice").unwrap();
        }
    };
    let page = visitor_messages(
        &w.kv,
        &w.clock,
        &visitor,
        id,
        &longpoll::Query {
            cursor: Some(now.next_cursor.clone()),
            limit: messages::DEFAULT_PAGE,
            wait_millis: 30_000,
        },
        longpoll::Wait {
            sleep: &sleep,
            limits: longpoll::NO_SLEEP.limits,
        },
    )
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].text, "Hello from Alice");
    assert_eq!(sleeps.get(), 3);
}

#[test]
fn the_feed_skips_agent_and_customer_events() {
    let w = world();
    let (first, _) = w.start("visitor-1", None);
    w.agents(&[("alice", true)]);
    agents::set_status(&w.kv, &w.clock, &w.caller, "alice", false, false).unwrap();
    let (id, input) = customers::parse_put(
        w.visitor("visitor-1").as_str(),
        &json!({"id": 7, "labels": ["vip"]}),
    )
    .unwrap();
    customers::put(&w.kv, &w.clock, &w.caller, &id, &input).unwrap();
    assert_eq!(
        w.event_types(),
        [
            CONVERSATION_CREATED,
            events::AGENT_UPDATED,
            events::AGENT_UPDATED,
            events::CUSTOMER_UPDATED
        ]
    );
    let (ids, cursor) = w.feed_ids(None, 50);
    assert_eq!(ids, [first.conversation_id.to_string()]);
    let (none, same) = w.feed_ids(Some(&cursor), 50);
    assert!(none.is_empty());
    assert_eq!(
        same, cursor,
        "the cursor is past the skipped events already"
    );
    let (second, _) = w.start("visitor-2", None);
    let (ids, _) = w.feed_ids(Some(&cursor), 50);
    assert_eq!(ids, [second.conversation_id.to_string()]);
}

#[test]
fn a_chat_needs_a_visitor_id_minted_for_the_site() {
    let w = world();
    for visitor in [
        "john".to_string(),
        visitors::mint_id(KEY, &AccountId::generate()).to_string(),
    ] {
        let input = StartInput {
            site: w.site.clone(),
            visitor,
            text: Some("hi".into()),
        };
        let refused = start(&w.kv, &w.clock, KEY, &input);
        assert!(
            matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "visitor"),
            "{refused:?}"
        );
    }
    assert!(w.event_types().is_empty(), "nothing was written");
}

#[test]
fn a_verified_visitor_chats_as_the_tagged_customer_and_a_hint_stays_a_hint() {
    let w = world();
    let (john, input) =
        customers::parse_put("john", &json!({"id": 123, "labels": ["crm"]})).unwrap();
    customers::put(&w.kv, &w.clock, &w.caller, &john, &input).unwrap();
    let site = w.site.to_string();
    let identify = |label: &str, hash: Option<String>| {
        let mut body = json!({"site": site, "visitor": w.visitor(label), "id": 123, "email": "claimed@example.com"});
        if let Some(hash) = hash {
            body["hash"] = json!(hash);
        }
        crate::widget::identity::identify(
            &w.kv,
            &w.clock,
            KEY,
            &crate::widget::identity::parse_identify(&body).unwrap(),
        )
        .unwrap()
    };

    // No secret: a hint, shown as such; the chat is the visitor's own.
    assert!(!identify("stranger", None).verified);
    let (hinted, _) = w.start("stranger", None);
    assert_eq!(hinted.customer_id, w.visitor("stranger"));
    let view = get(&w.kv, &w.caller.account, hinted.conversation_id.as_str()).unwrap();
    let hint = view.conversation.identity.unwrap();
    assert!(!hint.verified);
    assert_eq!(hint.customer_id, None);
    assert_eq!(hint.email.as_deref(), Some("claimed@example.com"));

    // With the secret and the right hash: the chat belongs to john.
    let secret = "0123456789abcdef-secret";
    crate::widget::identity::put_secret(&w.kv, &w.clock, &w.caller, KEY, secret).unwrap();
    let hash = crate::widget::identity::identity_hash(secret.as_bytes(), "123");
    assert!(identify("john's browser", Some(hash)).verified);
    let (started, visitor) = w.start("john's browser", Some("hello"));
    assert_eq!(started.customer_id, john);
    assert_eq!(visitor.customer, w.visitor("john's browser"));
    let view = get(&w.kv, &w.caller.account, started.conversation_id.as_str()).unwrap();
    assert_eq!(
        view.conversation.visitor_id,
        Some(w.visitor("john's browser"))
    );
    // The browser keeps reaching its chat with its token.
    post_visitor_message(
        &w.kv,
        &w.clock,
        &visitor,
        started.conversation_id.as_str(),
        "again",
    )
    .unwrap();
}

#[test]
fn a_stale_activity_shows_a_conversation_twice_but_never_hides_it() {
    let w = world();
    let (started, visitor) = w.start("v", Some("first"));
    let id = started.conversation_id.as_str();
    post_visitor_message(&w.kv, &w.clock, &visitor, id, "second").unwrap();
    let events = w.event_types();
    assert_eq!(
        events,
        [
            CONVERSATION_CREATED,
            events::MESSAGE_CREATED,
            events::MESSAGE_CREATED
        ]
    );
    // Two posts at the same moment: the earlier event's batch landed last.
    let key =
        crate::storage::keys::conversation_activity(&w.caller.account, &started.conversation_id);
    let stale = json!({"v": 1, "event": 2, "at": w.clock.now()});
    w.kv.set(&key, stale.to_string().as_bytes()).unwrap();
    let (ids, _) = w.feed_ids(None, 50);
    assert_eq!(ids, [id, id], "shown at event 2 and at event 3");
}
