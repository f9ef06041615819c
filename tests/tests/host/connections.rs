//! The runtime does not keep a socket open for a client that sends nothing
//! useful: a header block that never ends, or a keep-alive connection left
//! idle, is closed after the header-read timeout (30 s).
//!
//! Spin (3.6.3, 4.0.2) sets no such timer (checked: both connections still
//! open after 45 s), so on Spin these tests report the difference instead of
//! failing.

use edgechat_tests::{Host, HostOptions, on_real_spin};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Long enough for the 30 s timer on a busy machine.
const GENEROUS: Duration = Duration::from_secs(120);

fn connect(host: &Host) -> TcpStream {
    let stream = TcpStream::connect(host.base.trim_start_matches("http://")).unwrap();
    // Short reads, so that the loop below notices the deadline.
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection (true) or the deadline
/// passes (false); whatever it sends meanwhile is appended to `received`.
fn closed_by_server(stream: &mut TcpStream, received: &mut Vec<u8>) -> bool {
    let deadline = Instant::now() + GENEROUS;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true, // reset: closed as well
        }
    }
    false
}

fn report_on_spin(what: &str) -> bool {
    if on_real_spin() {
        eprintln!("known difference: Spin sets no header-read timeout, so it keeps {what} open");
    }
    on_real_spin()
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    if report_on_spin("a connection whose header block never ends") {
        return;
    }
    let host = HostOptions::probe().start();
    let mut stream = connect(&host);
    stream
        .write_all(b"GET /probe/static HTTP/1.1\r\nhost: x\r\nx-never: end")
        .unwrap();
    let mut received = Vec::new();
    assert!(
        closed_by_server(&mut stream, &mut received),
        "the connection is still open after {GENEROUS:?}"
    );
    // It was never answered: the component did not run for it.
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    host.client().get("/probe/static").expect(200);
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    if report_on_spin("an idle keep-alive connection") {
        return;
    }
    let host = HostOptions::probe().start();
    let mut stream = connect(&host);
    // Two requests on one connection, then silence.
    let request = b"GET /probe/static HTTP/1.1\r\nhost: x\r\n\r\n";
    stream
        .write_all(&[&request[..], &request[..]].concat())
        .unwrap();
    let mut received = Vec::new();
    assert!(
        closed_by_server(&mut stream, &mut received),
        "the idle connection is still open after {GENEROUS:?}"
    );
    // Kept alive for both (nothing asked to close), and closed once idle.
    let responses = String::from_utf8_lossy(&received);
    assert_eq!(responses.matches("HTTP/1.1 200").count(), 2, "{responses}");
    assert_eq!(
        responses.matches("hello from the edge").count(),
        2,
        "{responses}"
    );
    assert!(
        !responses.to_lowercase().contains("connection: close"),
        "{responses}"
    );
}
