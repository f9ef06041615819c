//! `DELETE /api/v1/agents/{agent_id}` → 204, or 404.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    agents::delete(
        ctx.store()?,
        &SystemClock,
        ctx.caller()?,
        ctx.param("agent_id"),
    )?;
    Ok(spin_http::no_content())
}
