//! `POST /api/v1/webhook-dispatch?wait=<seconds ≤ 30>&worker=<name>` (admin
//! token) → `{attempts, succeeded, endpoints}` after delivering what is
//! due, and what becomes due, for `wait` seconds (0: one pass). A
//! scheduler that calls it again and again under one `worker` name keeps
//! its endpoints' leases from one call to the next.

use edgechat::auth;
use edgechat::error::Error;
use edgechat::longpoll;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::dispatch::Dispatcher;
use edgechat::webhooks::spin_transport::{self, SpinTransport};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let admin_token = spin_http::variable("admin_token")?;
    auth::authenticate_admin(ctx.header("authorization"), &admin_token)?;
    ctx.no_body()?;
    // Fractions allowed, up to 30 s: the long-polls' rule.
    let wait = longpoll::parse_wait(ctx.query("wait").as_deref())?;
    let random;
    let worker = match ctx.query("worker") {
        Some(name) => check_worker(name)?,
        None => {
            random = edgechat::crypto::hex(&edgechat::crypto::random_bytes::<8>());
            random.clone()
        }
    };
    let config = spin_transport::config()?;
    let dispatcher = Dispatcher {
        kv: ctx.store()?,
        clock: &SystemClock,
        transport: &SpinTransport,
        config: &config,
        worker: &worker,
    };
    let summary = spin_transport::block_on(dispatcher.run(wait))?;
    Ok(spin_http::json(200, &summary))
}

fn check_worker(name: String) -> Result<String, Error> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(Error::field(
            "worker",
            "must be 1 to 64 of A-Z a-z 0-9 - _ .",
        ))
    }
}
