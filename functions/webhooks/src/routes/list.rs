//! `GET /api/v1/webhooks?cursor=&limit=` → `{items, next_cursor}`, oldest
//! first, never a secret.

use edgechat::error::Error;
use edgechat::paging::Page;
use edgechat::spin_http::{self, Ctx};
use edgechat::webhooks::endpoints::{self, DEFAULT_PAGE, MAX_ENDPOINTS};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let query = ctx.page(DEFAULT_PAGE, MAX_ENDPOINTS)?;
    let page = endpoints::page(
        ctx.store()?,
        &caller.account,
        query.cursor.as_deref(),
        query.limit,
    )?;
    let items: Vec<_> = page.items.iter().map(|e| e.view()).collect();
    Ok(spin_http::json(
        200,
        &Page {
            items,
            next_cursor: page.next_cursor,
        },
    ))
}
