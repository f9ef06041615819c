//! `PUT /api/v1/agents/{agent_id}/status {online, available}` → the agent.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{agents, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_status(req: Request, params: Params) -> Response {
    spin_http::respond(status(&req, &params))
}

fn status(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let (online, available) = agents::parse_status(&spin_http::json_body(req)?)?;
    let id = spin_http::param(params, "agent_id");
    let agent = agents::set_status(&kv, &SystemClock, &caller, &id, online, available)?;
    Ok(spin_http::json(200, &agent))
}
