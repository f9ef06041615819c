//! `GET`/`PUT /api/v1/customers/{customer_id}/visibility {mode, until?}` →
//! `{mode, until, active, updated_at}`: one customer's override, which wins
//! over the account's. It may be set before the customer has a record.

use edgechat::error::Error;
use edgechat::ids::CustomerId;
use edgechat::time::{Clock, SystemClock};
use edgechat::visibility::{self, Scope};
use edgechat::{rules, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, params: Params) -> Response {
    spin_http::respond(get(&req, &params))
}

pub fn handle_put(req: Request, params: Params) -> Response {
    spin_http::respond(put(&req, &params))
}

fn customer_id(params: &Params) -> Result<CustomerId, Error> {
    CustomerId::parse(&spin_http::param(params, "customer_id"))
        .map_err(|m| Error::field("customer_id", m))
}

fn get(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let id = customer_id(params)?;
    let view = visibility::get_override(&kv, &SystemClock, &caller.account, Scope::Customer(&id))?;
    Ok(spin_http::json(200, &view))
}

fn put(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let id = customer_id(params)?;
    let wanted = rules::parse_override(&spin_http::json_body(req)?, SystemClock.now())?;
    let view = visibility::put_override(&kv, &SystemClock, &caller, Scope::Customer(&id), wanted)?;
    Ok(spin_http::json(200, &view))
}
