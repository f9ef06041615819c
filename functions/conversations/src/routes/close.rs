//! `POST /api/v1/conversations/{id}/close` → the closed conversation (no
//! body, or `{}`; anything else is a 400; closing twice is harmless). An
//! `Idempotency-Key` replays the first answer.

use edgechat::conversations;
use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.no_body()?;
    ctx.idempotent(Scope::Account(&caller.account), || {
        let view = conversations::close(ctx.store()?, &SystemClock, caller, ctx.param("id"))?;
        Ok(spin_http::json(200, &view))
    })
}
