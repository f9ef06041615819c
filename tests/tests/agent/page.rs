//! The agent page's session: cookie flags, the page, its API, CSRF, which
//! conversations it reaches, logout, agent removal.

use crate::*;

#[test]
fn the_session_cookie_is_httponly_lax_and_on_http_not_secure() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let joined = join(&host, &link(&tenant, "alice", &chat.id), None);
    joined.expect(303);
    assert_eq!(
        joined.header("location"),
        Some(format!("/agent/conversations/{}", chat.id).as_str())
    );
    assert_eq!(joined.header("cache-control"), Some("no-store"));
    assert_eq!(joined.header("referrer-policy"), Some("no-referrer"));
    let cookie = joined.header("set-cookie").unwrap();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("edgechat_agent="), "{cookie}");
    for wanted in ["Path=/", "Max-Age=43200", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "{cookie}");
    // The cookie is never the link's token, and holds no bearer token.
    let value = attributes[0].split_once('=').unwrap().1;
    assert!(value.starts_with(&format!("{}.", tenant.id)));
    assert!(!value.contains("v1."));
}

#[test]
fn on_https_the_cookie_is_host_prefixed_and_secure() {
    let base = "https://chat.example.test";
    let (host, tenant) = setup_with(HostOptions::app().env("SPIN_VARIABLE_PUBLIC_BASE_URL", base));
    let chat = start_chat(&host, &tenant, "v1");
    let joined = join(&host, &link(&tenant, "alice", &chat.id), None);
    joined.expect(303);
    let cookie = joined.header("set-cookie").unwrap();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(
        attributes[0].starts_with("__Host-edgechat_agent="),
        "{cookie}"
    );
    for wanted in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    assert!(
        !cookie.contains("Domain="),
        "__Host- cookies have no Domain"
    );
    // The page's changes must come from that origin.
    let mut browser = AgentBrowser {
        client: host.client(),
        cookie: cookie_pair(cookie),
        csrf: String::new(),
        origin: base.to_string(),
    };
    let page = browser.get(joined.header("location").unwrap());
    page.expect(200);
    browser.csrf = csrf_of(&page.body);
    let path = browser.api(&chat.id, "/messages");
    browser
        .post(&path, Some(&json!({"text": "From behind the proxy"})))
        .expect(201);
    browser
        .post_with(
            &path,
            Some(&json!({"text": "x"})),
            Some(&host.base),
            Some(&browser.csrf),
        )
        .expect_problem(403);
}

#[test]
fn the_page_shows_the_conversation_and_the_customers_tags() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let tagged = tenant.api.put(
            &format!("/api/v1/customers/{}", chat.customer_id),
            &json!({"email": "jane@example.com", "firstname": "Jane", "lastname": "Doe", "id": 4711, "labels": ["vip", "de"]}),
        );
    assert!(tagged.status < 300, "{}", tagged.body);
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let page = browser.get(&format!("/agent/conversations/{}", chat.id));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.body.contains("/agent/app.js"));
    let data = browser.get(&browser.api(&chat.id, "")).expect(200).json();
    assert_eq!(data["conversation"]["id"], chat.id.as_str());
    assert_eq!(data["customer"]["firstname"], "Jane");
    assert_eq!(data["customer"]["labels"], json!(["vip", "de"]));
    assert_eq!(data["customer"]["id"], 4711);
    assert_eq!(data["agent"], json!({"id": "alice", "name": "Alice Agent"}));
    let history = browser
        .get(&browser.api(&chat.id, "/messages"))
        .expect(200)
        .items();
    assert_eq!(history[0]["text"], "Hello, I need help");
    for asset in ["/agent/app.js", "/agent/app.css"] {
        host.client().get(asset).expect(200);
    }
}

#[test]
fn a_session_reaches_only_the_conversations_its_links_opened() {
    let (host, tenant) = setup();
    let mine = start_chat(&host, &tenant, "v1");
    let theirs = start_chat(&host, &tenant, "v2");
    let browser = sign_in(&host, &tenant, "alice", &mine.id);
    browser
        .get(&browser.api(&theirs.id, ""))
        .expect_problem(404);
    browser
        .get(&browser.api(&theirs.id, "/messages"))
        .expect_problem(404);
    browser
        .post(
            &browser.api(&theirs.id, "/messages"),
            Some(&json!({"text": "hi"})),
        )
        .expect_problem(404);
    browser
        .post(&browser.api(&theirs.id, "/close"), None)
        .expect_problem(404);
    let page = browser.get(&format!("/agent/conversations/{}", theirs.id));
    assert_eq!(page.status, 404);
    assert!(page.body.contains("No such conversation"));
    // An unknown id reads the same.
    browser
        .get(&browser.api("conv_00000000000000000000", ""))
        .expect_problem(404);
    // The session is not an API token.
    host.client()
        .send(
            "GET",
            "/api/v1/conversations",
            &[("cookie", &browser.cookie)],
            None,
        )
        .expect_problem(401);

    // A second link opened in the same browser extends the session.
    let token = link(&tenant, "alice", &theirs.id);
    let joined = join(&host, &token, Some(&browser.cookie));
    joined.expect(303);
    assert!(joined.header("set-cookie").is_none(), "the session goes on");
    browser.get(&browser.api(&theirs.id, "")).expect(200);
    browser.get(&browser.api(&mine.id, "")).expect(200);
}

#[test]
fn a_cross_site_change_is_refused() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let path = browser.api(&chat.id, "/messages");
    let body = json!({"text": "Sent by someone else's page"});
    let csrf = browser.csrf.clone();
    for (origin, token) in [
        (Some("https://evil.example"), Some(csrf.as_str())),
        (Some("null"), Some(csrf.as_str())),
        (None, Some(csrf.as_str())),
        (Some(browser.origin.as_str()), None),
        (Some(browser.origin.as_str()), Some("not-the-token")),
    ] {
        let reply = browser.post_with(&path, Some(&body), origin, token);
        reply.expect_problem(403);
    }
    browser
        .post_with(
            &browser.api(&chat.id, "/close"),
            None,
            Some("https://evil.example"),
            Some(&csrf),
        )
        .expect_problem(403);
    browser
        .post_with(
            "/agent/logout",
            None,
            Some("https://evil.example"),
            Some(&csrf),
        )
        .expect_problem(403);
    let messages = tenant
        .api
        .get(&format!("/api/v1/conversations/{}/messages", chat.id))
        .expect(200)
        .items();
    assert_eq!(messages.len(), 1, "nothing was posted: {messages:?}");
    let conversation = tenant
        .api
        .get(&format!("/api/v1/conversations/{}", chat.id))
        .expect(200)
        .json();
    assert_eq!(conversation["status"], "open");
    // The same request from the page itself works.
    browser.post(&path, Some(&body)).expect(201);
}

#[test]
fn a_page_reply_is_an_agent_reply_like_one_through_the_api() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let from_page = browser
        .post(
            &browser.api(&chat.id, "/messages"),
            Some(&json!({"text": "From the page"})),
        )
        .expect(201)
        .json();
    let from_api = tenant
        .api
        .post(
            &format!("/api/v1/conversations/{}/messages", chat.id),
            &json!({"agent_id": "alice", "text": "From the API"}),
        )
        .expect(201)
        .json();
    let author = json!({"type": "agent", "id": "alice", "name": "Alice Agent"});
    assert_eq!(from_page["author"], author);
    assert_eq!(from_api["author"], author);
    // The visitor sees both, with the name.
    let seen = chat
        .visitor
        .get(&format!("/v1/widget/conversations/{}/messages", chat.id))
        .expect(200)
        .items();
    let texts: Vec<&str> = seen.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        ["Hello, I need help", "From the page", "From the API"]
    );
    assert!(seen[1..].iter().all(|m| m["author"] == author));
    // The event log records both alike.
    let created: Vec<Value> = tenant
        .events()
        .into_iter()
        .filter(|e| e["type"] == "message.created")
        .collect();
    assert_eq!(created.len(), 3);
    assert_eq!(created[1]["data"], from_page);
    assert_eq!(created[2]["data"], from_api);
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&created[1]), keys(&created[2]));
    // The audit log says who: the agent on the page, the token on the API.
    let audited = audit(&tenant, "message.created");
    let actors: Vec<&str> = audited
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors[1], "agent:alice");
    assert!(actors[2].starts_with("token:"));
}

#[test]
fn closing_reopening_and_handing_over_from_the_page() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let api_view = || {
        tenant
            .api
            .get(&format!("/api/v1/conversations/{}", chat.id))
            .expect(200)
            .json()
    };
    let closed = browser
        .post(&browser.api(&chat.id, "/close"), None)
        .expect(200)
        .json();
    assert_eq!(closed["status"], "closed");
    assert_eq!(api_view()["status"], "closed");
    browser
        .post(&browser.api(&chat.id, "/reopen"), None)
        .expect(200);
    assert_eq!(api_view()["status"], "open");
    let by: Vec<String> = tenant
        .events()
        .into_iter()
        .filter(|e| e["type"] == "conversation.closed" || e["type"] == "conversation.reopened")
        .map(|e| e["data"]["by"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(by, ["agent:alice", "agent:alice"]);

    let minted = browser
        .post(
            &browser.api(&chat.id, "/handover"),
            Some(&json!({"agent_id": "bob"})),
        )
        .expect(201)
        .json();
    assert_eq!(minted["agent_id"], "bob");
    assert_eq!(api_view()["assignee_id"], "bob");
    let created = audit(&tenant, "agent_link.created");
    assert_eq!(created.last().unwrap()["actor"], "agent:alice");
    let bob = join(&host, &token_of(minted["url"].as_str().unwrap()), None);
    bob.expect(303);
    browser
        .post(
            &browser.api(&chat.id, "/handover"),
            Some(&json!({"agent_id": "carol"})),
        )
        .expect_problem(404);
}

#[test]
fn logout_ends_the_session() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let out = browser.post("/agent/logout", None);
    out.expect(204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("edgechat_agent=;") && cleared.contains("Max-Age=0"));
    let after = browser.get(&browser.api(&chat.id, ""));
    after.expect_problem(401);
    assert!(after.header("set-cookie").unwrap().contains("Max-Age=0"));
    let page = browser.get(&format!("/agent/conversations/{}", chat.id));
    assert_eq!(page.status, 401);
    assert!(page.body.contains("You are not signed in"));
    let logged_out = audit(&tenant, "agent_session.logged_out");
    assert_eq!(logged_out.len(), 1);
    assert_eq!(logged_out[0]["actor"], "agent:alice");
    browser.post("/agent/logout", None).expect_problem(401);
}

#[test]
fn removing_the_agent_ends_its_sessions_at_their_next_request() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let alice = sign_in(&host, &tenant, "alice", &chat.id);
    let bob = sign_in(&host, &tenant, "bob", &chat.id);
    tenant.api.delete("/api/v1/agents/bob").expect(204);
    bob.get(&bob.api(&chat.id, "")).expect_problem(401);
    alice.get(&alice.api(&chat.id, "")).expect(200);
    // Through a whole-list sync too.
    sync_agents(&tenant, &["carol"]);
    alice
        .post(
            &alice.api(&chat.id, "/messages"),
            Some(&json!({"text": "still here?"})),
        )
        .expect_problem(401);
    // Back in the list, the old session stays ended.
    sync_agents(&tenant, &["alice"]);
    alice.get(&alice.api(&chat.id, "")).expect_problem(401);
}

#[test]
fn the_page_long_polls_for_the_visitors_messages() {
    let (host, tenant) = setup();
    let chat = start_chat(&host, &tenant, "v1");
    let browser = sign_in(&host, &tenant, "alice", &chat.id);
    let first = browser
        .get(&browser.api(&chat.id, "/messages"))
        .expect(200)
        .json();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let path = browser.api(&chat.id, &format!("/messages?cursor={cursor}&wait=25"));
    let waiting = std::thread::spawn(move || browser.get(&path));
    std::thread::sleep(std::time::Duration::from_millis(300));
    chat.say("Are you there?").expect(201);
    let page = waiting.join().unwrap();
    let items = page.expect(200).items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["text"], "Are you there?");
}
