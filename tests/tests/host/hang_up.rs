//! A client that hangs up before its response frees its instance at once:
//! a long-poll whose widget went away must not hold a slot of the pool
//! until its wait would have ended.
//!
//! Spin 3.6.3 keeps running a hung-up guest to its end (its wasi-http
//! executor detaches the guest's task), so on Spin this only reports; the
//! app never relies on the earlier release (see host/src/server.rs).

use edgechat_tests::{Client, Host, HostOptions, on_real_spin};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Far longer than the test may take: a slot that comes back was freed by
/// the hang-up, not by the guest finishing.
const SLEEPER: &[u8] = b"GET /spin-forever/sleep?seconds=600 HTTP/1.1\r\nhost: x\r\n\r\n";

/// Generous, and still a tenth of the sleep.
const DEADLINE: Duration = Duration::from_secs(60);

/// Sends the sleeper on a connection of its own and returns it once it
/// holds the pool's only instance (another request is refused). A sleeper
/// refused itself, because a probe held the instance, is sent again.
fn hold_the_only_instance(host: &Host, client: &Client) -> TcpStream {
    let addr = host.base.trim_start_matches("http://");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let mut sleeper = TcpStream::connect(addr).unwrap();
        sleeper.write_all(SLEEPER).unwrap();
        sleeper
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        loop {
            assert!(
                Instant::now() < deadline,
                "the sleeper never held the instance: {}",
                host.log()
            );
            if client.get("/probe/static").status == 500 {
                return sleeper;
            }
            let mut byte = [0u8; 1];
            match sleeper.read(&mut byte) {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                // It was answered (refused) or closed: send another.
                _ => break,
            }
        }
    }
}

#[test]
fn a_client_that_hangs_up_frees_its_instance() {
    if on_real_spin() {
        eprintln!(
            "known difference: Spin runs a hung-up guest to its end and keeps its instance until then"
        );
        return;
    }
    let host = HostOptions::probe()
        .env("SPIN_WASMTIME_INSTANCE_COUNT", "1")
        .start();
    let client = host.client();
    for round in 1..=3 {
        let sleeper = hold_the_only_instance(&host, &client);
        drop(sleeper);
        let deadline = Instant::now() + DEADLINE;
        loop {
            let reply = client.get("/probe/static");
            if reply.status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: still refused {DEADLINE:?} after the client hung up: {}",
                reply.body
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
