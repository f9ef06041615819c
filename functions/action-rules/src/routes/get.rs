//! `GET /api/v1/action-rules` → `{rules, updated_at}`.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::visibility;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let rules = visibility::get_rules(ctx.store()?, &caller.account)?;
    Ok(spin_http::json(200, &rules))
}
