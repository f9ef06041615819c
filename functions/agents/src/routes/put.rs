//! `PUT /api/v1/agents/{agent_id} {name, email?, online?, available?}` →
//! 201 (created) or 200 (replaced) with the agent.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let input = agents::parse_one(ctx.param("agent_id"), &ctx.json_body()?)?;
    let (agent, created) = agents::upsert(ctx.store()?, &SystemClock, caller, &input)?;
    Ok(spin_http::json(if created { 201 } else { 200 }, &agent))
}
