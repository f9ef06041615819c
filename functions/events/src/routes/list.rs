//! `GET /api/v1/events?cursor=&limit=&wait=` → `{items, next_cursor}`, oldest
//! first; `wait` (≤ 30 s) long-polls until an event arrives after the cursor.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{events, longpoll};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let page = ctx.page(events::DEFAULT_PAGE, events::MAX_PAGE)?;
    let wait = ctx.wait_millis()?;
    let items = events::page(
        ctx.store()?,
        &SystemClock,
        &caller.account,
        page.cursor.as_deref(),
        page.limit,
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &items))
}
