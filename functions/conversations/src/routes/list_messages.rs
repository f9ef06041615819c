//! `GET /api/v1/conversations/{id}/messages?cursor=&limit=&wait=` →
//! `{items, next_cursor}` by `seq`; `wait` (≤ 30 s) long-polls.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, longpoll, messages};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let page = ctx.page(messages::DEFAULT_PAGE, messages::MAX_PAGE)?;
    let wait = ctx.wait_millis()?;
    let items = conversations::messages(
        ctx.store()?,
        &SystemClock,
        &caller.account,
        ctx.param("id"),
        page.cursor.as_deref(),
        page.limit,
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &items))
}
