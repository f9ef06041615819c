//! `PUT /api/v1/widget/identity-secret {secret}` → `{configured: true,
//! updated_at}`: `identify` hashes are checked with it from now on.

use edgechat::error::Error;
use edgechat::identity;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let secret = identity::parse_secret(&ctx.json_body()?)?;
    let signing_key = spin_http::variable("signing_key")?;
    let status = identity::put_secret(
        ctx.store()?,
        &SystemClock,
        caller,
        signing_key.as_bytes(),
        &secret,
    )?;
    Ok(spin_http::json_no_store(200, &status))
}
