//! `GET /v1/widget/conversations/{id}/messages?cursor=&wait=` (visitor
//! token) → `{items, next_cursor}`; with `wait` (seconds, ≤ 30) it answers
//! as soon as a message arrives after the cursor.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, longpoll};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let visitor = super::visitor(ctx)?;
    let wait = ctx.wait_millis()?;
    let cursor = ctx.query("cursor");
    let page = conversations::visitor_messages(
        ctx.store()?,
        &SystemClock,
        &visitor,
        ctx.param("id"),
        cursor.as_deref(),
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &page))
}
