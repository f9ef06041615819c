//! `GET /api/v1/tokens` → `{items: [{id, name, created_at}]}`, never a secret.

use edgechat::error::Error;
use edgechat::{spin_http, tokens};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_list(req: Request, _params: Params) -> Response {
    spin_http::respond(list(&req))
}

fn list(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let items = tokens::list(&kv, &caller.account)?;
    Ok(spin_http::json(200, &serde_json::json!({ "items": items })))
}
