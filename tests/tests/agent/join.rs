//! Opening a link: the refusal matrix, single use under concurrency, an
//! agent removed after minting, key rotation.

use crate::*;
use edgechat::agent_links::{self, Claims};
use edgechat::crypto::{base64url, from_base64url};
use edgechat_tests::in_parallel;
use std::collections::BTreeMap;
use std::sync::Arc;

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(2).unwrap();
    serde_json::from_slice(&from_base64url(payload).unwrap()).unwrap()
}

/// The token with its payload replaced by `payload` (JSON), MAC kept.
fn with_payload(token: &str, payload: &Value, pretty: bool) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let bytes = if pretty {
        serde_json::to_vec_pretty(payload).unwrap()
    } else {
        serde_json::to_vec(payload).unwrap()
    };
    format!(
        "{}.{}.{}.{}",
        parts[0],
        parts[1],
        base64url(&bytes),
        parts[3]
    )
}

/// A refusal page: HTML with the status, saying what happened, no JSON.
#[track_caller]
fn assert_refused(reply: &Reply, status: u16, says: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{case}"
    );
    assert!(reply.body.contains(says), "{case}: {}", reply.body);
    assert!(reply.body.contains("<h1>"), "{case}");
    assert!(!reply.body.trim_start().starts_with('{'), "{case}");
    assert!(reply.header("set-cookie").is_none(), "{case}: no session");
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{case}");
}

#[test]
fn every_kind_of_bad_link_is_refused_with_its_page_status_and_audit_entry() {
    let (host, tenant) = setup();
    let other = host.tenant("Another shop");
    let chat = start_chat(&host, &tenant, "v1");
    let foreign_chat = start_chat(&host, &other, "v9");
    let token = link(&tenant, "alice", &chat.id);
    let claims = claims_of(&token);
    let real = serde_json::to_value(&claims).unwrap();

    // (case, token, status, reason, words on the page, audited in `other`?)
    let mut cases: Vec<(String, String, u16, &str, &str)> = Vec::new();
    let tampered = "This link is not valid";
    for field in ["agent", "conversation", "link_id", "nonce"] {
        let mut changed = real.clone();
        let value = changed[field].as_str().unwrap().to_string();
        // Still well-formed (the last hex digit / character changed).
        let last = value.chars().last().unwrap();
        let swapped = if last == 'a' { 'b' } else { 'a' };
        changed[field] = json!(format!("{}{swapped}", &value[..value.len() - 1]));
        cases.push((
            format!("{field} changed"),
            with_payload(&token, &changed, false),
            401,
            "tampered",
            tampered,
        ));
    }
    let mut later = real.clone();
    later["expires"] = json!(claims.expires + 86_400);
    cases.push((
        "expires changed".into(),
        with_payload(&token, &later, false),
        401,
        "tampered",
        tampered,
    ));
    cases.push((
        "re-encoded (same claims, other JSON)".into(),
        with_payload(&token, &real, true),
        401,
        "tampered",
        tampered,
    ));
    let mut mac_flipped = token.clone();
    let last = mac_flipped.pop().unwrap();
    mac_flipped.push(if last == 'A' { 'Q' } else { 'A' });
    cases.push(("MAC changed".into(), mac_flipped, 401, "tampered", tampered));
    cases.push((
        "MAC truncated".into(),
        token[..token.len() - 5].to_string(),
        401,
        "tampered",
        tampered,
    ));
    cases.push((
        "MAC padded".into(),
        format!("{token}="),
        401,
        "tampered",
        tampered,
    ));
    let parts: Vec<&str> = token.split('.').collect();
    cases.push((
        "key id changed".into(),
        format!("v1.0badc0de.{}.{}", parts[2], parts[3]),
        401,
        "tampered",
        tampered,
    ));
    cases.push((
        "version changed".into(),
        token.replacen("v1.", "v9.", 1),
        401,
        "tampered",
        tampered,
    ));
    let fresh = |c: &Claims| {
        let mut c = c.clone();
        c.link_id = edgechat::ids::LinkId::generate();
        c
    };
    cases.push((
        "signed with another key".into(),
        agent_links::sign(b"some-other-signing-key", &claims),
        401,
        "tampered",
        tampered,
    ));
    let mut expired = fresh(&claims);
    expired.expires = now_seconds() - 1;
    cases.push((
        "expired by one second".into(),
        agent_links::sign(signing_key(), &expired),
        410,
        "expired",
        "This link has expired",
    ));
    let mut foreign = fresh(&claims);
    foreign.conversation = edgechat::ids::ConversationId::parse(&foreign_chat.id).unwrap();
    cases.push((
        "account A's link for account B's conversation".into(),
        agent_links::sign(signing_key(), &foreign),
        401,
        "wrong_account",
        "does not fit its conversation",
    ));
    // Bob's link, then Bob removed from the list.
    let bobs = link(&tenant, "bob", &chat.id);
    tenant.api.delete("/api/v1/agents/bob").expect(204);
    cases.push((
        "agent removed after minting".into(),
        bobs,
        401,
        "unknown_agent",
        "This agent is not active",
    ));

    for (case, bad, status, _, says) in &cases {
        assert_refused(&join(&host, bad, None), *status, says, case);
    }
    // The real link was not consumed by any of that; it works once.
    join(&host, &token, None).expect(303);
    let again = join(&host, &token, None);
    assert_refused(&again, 410, "already been used", "used twice");
    cases.push(("used twice".into(), token.clone(), 410, "used", ""));

    // The account field changed to another real account: the MAC fails,
    // and the refusal is recorded where the token claimed to belong.
    let mut moved = real.clone();
    moved["account"] = json!(other.id);
    let moved = with_payload(&token, &moved, false);
    assert_refused(&join(&host, &moved, None), 401, tampered, "account changed");
    let in_other: Vec<Value> = audit(&other, "agent_link.refused");
    assert_eq!(in_other.len(), 1, "{in_other:?}");
    assert_eq!(in_other[0]["reason"], "tampered");

    // Unreadable tokens name no account: refused alike, only logged.
    for bad in ["", "v1", "garbage", &token[..token.len() / 2]] {
        let reply = host.client().get(&format!("/agent/join?token={bad}"));
        let expected = if bad.is_empty() { 400 } else { 401 };
        assert_eq!(reply.status, expected, "{bad:?}");
        assert!(reply.body.contains("<h1>"));
    }

    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, _, reason, _) in &cases {
        *expected.entry(reason.to_string()).or_default() += 1;
    }
    let mut audited: BTreeMap<String, usize> = BTreeMap::new();
    for entry in audit(&tenant, "agent_link.refused") {
        assert_eq!(
            entry["target"].as_str().unwrap().split(':').next(),
            Some("agent_link")
        );
        assert!(entry["actor"].as_str().unwrap().starts_with("agent:"));
        *audited
            .entry(entry["reason"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(audited, expected);
    assert_eq!(audit(&tenant, "agent_link.joined").len(), 1);
    println!(
        "refusal matrix: {} cases through GET /agent/join (+1 account-changed case audited in the account it named, +4 unreadable tokens logged only): {expected:?}",
        cases.len()
    );
}

#[test]
fn two_concurrent_opens_of_one_link_give_exactly_one_session() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    for round in 0..3 {
        let path = Arc::new(format!(
            "/agent/join?token={}",
            link(&tenant, "alice", &chat.id)
        ));
        let client = host.client();
        let statuses = in_parallel(8, 8, move |_| {
            let reply = client.get(&path);
            (reply.status, reply.header("set-cookie").is_some())
        });
        let joined: Vec<_> = statuses.iter().filter(|(s, _)| *s == 303).collect();
        assert_eq!(joined.len(), 1, "round {round}: {statuses:?}");
        assert!(joined[0].1, "the one join sets the cookie");
        assert_eq!(
            statuses.iter().filter(|(s, c)| *s == 410 && !c).count(),
            7,
            "round {round}: {statuses:?}"
        );
    }
    assert_eq!(audit(&tenant, "agent_link.joined").len(), 3);
    let used = audit(&tenant, "agent_link.refused");
    assert_eq!(used.len(), 21);
    assert!(used.iter().all(|e| e["reason"] == "used"));
}

#[test]
fn a_link_under_the_previous_key_works_during_the_grace_period_and_not_after() {
    let state = tempfile::tempdir().unwrap();
    let options = || {
        let mut options = HostOptions::app().state_dir(state.path());
        options.own_redis = false; // the hosts share the SQLite state dir
        options
    };
    let old_key = "the-old-signing-key-0123456789";
    let new_key = "the-new-signing-key-0123456789";
    let (before, after, token) = {
        let host = options().env("SPIN_VARIABLE_SIGNING_KEY", old_key).start();
        let tenant = host.tenant("Rotating shop");
        sync_agents(&tenant, &["alice"]);
        let chat = start_chat(&host, &tenant, "v1");
        let before = link(&tenant, "alice", &chat.id);
        let after = link(&tenant, "alice", &chat.id);
        (before, after, tenant.token.clone())
    };
    let rotated = |until: &str| {
        options()
            .env("SPIN_VARIABLE_SIGNING_KEY", new_key)
            .env("SPIN_VARIABLE_PREVIOUS_SIGNING_KEY", old_key)
            .env("SPIN_VARIABLE_PREVIOUS_SIGNING_KEY_UNTIL", until)
            .start()
    };
    {
        let host = rotated("2999-01-01T00:00:00Z");
        join(&host, &before, None).expect(303);
    }
    {
        let host = rotated("2000-01-01T00:00:00Z");
        let reply = join(&host, &after, None);
        assert_refused(&reply, 410, "no longer valid", "previous key retired");
        let api = host.client().with_bearer(&token);
        let refused = api
            .get("/api/v1/audit-logs?type=agent_link.refused")
            .expect(200)
            .items();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0]["reason"], "key_retired");
        // Links minted now are signed with the new key and work.
        let conversation = api.get("/api/v1/conversations").expect(200).items()[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let minted = api
            .post(
                "/api/v1/agent-links",
                &json!({"agent_id": "alice", "conversation_id": conversation}),
            )
            .expect(201)
            .json();
        let fresh = token_of(minted["url"].as_str().unwrap());
        assert_eq!(
            fresh.split('.').nth(1),
            Some(agent_links::key_id(new_key.as_bytes()).as_str())
        );
        join(&host, &fresh, None).expect(303);
    }
    // Without the previous key configured at all, the old link is not ours.
    let host = options().env("SPIN_VARIABLE_SIGNING_KEY", new_key).start();
    let reply = join(&host, &after, None);
    assert_refused(
        &reply,
        401,
        "This link is not valid",
        "previous key removed",
    );
}
