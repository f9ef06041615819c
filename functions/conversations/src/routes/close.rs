//! `POST /api/v1/conversations/{id}/close` → the closed conversation (no
//! body, or `{}`; anything else is a 400; closing twice is harmless).

use edgechat::conversations;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.no_body()?;
    let view = conversations::close(ctx.store()?, &SystemClock, caller, ctx.param("id"))?;
    Ok(spin_http::json(200, &view))
}
