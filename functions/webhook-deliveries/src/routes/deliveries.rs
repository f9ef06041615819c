//! `GET /api/v1/webhooks/{id}/deliveries?cursor=&limit=&status=` →
//! `{items, next_cursor}`: every attempt, oldest first; `status` keeps
//! `succeeded` or `failed` ones.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::deliveries::{self, DEFAULT_PAGE, MAX_PAGE, Outcome};
use edgechat::webhooks::endpoints;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let (kv, caller) = (ctx.store()?, ctx.caller()?);
    let query = ctx.page(DEFAULT_PAGE, MAX_PAGE)?;
    let status = Outcome::parse_filter(ctx.query("status").as_deref())?;
    let endpoint = endpoints::get(kv, &caller.account, ctx.param("id"))?;
    let page = deliveries::page(
        kv,
        &SystemClock,
        &caller.account,
        &endpoint.id,
        query.cursor.as_deref(),
        query.limit,
        status,
    )?;
    Ok(spin_http::json(200, &page))
}
