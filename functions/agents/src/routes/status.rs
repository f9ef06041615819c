//! `PUT /api/v1/agents/{agent_id}/status {online, available}` → the agent.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let (online, available) = agents::parse_status(&ctx.json_body()?)?;
    let id = ctx.param("agent_id");
    let agent = agents::set_status(ctx.store()?, &SystemClock, caller, id, online, available)?;
    Ok(spin_http::json(200, &agent))
}
