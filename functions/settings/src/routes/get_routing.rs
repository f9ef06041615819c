//! `GET /api/v1/settings/routing` → `{mode, updated_at?}`.

use edgechat::error::Error;
use edgechat::routing;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let routing = routing::get(ctx.store()?, &ctx.caller()?.account)?;
    Ok(spin_http::json(200, &routing))
}
