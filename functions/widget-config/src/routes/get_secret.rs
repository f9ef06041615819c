//! `GET /api/v1/widget/identity-secret` → `{configured, updated_at}`, never
//! the secret.

use edgechat::error::Error;
use edgechat::identity;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let status = identity::secret_status(ctx.store()?, &ctx.caller()?.account)?;
    Ok(spin_http::json(200, &status))
}
