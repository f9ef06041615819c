//! `POST /api/v1/webhooks/{id}/replay {since}` → 202 `{from_seq, to_seq}`:
//! every subscribed event since then (an RFC 3339 time, or a cursor of
//! `GET /api/v1/events`) is sent again with its original `webhook-id`.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::dispatch;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    // Who is asking, before what is asked: a stranger learns nothing.
    let caller = ctx.caller()?;
    let since = dispatch::parse_since(&ctx.json_body()?)?;
    let accepted = dispatch::replay(ctx.store()?, &SystemClock, caller, ctx.param("id"), since)?;
    Ok(spin_http::json(202, &accepted))
}
