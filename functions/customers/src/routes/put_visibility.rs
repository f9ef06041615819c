//! `PUT /api/v1/customers/{customer_id}/visibility {mode, until?}` → `{mode,
//! until, active, updated_at}`: sets one customer's override, which wins over
//! the account's. It may be set before the customer has a record.

use edgechat::error::Error;
use edgechat::ids::CustomerId;
use edgechat::rules;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::{Clock, SystemClock};
use edgechat::visibility::{self, Scope};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let id = ctx.param_parsed("customer_id", CustomerId::parse)?;
    let wanted = rules::parse_override(&ctx.json_body()?, SystemClock.now())?;
    let view = visibility::put_override(
        ctx.store()?,
        &SystemClock,
        caller,
        Scope::Customer(&id),
        wanted,
    )?;
    Ok(spin_http::json(200, &view))
}
