//! Who may read and write which conversation.

use crate::{start_app, start_chat, tenant};
use edgechat_tests::json;

#[test]
fn a_visitor_reaches_only_its_own_conversation() {
    let host = start_app();
    let acme = tenant(&host, "Acme");
    let globex = tenant(&host, "Globex");
    let mine = start_chat(&host, &acme, "me", Some("mine"));
    let same_visitor_other_chat = start_chat(&host, &acme, "me", Some("older chat"));
    let neighbour = start_chat(&host, &acme, "them", Some("theirs"));
    let other_account = start_chat(&host, &globex, "me", Some("elsewhere"));

    // My token opens my conversation.
    mine.visitor.get(&mine.messages_path()).expect(200);
    mine.say("hello").expect(201);

    // Any other conversation is "not found" for it, read or write, even one
    // of the same visitor id and one of another account.
    for other in [&same_visitor_other_chat, &neighbour, &other_account] {
        mine.visitor.get(&other.messages_path()).expect_problem(404);
        mine.visitor
            .post(&other.messages_path(), &json!({"text": "sneaky"}))
            .expect_problem(404);
    }
    mine.visitor
        .get("/v1/widget/conversations/conv_00000000000000000000/messages")
        .expect_problem(404);

    // Without a valid visitor token: 401 with a Bearer challenge.
    let anonymous = host.client();
    let tampered = format!("{}x", mine.token);
    for client in [
        anonymous.clone(),
        anonymous.with_bearer("garbage"),
        anonymous.with_bearer(&tampered),
        anonymous.with_bearer(&acme_api_token(&acme)),
    ] {
        for reply in [
            client.get(&mine.messages_path()),
            client.post(&mine.messages_path(), &json!({"text": "x"})),
        ] {
            reply.expect_problem(401);
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{reply:?}"
            );
        }
    }

    // A visitor token is not an API token.
    mine.visitor
        .get("/api/v1/conversations")
        .expect_problem(401);
    mine.visitor
        .get(&format!("/api/v1/conversations/{}", mine.id))
        .expect_problem(401);
    mine.visitor.get("/api/v1/events").expect_problem(401);

    // An account's API token does not reach another account's conversation.
    acme.api
        .get(&format!("/api/v1/conversations/{}", other_account.id))
        .expect_problem(404);
    acme.api
        .get(&format!(
            "/api/v1/conversations/{}/messages",
            other_account.id
        ))
        .expect_problem(404);
    acme.api
        .post(
            &format!("/api/v1/conversations/{}/close", other_account.id),
            &json!({}),
        )
        .expect_problem(404);
    let globex_feed = globex.api.get("/api/v1/conversations").expect(200).json();
    assert_eq!(globex_feed["items"].as_array().unwrap().len(), 1);

    // Nobody else's writes landed: my conversation has exactly my messages.
    let texts: Vec<String> = acme
        .api
        .get(&format!("/api/v1/conversations/{}/messages", mine.id))
        .expect(200)
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["mine", "hello"]);
}

/// The API token inside a tenant's client, for using it where it must fail.
fn acme_api_token(tenant: &crate::Tenant) -> String {
    // Mint a fresh token through the API rather than peeking into the client.
    let created = tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "probe"}))
        .expect(201)
        .json();
    created["token"]
        .as_str()
        .or(created["api_token"].as_str())
        .expect("a token")
        .to_string()
}
