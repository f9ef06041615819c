//! `PUT /api/v1/visibility {mode, until?}` → `{mode, until, active,
//! updated_at}`.

use edgechat::error::Error;
use edgechat::rules;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::{Clock, SystemClock};
use edgechat::visibility::{self, Scope};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let wanted = rules::parse_override(&ctx.json_body()?, SystemClock.now())?;
    let view =
        visibility::put_override(ctx.store()?, &SystemClock, caller, Scope::Account, wanted)?;
    Ok(spin_http::json(200, &view))
}
