//! `GET /api/v1/customers/{customer_id}` → the customer, or 404.

use edgechat::error::Error;
use edgechat::{customers, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, params: Params) -> Response {
    spin_http::respond(get(&req, &params))
}

fn get(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let customer = customers::get(
        &kv,
        &caller.account,
        &spin_http::param(params, "customer_id"),
    )?;
    Ok(spin_http::json(200, &customer))
}
