//! `GET /api/v1/conversations/{id}/messages?cursor=&limit=&wait=` →
//! `{items, next_cursor}` by `seq`; `wait` (≤ 30 s) long-polls.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, messages};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let account = &ctx.caller()?.account;
    let query = ctx.long_poll(messages::DEFAULT_PAGE, messages::MAX_PAGE)?;
    let (kv, id) = (ctx.store()?, ctx.param("id"));
    let page =
        conversations::messages(kv, &SystemClock, account, id, &query, ctx.long_poll_wait()?)?;
    Ok(spin_http::json(200, &page))
}
