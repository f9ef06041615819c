//! `POST /v1/widget/conversations/{id}/messages {text}` (visitor token) →
//! 201 with the message. Reopens the conversation if it was closed.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, messages, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_post(req: Request, params: Params) -> Response {
    spin_http::respond(post(&req, &params))
}

fn post(req: &Request, params: &Params) -> Result<Response, Error> {
    let visitor = super::visitor(req)?;
    let text = messages::parse_visitor(&spin_http::json_body(req)?)?;
    let kv = spin_http::store()?;
    let id = spin_http::param(params, "id");
    let message = conversations::post_visitor_message(&kv, &SystemClock, &visitor, &id, &text)?;
    Ok(spin_http::json(201, &message))
}
