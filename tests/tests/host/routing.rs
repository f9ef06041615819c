use edgechat_tests::HostOptions;

#[test]
fn the_most_specific_route_wins() {
    let host = HostOptions::probe().start();
    let client = host.client();
    let who = |path: &str| client.get(path).expect(200).json()["who"].clone();
    assert_eq!(who("/api/v1/exact"), "api-exact");
    assert_eq!(who("/api/v1/exact/below"), "api-v1");
    assert_eq!(who("/api/v1/agents"), "api-v1");
    assert_eq!(who("/api/v2/anything"), "api-wildcard");
    assert_eq!(who("/api"), "api-wildcard");
}

#[test]
fn unrouted_paths_and_private_components_answer_404() {
    let host = HostOptions::probe().start();
    let client = host.client();
    client.get("/").expect(404);
    client.get("/internal").expect(404);
    client.get("/apiary").expect(404);
}

#[test]
fn components_receive_spin_request_headers() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/api/v1/agents/7?x=1").expect(200).json();
    let headers = &reply["headers"];
    assert_eq!(headers["spin-path-info"], "/agents/7");
    assert_eq!(headers["spin-matched-route"], "/api/v1/...");
    assert_eq!(headers["spin-raw-component-route"], "/api/v1/...");
    assert_eq!(headers["spin-component-route"], "/api/v1");
    assert_eq!(headers["spin-base-path"], "/");
    assert_eq!(headers["spin-full-url"], host.url("/api/v1/agents/7?x=1"));
    let client_addr = headers["spin-client-addr"].as_str().unwrap();
    assert!(client_addr.starts_with("127.0.0.1:"), "{client_addr}");
}

#[test]
fn named_route_segments_reach_the_component_as_path_match_headers() {
    let host = HostOptions::probe().start();
    let client = host.client();
    let reply = client.get("/users/42/posts/7").expect(200).json();
    assert_eq!(reply["who"], "params");
    let headers = &reply["headers"];
    assert_eq!(headers["spin-path-match-user-id"], "42");
    assert_eq!(headers["spin-path-match-postid"], "7");
    assert_eq!(
        headers["spin-matched-route"],
        "/users/:user_id/posts/:postid"
    );
    assert_eq!(
        headers["spin-component-route"],
        "/users/:user_id/posts/:postid"
    );
    assert_eq!(headers["spin-path-info"], "");
    client.get("/users/42/posts/7/more").expect(404);
}

#[test]
fn allowed_outbound_hosts_expand_application_variables() {
    let port = |host: &edgechat_tests::Host| host.base.rsplit(':').next().unwrap().to_string();
    // `probe_host` defaults to 127.0.0.1: the host's own address is allowed.
    let host = HostOptions::probe().start();
    let url = format!("http://127.0.0.1:{}/api/v1/exact", port(&host));
    let reply = host.client().get(&format!("/templated/outbound?url={url}"));
    reply.expect(200);
    assert!(
        reply.body.contains("\"who\":\"api-exact\""),
        "{}",
        reply.body
    );
    // Another value from the environment: 127.0.0.1 is no longer allowed.
    let host = HostOptions::probe()
        .env("SPIN_VARIABLE_PROBE_HOST", "example.com")
        .start();
    let url = format!("http://127.0.0.1:{}/api/v1/exact", port(&host));
    let reply = host.client().get(&format!("/templated/outbound?url={url}"));
    reply.expect(502);
    assert!(reply.body.contains("HttpRequestDenied"), "{}", reply.body);
}
