//! `GET /api/v1/webhooks/{id}` → the endpoint, never its secret.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::webhooks::endpoints;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let endpoint = endpoints::get(ctx.store()?, &ctx.caller()?.account, ctx.param("id"))?;
    Ok(spin_http::json(200, &endpoint.view()))
}
