//! A test component for the runtime's request timeout.
//!
//! `/spin-forever` never returns: it burns CPU in a loop that makes no host
//! call, so only epoch interruption can stop it (a runtime without it keeps
//! one of its worker threads busy for good). `/spin-forever/sleep?seconds=N`
//! is the opposite case: a guest that is waiting on the clock, not
//! computing, and answers 200 after N seconds — how a long-poll looks to
//! the runtime.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;
use std::time::Duration;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let path_and_query = req.path_with_query().unwrap_or_default();
    match path_and_query.split_once("/sleep?seconds=") {
        Some((_, seconds)) => sleep(seconds),
        None => spin(),
    }
}

fn spin() -> ! {
    // black_box keeps the optimiser from proving the loop useless.
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

fn sleep(seconds: &str) -> Response {
    let Ok(seconds) = seconds.parse::<u64>() else {
        return text(400, "seconds must be a whole number\n");
    };
    // On wasm32-wasip2 this is a wasi:clocks monotonic wait: the guest is
    // suspended in the host, running no wasm.
    std::thread::sleep(Duration::from_secs(seconds));
    text(200, &format!("slept {seconds} s\n"))
}

fn text(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .build()
}
