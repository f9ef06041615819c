//! What the runtime answers itself, when no component answers, is an RFC
//! 9457 problem with Spin's status and no internals in it. (Spin's own
//! bodies are empty: on Spin only the statuses are checked.)

use edgechat_tests::{HostOptions, Reply, on_real_spin};
use std::io::{Read, Write};

/// The status everywhere; the problem document on the local runtime.
#[track_caller]
fn assert_host_problem(reply: &Reply, status: u16) {
    if on_real_spin() {
        reply.expect(status);
        return;
    }
    let problem = reply.expect_problem(status);
    assert_eq!(problem["type"], "about:blank", "{problem}");
    let text = problem.to_string().to_lowercase();
    for internal in ["wasm", "trap", "panic", "probe", "backtrace", "/"] {
        assert!(
            !text.contains(internal),
            "the problem leaks {internal:?}: {text}"
        );
    }
}

#[test]
fn an_unrouted_path_is_a_404_problem() {
    let host = HostOptions::probe().start();
    let client = host.client();
    for path in ["/", "/internal", "/apiary"] {
        assert_host_problem(&client.get(path), 404);
    }
}

#[test]
fn a_component_that_traps_is_a_500_problem_without_its_panic() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/probe/trap");
    assert_host_problem(&reply, 500);
    assert!(!reply.body.contains("asked to trap"), "{}", reply.body);
    if !on_real_spin() {
        // The cause is in the log, for the operator.
        assert!(
            host.wait_for_log("the probe was asked to trap"),
            "{}",
            host.log()
        );
    }
}

/// A header value that is not UTF-8 fails before any component runs (as on
/// Spin): a 500 from the runtime, so a problem too.
#[test]
fn a_header_that_is_not_utf8_is_a_500_problem() {
    let host = HostOptions::probe().start();
    let addr = host.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut request =
        format!("GET /probe/static HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nx-latin1: caf")
            .into_bytes();
    request.extend_from_slice(b"\xe9\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 500"), "{response}");
    if !on_real_spin() {
        let lower = response.to_lowercase();
        assert!(
            lower.contains("content-type: application/problem+json"),
            "{response}"
        );
        assert!(response.contains(r#""status":500"#), "{response}");
    }
}
