//! `PUT /api/v1/agents/{agent_id} {name, email?, online?, available?}` →
//! 201 (created) or 200 (replaced) with the agent.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use spin_sdk::http::{Params, Request, Response};

pub fn handle_put(req: Request, params: Params) -> Response {
    spin_http::respond(put(&req, &params))
}

fn put(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let body = spin_http::json_body(req)?;
    let input = agents::parse_one(&spin_http::param(params, "agent_id"), &body)?;
    let (agent, created) = agents::upsert(&kv, &SystemClock, &caller, &input)?;
    Ok(spin_http::json(if created { 201 } else { 200 }, &agent))
}
