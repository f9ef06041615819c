//! `GET /api/v1/customers?external_id=` or `?email=` → `{items: [...]}`, the
//! customers carrying that value, most recently updated first.

use edgechat::customers;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let lookup = customers::parse_lookup(ctx.query("external_id"), ctx.query("email"))?;
    let items = customers::find(ctx.store()?, &caller.account, &lookup)?;
    Ok(spin_http::json(200, &serde_json::json!({ "items": items })))
}
