//! `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry` → the new
//! attempt: that delivery's event sent again now, same `webhook-id`.

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
    let attempt = spin_transport::block_on(dispatch::retry(
        kv,
        &SystemClock,
        &SpinTransport,
        &config,
        caller,
        ctx.param("id"),
        ctx.param("delivery_id"),
    ))?;
    Ok(spin_http::json(200, &attempt))
}
