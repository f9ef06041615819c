//! `GET /api/v1/conversations?cursor=&limit=&status=` → `{items,
//! next_cursor}`: conversations in the order of their latest change, each
//! once, O(page) whatever the total.

use edgechat::conversations::{self, Status};
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let page = ctx.page(conversations::DEFAULT_PAGE, conversations::MAX_PAGE)?;
    let status = Status::parse_filter(ctx.query("status").as_deref())?;
    let items = conversations::feed(
        ctx.store()?,
        &SystemClock,
        &caller.account,
        page.cursor.as_deref(),
        page.limit,
        status,
    )?;
    Ok(spin_http::json(200, &items))
}
