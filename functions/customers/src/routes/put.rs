//! `PUT /api/v1/customers/{customer_id} {email, firstname, id, labels, lastname}`
//! → 201 (created) or 200 (updated) with the customer.

use edgechat::customers;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let (id, input) = customers::parse_put(ctx.param("customer_id"), &ctx.json_body()?)?;
    let (customer, created) = customers::put(ctx.store()?, &SystemClock, caller, &id, &input)?;
    Ok(spin_http::json(if created { 201 } else { 200 }, &customer))
}
