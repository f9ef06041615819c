use edgechat_tests::HostOptions;

#[test]
fn component_variables_expand_application_variables() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/probe/var?name=greeting");
    assert_eq!(reply.expect(200).body, "hello, sesame!");
}

#[test]
fn environment_overrides_a_default() {
    let host = HostOptions::probe()
        .env("SPIN_VARIABLE_GREETING", "servus")
        .start();
    assert_eq!(
        host.client().get("/probe/var?name=greeting").body,
        "servus, sesame!"
    );
}

#[test]
fn a_component_sees_only_its_own_variables() {
    let host = HostOptions::probe().start();
    let client = host.client();
    // `secret_word` is an application variable, not one of the probe's.
    let reply = client.get("/probe/var?name=secret_word");
    reply.expect(404);
    assert!(reply.body.contains("Undefined"), "{}", reply.body);
    assert!(
        client
            .get("/probe/var?name=Bad-Name")
            .body
            .contains("InvalidName")
    );
}

#[test]
fn a_missing_required_variable_stops_the_start_and_is_named() {
    let (status, output) =
        HostOptions::new(edgechat_tests::probe_manifest()).run_expecting_failure();
    assert!(!status.success());
    assert!(output.contains("secret_word"), "{output}");
    if !edgechat_tests::on_real_spin() {
        assert!(output.contains("SPIN_VARIABLE_SECRET_WORD"), "{output}");
    }
}
