//! `PATCH /api/v1/webhooks/{id} {url?, events?, description?, enabled?}` →
//! the endpoint as changed.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::{endpoints, spin_transport};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let input = endpoints::parse_update(&ctx.json_body()?, spin_transport::allow_insecure_urls()?)?;
    let endpoint = endpoints::update(ctx.store()?, &SystemClock, caller, ctx.param("id"), &input)?;
    Ok(spin_http::json(200, &endpoint.view()))
}
