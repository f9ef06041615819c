//! `POST /api/v1/conversations/{id}/assign {agent_id}` → the conversation,
//! routed to that agent (404 for an unknown agent).

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_assign(req: Request, params: Params) -> Response {
    spin_http::respond(assign(&req, &params))
}

fn assign(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let agent = conversations::parse_assign(&spin_http::json_body(req)?)?;
    let id = spin_http::param(params, "id");
    let view = conversations::assign(&kv, &SystemClock, &caller, &id, &agent)?;
    Ok(spin_http::json(200, &view))
}
