//! `PUT /api/v1/visibility {mode, until?}` → `{mode, until, active,
//! updated_at}`.

use edgechat::error::Error;
use edgechat::time::{Clock, SystemClock};
use edgechat::visibility::{self, Scope};
use edgechat::{rules, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_put(req: Request, _params: Params) -> Response {
    spin_http::respond(put(&req))
}

fn put(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let wanted = rules::parse_override(&spin_http::json_body(req)?, SystemClock.now())?;
    let view = visibility::put_override(&kv, &SystemClock, &caller, Scope::Account, wanted)?;
    Ok(spin_http::json(200, &view))
}
