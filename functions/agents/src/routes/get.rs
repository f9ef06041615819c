//! `GET /api/v1/agents/{agent_id}` → the agent, or 404.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let agent = agents::get(ctx.store()?, &ctx.caller()?.account, ctx.param("agent_id"))?;
    Ok(spin_http::json(200, &agent))
}
