//! `GET /api/v1/audit-logs?cursor=&limit=&type=` → `{items, next_cursor}`,
//! oldest first; `type` keeps one action (`token.created`) or family
//! (`token`).

use edgechat::audit;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

/// Default page size.
const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
const MAX_LIMIT: usize = 200;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let page = ctx.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let kind = ctx.query("type").filter(|t| !t.is_empty());
    let entries = audit::page(
        ctx.store()?,
        &SystemClock,
        &caller.account,
        page.cursor.as_deref(),
        page.limit,
        kind.as_deref(),
    )?;
    Ok(spin_http::json(200, &entries))
}
