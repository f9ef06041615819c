//! `POST /api/v1/webhooks/{id}/test` → the attempt of a `webhook.test`
//! event sent now (status code or error, duration, the answer's start).

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::dispatch;
use edgechat::webhooks::spin_transport::{self, SpinTransport};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let (kv, caller) = (ctx.store()?, ctx.caller()?);
    ctx.no_body()?;
    let config = spin_transport::config()?;
    let attempt = spin_transport::block_on(dispatch::test(
        kv,
        &SystemClock,
        &SpinTransport,
        &config,
        caller,
        ctx.param("id"),
    ))?;
    Ok(spin_http::json(200, &attempt))
}
