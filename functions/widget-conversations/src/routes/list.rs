//! `GET /v1/widget/conversations/{id}/messages?cursor=&wait=` (visitor
//! token) → `{items, next_cursor}`; with `wait` (seconds, ≤ 30) it answers
//! as soon as a message arrives after the cursor.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, longpoll, messages};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let visitor = super::visitor(ctx)?;
    let query = longpoll::Query {
        cursor: ctx.query("cursor"),
        // The widget takes pages of the default size (no `limit` here).
        limit: messages::DEFAULT_PAGE,
        wait_millis: ctx.wait_millis()?,
    };
    let id = ctx.param("id");
    let page = conversations::visitor_messages(
        ctx.store()?,
        &SystemClock,
        &visitor,
        id,
        &query,
        ctx.long_poll_wait()?,
    )?;
    Ok(spin_http::json(200, &page))
}
