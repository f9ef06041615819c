//! `GET /api/v1/events?cursor=&limit=&wait=` → `{items, next_cursor}`, oldest
//! first; `wait` (≤ 30 s) long-polls until an event arrives after the cursor.

use edgechat::error::Error;
use edgechat::events;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let account = &ctx.caller()?.account;
    let query = ctx.long_poll(events::DEFAULT_PAGE, events::MAX_PAGE)?;
    let kv = ctx.store()?;
    let page = events::page(kv, &SystemClock, account, &query, ctx.long_poll_wait()?)?;
    Ok(spin_http::json(200, &page))
}
