//! `POST /api/v1/webhooks/{id}/rotate-secret` → the endpoint with its new
//! `secret` (shown this once); the old one keeps signing for 24 hours.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::endpoints;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    ctx.no_body()?;
    let key = spin_http::variable("signing_key")?;
    let (endpoint, secret) = endpoints::rotate(
        ctx.store()?,
        &SystemClock,
        ctx.caller()?,
        ctx.param("id"),
        key.as_bytes(),
    )?;
    Ok(spin_http::json_no_store(
        200,
        &endpoints::with_secret(&endpoint, &secret),
    ))
}
