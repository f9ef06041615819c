//! `DELETE /api/v1/widget/identity-secret` → 204: `identify` is accepted
//! unverified again.

use edgechat::error::Error;
use edgechat::identity;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    identity::delete_secret(ctx.store()?, &SystemClock, ctx.caller()?)?;
    Ok(spin_http::no_content())
}
