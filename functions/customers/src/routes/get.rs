//! `GET /api/v1/customers/{customer_id}` → the customer, or 404.

use edgechat::customers;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let customer = customers::get(ctx.store()?, &caller.account, ctx.param("customer_id"))?;
    Ok(spin_http::json(200, &customer))
}
