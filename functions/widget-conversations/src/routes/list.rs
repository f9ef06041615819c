//! `GET /v1/widget/conversations/{id}/messages?cursor=&wait=` (visitor
//! token) → `{items, next_cursor}`; with `wait` (seconds, ≤ 30) it answers
//! as soon as a message arrives after the cursor.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, longpoll, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_list(req: Request, params: Params) -> Response {
    spin_http::respond(list(&req, &params))
}

fn list(req: &Request, params: &Params) -> Result<Response, Error> {
    let visitor = super::visitor(req)?;
    let wait = longpoll::parse_wait(spin_http::query(req, "wait").as_deref())?;
    let cursor = spin_http::query(req, "cursor");
    let kv = spin_http::store()?;
    let id = spin_http::param(params, "id");
    let page = conversations::visitor_messages(
        &kv,
        &SystemClock,
        &visitor,
        &id,
        cursor.as_deref(),
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &page))
}
