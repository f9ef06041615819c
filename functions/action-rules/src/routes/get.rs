//! `GET /api/v1/action-rules` → `{rules, updated_at}`.

use edgechat::error::Error;
use edgechat::{spin_http, visibility};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, _params: Params) -> Response {
    spin_http::respond(get(&req))
}

fn get(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    Ok(spin_http::json(
        200,
        &visibility::get_rules(&kv, &caller.account)?,
    ))
}
