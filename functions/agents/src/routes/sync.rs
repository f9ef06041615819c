//! `PUT /api/v1/agents {agents: [...]}` → `{created, updated, removed}`: the
//! stored list becomes exactly the given list.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use spin_sdk::http::{Params, Request, Response};

pub fn handle_sync(req: Request, _params: Params) -> Response {
    spin_http::respond(sync(&req))
}

fn sync(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let inputs = agents::parse_list(&spin_http::json_body(req)?)?;
    let outcome = agents::sync(&kv, &SystemClock, &caller, &inputs)?;
    Ok(spin_http::json(200, &outcome))
}
