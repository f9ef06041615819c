//! `PUT /api/v1/action-rules [rules]` or `{rules: [...]}` → `{rules,
//! updated_at}`; replaces the whole list (`[]` removes every rule).

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{rules, spin_http, visibility};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_put(req: Request, _params: Params) -> Response {
    spin_http::respond(put(&req))
}

fn put(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let parsed = rules::parse_rules(&spin_http::json_body(req)?)?;
    let set = visibility::put_rules(&kv, &SystemClock, &caller, parsed)?;
    Ok(spin_http::json(200, &set))
}
