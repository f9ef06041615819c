use super::*;
use crate::api::agents::AgentInput;
use crate::api::auth::Actor;
use crate::base::ids::{SiteKey, TokenId};
use crate::chat::conversations::{StartInput, Status};
use crate::chat::visitors;
use crate::storage::store::KeyValue;
use crate::testing::World;
use serde_json::json;

const KEY: &[u8] = b"signing-key";
const OLD_KEY: &[u8] = b"the-previous-signing-key";
const ORIGIN: &str = "https://chat.example.com";

struct Setup {
    w: World,
    site: SiteKey,
}

fn setup() -> Setup {
    let (w, site) = World::with_account(Actor::Token(TokenId::generate()));
    for id in ["alice", "bob"] {
        let input = AgentInput {
            id: AgentId::parse(id).unwrap(),
            name: format!("Agent {id}"),
            email: None,
            online: Some(true),
            available: Some(false),
        };
        agents::upsert(&w.kv, &w.clock, &w.caller, &input).unwrap();
    }
    Setup { w, site }
}

impl Setup {
    fn chat(&self) -> (ConversationId, CustomerId) {
        let visitor = visitors::mint_id(KEY, &self.w.caller.account);
        let input = StartInput {
            site: self.site.clone(),
            visitor: visitor.to_string(),
            text: Some("hello".into()),
        };
        let started = conversations::start(&self.w.kv, &self.w.clock, KEY, &input).unwrap();
        (started.conversation_id, started.customer_id)
    }

    fn mint(&self, body: Value) -> Result<Minted> {
        let input = parse_mint(&body)?;
        mint(
            &self.w.kv,
            &self.w.clock,
            KEY,
            &self.w.caller,
            ORIGIN,
            &input,
        )
    }

    fn keys(&self) -> SigningKeys<'static> {
        SigningKeys {
            current: KEY,
            previous: None,
        }
    }

    fn join(&self, token: &str) -> Joined {
        join(&self.w.kv, &self.w.clock, &self.keys(), token, None).unwrap()
    }
}

fn token_of(url: &str) -> String {
    url.split_once("?token=").unwrap().1.to_string()
}

fn refusal(joined: Joined) -> Refusal {
    match joined {
        Joined::Refused(refused) => refused.refusal,
        Joined::LoggedIn { .. } => panic!("expected a refusal"),
    }
}

#[test]
fn a_minted_link_logs_its_agent_in_once_and_assigns_the_conversation() {
    let s = setup();
    let (conversation, _) = s.chat();
    let minted = s
        .mint(json!({"agent_id": "alice", "conversation_id": conversation}))
        .unwrap();
    assert!(
        minted
            .url
            .starts_with("https://chat.example.com/agent/join?token=v1.")
    );
    assert_eq!(
        minted.expires_at,
        Timestamp::from_millis((s.w.clock.now().millis() / 1_000 + 600) * 1_000)
    );
    let view = conversations::get(&s.w.kv, &s.w.caller.account, conversation.as_str()).unwrap();
    assert_eq!(view.conversation.assignee_id.unwrap().as_str(), "alice");
    let token = token_of(&minted.url);
    let Joined::LoggedIn { claims, session } = s.join(&token) else {
        panic!("the first open logs in");
    };
    assert_eq!(claims.agent.as_str(), "alice");
    assert!(session.cookie.is_some());
    assert_eq!(refusal(s.join(&token)), Refusal::Used);
}

#[test]
fn every_altered_part_of_a_token_is_tampered() {
    let s = setup();
    let (conversation, _) = s.chat();
    let token = token_of(
        &s.mint(json!({"agent_id": "alice", "conversation_id": conversation}))
            .unwrap()
            .url,
    );
    let parts: Vec<&str> = token.split('.').collect();
    let claims = decode_claims(parts[2]).unwrap();
    let mut forged = Vec::new();
    // Each field of the payload changed, the MAC kept.
    let mut fields = serde_json::to_value(&claims).unwrap();
    for field in ["account", "agent", "conversation", "link_id", "nonce"] {
        let mut changed = fields.clone();
        changed[field] = json!(format!("{}x", fields[field].as_str().unwrap()));
        forged.push(changed);
    }
    fields["expires"] = json!(claims.expires + 3_600);
    forged.push(fields);
    for payload in forged {
        let payload = base64url(&serde_json::to_vec(&payload).unwrap());
        let token = format!("{}.{}.{payload}.{}", parts[0], parts[1], parts[3]);
        assert_eq!(refusal(s.join(&token)), Refusal::Tampered, "{token}");
    }
    let other_key = sign(b"another key", &claims);
    let wrong_kid = format!("v1.00000000.{}.{}", parts[2], parts[3]);
    let v2 = token.replacen("v1.", "v2.", 1);
    let padded = format!("{token}=");
    let truncated = &token[..token.len() - 1];
    for bad in [
        other_key.as_str(),
        wrong_kid.as_str(),
        v2.as_str(),
        padded.as_str(),
        truncated,
        "",
        "v1",
        &token[..token.len() / 2],
    ] {
        assert_eq!(refusal(s.join(bad)), Refusal::Tampered, "{bad}");
    }
    // None of that consumed the real link.
    assert!(matches!(s.join(&token), Joined::LoggedIn { .. }));
}

#[test]
fn a_link_expires_at_its_second_and_is_not_consumed_by_a_late_open() {
    let s = setup();
    let (conversation, _) = s.chat();
    let minted = s
        .mint(json!({"agent_id": "alice", "conversation_id": conversation, "ttl_seconds": 60}))
        .unwrap();
    let token = token_of(&minted.url);
    s.w.clock
        .advance(minted.expires_at.millis() - s.w.clock.now().millis());
    assert_eq!(refusal(s.join(&token)), Refusal::Expired);
    let claims = decode_claims(token.split('.').nth(2).unwrap()).unwrap();
    let uses =
        s.w.kv
            .increment(&keys::agent_link_uses(&claims.account, &claims.link_id), 0)
            .unwrap();
    assert_eq!(uses, 0);
}

#[test]
fn the_previous_key_verifies_until_its_grace_period_ends() {
    let s = setup();
    let (conversation, _) = s.chat();
    let input = parse_mint(&json!({"agent_id": "alice", "conversation_id": conversation})).unwrap();
    let minted = mint(&s.w.kv, &s.w.clock, OLD_KEY, &s.w.caller, ORIGIN, &input).unwrap();
    let token = token_of(&minted.url);
    let until = s.w.clock.now().plus_millis(60_000);
    let rotated = SigningKeys {
        current: KEY,
        previous: Some((OLD_KEY, until)),
    };
    assert!(verify(&rotated, &token, s.w.clock.now()).is_ok());
    let at_end = verify(&rotated, &token, until).unwrap_err();
    assert_eq!(at_end.refusal, Refusal::KeyRetired);
    // Without the previous key configured it is simply not ours.
    let forgotten = verify(&s.keys(), &token, s.w.clock.now()).unwrap_err();
    assert_eq!(forgotten.refusal, Refusal::Tampered);
}

#[test]
fn rotation_variables_are_read_strictly() {
    let keys = SigningKeys::from_variables("k", "", "").unwrap();
    assert!(keys.previous.is_none());
    let keys = SigningKeys::from_variables("k", "old", "2026-02-01T00:00:00Z").unwrap();
    assert_eq!(keys.previous.unwrap().0, b"old");
    assert!(SigningKeys::from_variables("k", "old", "").is_err());
    assert!(SigningKeys::from_variables("k", "old", "tomorrow").is_err());
}

#[test]
fn a_removed_agent_or_a_foreign_conversation_is_refused() {
    let s = setup();
    let (conversation, _) = s.chat();
    let token = token_of(
        &s.mint(json!({"agent_id": "bob", "conversation_id": conversation}))
            .unwrap()
            .url,
    );
    agents::delete(&s.w.kv, &s.w.clock, &s.w.caller, "bob").unwrap();
    assert_eq!(refusal(s.join(&token)), Refusal::UnknownAgent);

    let mut claims = decode_claims(token.split('.').nth(2).unwrap()).unwrap();
    claims.agent = AgentId::parse("alice").unwrap();
    claims.conversation = ConversationId::generate();
    claims.link_id = LinkId::generate();
    assert_eq!(refusal(s.join(&sign(KEY, &claims))), Refusal::WrongAccount);
    let audited: Vec<String> = audit::page(
        &s.w.kv,
        &s.w.clock,
        &s.w.caller.account,
        None,
        100,
        Some("agent_link.refused"),
    )
    .unwrap()
    .items
    .into_iter()
    .map(|e| e.reason.unwrap_or_default())
    .collect();
    assert_eq!(audited, ["unknown_agent", "wrong_account"]);
}

#[test]
fn a_customer_id_names_its_most_recent_open_conversation() {
    let s = setup();
    let (first, customer) = s.chat();
    let minted = s
        .mint(json!({"agent_id": "alice", "customer_id": customer, "assign": false}))
        .unwrap();
    assert_eq!(minted.conversation_id, first);
    let view = conversations::get(&s.w.kv, &s.w.caller.account, first.as_str()).unwrap();
    assert_eq!(view.conversation.assignee_id, None, "assign: false");
    conversations::close(&s.w.kv, &s.w.clock, &s.w.caller, first.as_str()).unwrap();
    let err = s
        .mint(json!({"agent_id": "alice", "customer_id": customer}))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        conversations::get(&s.w.kv, &s.w.caller.account, first.as_str())
            .unwrap()
            .conversation
            .status,
        Status::Closed
    );
}

#[test]
fn bad_mint_requests_name_their_field_and_write_nothing() {
    let s = setup();
    let (conversation, _) = s.chat();
    let before = s.w.kv.keys();
    for (body, field) in [
        (json!({"conversation_id": conversation}), "agent_id"),
        (json!({"agent_id": "alice"}), "conversation_id"),
        (
            json!({"agent_id": "alice", "conversation_id": conversation, "customer_id": "c"}),
            "customer_id",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": "nope"}),
            "conversation_id",
        ),
        (
            json!({"agent_id": "a b", "conversation_id": conversation}),
            "agent_id",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conversation, "ttl_seconds": 0}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conversation, "ttl_seconds": 86_401}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conversation, "ttl_seconds": 1.5}),
            "ttl_seconds",
        ),
        (
            json!({"agent_id": "alice", "conversation_id": conversation, "assign": "yes"}),
            "assign",
        ),
        (json!([]), "body"),
    ] {
        let Err(Error::Invalid(errors)) = s.mint(body.clone()) else {
            panic!("{body} should be invalid");
        };
        assert_eq!(errors[0].field, field, "{body}");
    }
    for body in [
        json!({"agent_id": "carol", "conversation_id": conversation}),
        json!({"agent_id": "alice", "conversation_id": ConversationId::generate()}),
    ] {
        assert!(matches!(s.mint(body), Err(Error::NotFound(_))));
    }
    assert_eq!(s.w.kv.keys(), before);
}

#[test]
fn origins_come_from_the_variable_or_the_request() {
    assert_eq!(
        public_origin("", Some("http://127.0.0.1:3000/api/v1/agent-links")).unwrap(),
        "http://127.0.0.1:3000"
    );
    assert_eq!(
        public_origin("https://Chat.Example.com/", Some("http://10.0.0.1/x")).unwrap(),
        "https://chat.example.com"
    );
    for bad in [
        "chat.example.com",
        "ftp://x",
        "https://x/path",
        "https://u@x",
    ] {
        assert!(public_origin(bad, None).is_err(), "{bad}");
    }
    assert!(public_origin("", None).is_err());
}
