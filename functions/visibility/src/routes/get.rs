//! `GET /api/v1/visibility` → `{mode, until, active, updated_at}`.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::visibility::{self, Scope};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let account = &ctx.caller()?.account;
    let view = visibility::get_override(ctx.store()?, &SystemClock, account, Scope::Account)?;
    Ok(spin_http::json(200, &view))
}
