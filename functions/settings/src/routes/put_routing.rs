//! `PUT /api/v1/settings/routing {mode: manual | round_robin}` → the
//! setting, `{mode, updated_at}`.

use edgechat::error::Error;
use edgechat::routing;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let mode = routing::parse(&ctx.json_body()?)?;
    let routing = routing::set(ctx.store()?, &SystemClock, caller, mode)?;
    Ok(spin_http::json(200, &routing))
}
