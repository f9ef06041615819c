//! `DELETE /api/v1/webhooks/{id}` → 204; deliveries to it stop.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::endpoints;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    endpoints::delete(ctx.store()?, &SystemClock, ctx.caller()?, ctx.param("id"))?;
    Ok(spin_http::no_content())
}
