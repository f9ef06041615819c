//! `DELETE /api/v1/tokens/{id}` → 204; the token fails from the next request on.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::tokens;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    tokens::revoke(ctx.store()?, &SystemClock, ctx.caller()?, ctx.param("id"))?;
    Ok(spin_http::no_content())
}
