//! `DELETE /api/v1/agents/{agent_id}` → 204, or 404.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{agents, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_delete(req: Request, params: Params) -> Response {
    spin_http::respond(delete(&req, &params))
}

fn delete(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    agents::delete(
        &kv,
        &SystemClock,
        &caller,
        &spin_http::param(params, "agent_id"),
    )?;
    Ok(spin_http::no_content())
}
