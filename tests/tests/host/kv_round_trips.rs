//! `EDGECHAT_HOST_KV_COUNT=1` makes the local runtime tell, in the
//! `edgechat-kv-round-trips` response header, how many key-value calls the
//! request's instance made before its response: what the docs and the
//! benchmark state per route. Off by default; Spin has no such header.

use edgechat_tests::{HostOptions, on_real_spin};

const HEADER: &str = "edgechat-kv-round-trips";

#[test]
fn each_key_value_call_counts_once_and_a_batch_call_is_one() {
    if on_real_spin() {
        eprintln!("skipped: the round-trip header is the local runtime's own");
        return;
    }
    let host = HostOptions::probe()
        .env("EDGECHAT_HOST_KV_COUNT", "1")
        .start();
    let client = host.client();
    for (path, calls) in [
        ("/probe/static", "0"),
        // Opening a store is not a round trip; the increment is.
        ("/probe/kv/incr?key=counted", "1"),
        // set, get, delete, exists through fermyon:spin/key-value.
        ("/probe/kv/roundtrip?store=default", "4"),
        // set-many, get-many, delete-many, one each.
        ("/probe/kv/batch?key=counted", "3"),
        // The compare-and-swap's read, then its swap (uncontended).
        ("/probe/kv/cas-incr?key=cas", "2"),
    ] {
        let reply = client.get(path);
        reply.expect(200);
        assert_eq!(reply.header(HEADER), Some(calls), "{path}: {}", reply.body);
    }
    // The batch really wrote and read both keys.
    assert_eq!(
        client.get("/probe/kv/batch?key=b").body,
        "b-a b-b",
        "get-many read back what set-many wrote"
    );
    // Requests do not share a count.
    let again = client.get("/probe/kv/incr?key=counted");
    assert_eq!(again.header(HEADER), Some("1"));
}

#[test]
fn without_the_variable_no_count_is_sent() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/probe/kv/incr?key=quiet");
    reply.expect(200);
    assert_eq!(reply.header(HEADER), None);
}
