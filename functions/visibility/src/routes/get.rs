//! `GET /api/v1/visibility` → `{mode, until, active, updated_at}`.

use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use edgechat::visibility::{self, Scope};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, _params: Params) -> Response {
    spin_http::respond(get(&req))
}

fn get(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let view = visibility::get_override(&kv, &SystemClock, &caller.account, Scope::Account)?;
    Ok(spin_http::json(200, &view))
}
