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
