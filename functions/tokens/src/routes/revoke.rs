//! `DELETE /api/v1/tokens/{id}` → 204; the token fails from the next request on.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{spin_http, tokens};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_revoke(req: Request, params: Params) -> Response {
    spin_http::respond(revoke(&req, &params))
}

fn revoke(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    tokens::revoke(&kv, &SystemClock, &caller, &spin_http::param(params, "id"))?;
    Ok(spin_http::no_content())
}
