//! `GET /api/v1/customers/{customer_id}/visibility` → `{mode, until, active,
//! updated_at}`: one customer's override, which wins over the account's.

use edgechat::error::Error;
use edgechat::ids::CustomerId;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::visibility::{self, Scope};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let id = ctx.param_parsed("customer_id", CustomerId::parse)?;
    let view = visibility::get_override(
        ctx.store()?,
        &SystemClock,
        &caller.account,
        Scope::Customer(&id),
    )?;
    Ok(spin_http::json(200, &view))
}
