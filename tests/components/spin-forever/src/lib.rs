//! A test component for the runtime's request timeout.
//!
//! `/spin-forever` never returns: it burns CPU in a loop that makes no host
//! call, so only epoch interruption can stop it (a runtime without it keeps
//! one of its worker threads busy for good). `/spin-forever/sleep?seconds=N`
//! (or `?millis=N`) is the opposite case: a guest that is waiting on the
//! clock, not computing, and answers 200 after that long — how a long-poll
//! looks to the runtime.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;
use std::time::Duration;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let path_and_query = req.path_with_query().unwrap_or_default();
    if let Some((_, seconds)) = path_and_query.split_once("/sleep?seconds=") {
        return sleep(seconds, Duration::from_secs, "s");
    }
    if let Some((_, millis)) = path_and_query.split_once("/sleep?millis=") {
        return sleep(millis, Duration::from_millis, "ms");
    }
    spin()
}

fn spin() -> ! {
    // black_box keeps the optimiser from proving the loop useless.
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

fn sleep(amount: &str, unit: fn(u64) -> Duration, unit_name: &str) -> Response {
    let Ok(amount) = amount.parse::<u64>() else {
        return text(400, "the duration must be a whole number\n");
    };
    // On wasm32-wasip2 this is a wasi:clocks monotonic wait: the guest is
    // suspended in the host, running no wasm.
    std::thread::sleep(unit(amount));
    text(200, &format!("slept {amount} {unit_name}\n"))
}

fn text(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .build()
}
