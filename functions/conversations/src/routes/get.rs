//! `GET /api/v1/conversations/{id}` → the conversation.

use edgechat::error::Error;
use edgechat::{conversations, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, params: Params) -> Response {
    spin_http::respond(get(&req, &params))
}

fn get(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let id = spin_http::param(params, "id");
    let view = conversations::get(&kv, &caller.account, &id)?;
    Ok(spin_http::json(200, &view))
}
