use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, messages, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_reply(req: Request, params: Params) -> Response {
    spin_http::respond(reply(&req, &params))
}

fn reply(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let (agent, text) = messages::parse_reply(&spin_http::json_body(req)?)?;
    let id = spin_http::param(params, "id");
    let message = conversations::reply(&kv, &SystemClock, &caller, &id, &agent, &text)?;
    Ok(spin_http::json(201, &message))
}
