//! `GET /api/v1/conversations/{id}` → the conversation.

use edgechat::conversations;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let view = conversations::get(ctx.store()?, &caller.account, ctx.param("id"))?;
    Ok(spin_http::json(200, &view))
}
