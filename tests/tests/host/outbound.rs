use edgechat_tests::HostOptions;

#[test]
fn a_host_not_in_allowed_outbound_hosts_is_refused() {
    let host = HostOptions::probe().start();
    let client = host.client();
    let reply = client.get("/probe/outbound?url=http://example.com/");
    reply.expect(502);
    assert!(reply.body.contains("HttpRequestDenied"), "{}", reply.body);
    // `locked` allows nothing, not even the internal component.
    let reply = client.get("/locked/outbound?url=http://internal.spin.internal/x");
    reply.expect(502);
    if !edgechat_tests::on_real_spin() {
        assert!(host.wait_for_log("denied"), "{}", host.log());
    }
}

#[test]
fn spin_internal_calls_reach_a_private_component_in_process() {
    let host = HostOptions::probe().start();
    let reply = host
        .client()
        .get("/probe/outbound?url=http://internal.spin.internal/some/path");
    reply.expect(200);
    assert!(reply.body.starts_with("200 "), "{}", reply.body);
    assert!(
        reply.body.contains("\"who\":\"internal\""),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("\"spin-path-info\":\"/some/path\""),
        "{}",
        reply.body
    );
}

#[test]
fn an_allowed_host_is_reached_over_the_network() {
    let host = HostOptions::probe().start();
    let port = host.base.rsplit(':').next().unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/api/v1/exact");
    let reply = host.client().get(&format!("/probe/outbound?url={url}"));
    reply.expect(200);
    assert!(
        reply.body.contains("\"who\":\"api-exact\""),
        "{}",
        reply.body
    );
}
