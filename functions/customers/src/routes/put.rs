//! `PUT /api/v1/customers/{customer_id} {email, firstname, id, labels, lastname}`
//! → 201 (created) or 200 (updated) with the customer.

use edgechat::customers;
use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use spin_sdk::http::{Params, Request, Response};

pub fn handle_put(req: Request, params: Params) -> Response {
    spin_http::respond(put(&req, &params))
}

fn put(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let body = spin_http::json_body(req)?;
    let (id, input) = customers::parse_put(&spin_http::param(params, "customer_id"), &body)?;
    let (customer, created) = customers::put(&kv, &SystemClock, &caller, &id, &input)?;
    Ok(spin_http::json(if created { 201 } else { 200 }, &customer))
}
