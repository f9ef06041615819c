//! `GET /api/v1/conversations/{id}/messages?cursor=&limit=&wait=` →
//! `{items, next_cursor}` by `seq`; `wait` (≤ 30 s) long-polls.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, input, longpoll, messages, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_list(req: Request, params: Params) -> Response {
    spin_http::respond(list(&req, &params))
}

fn list(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let limit = input::limit(
        spin_http::query(req, "limit").as_deref(),
        messages::DEFAULT_PAGE,
        messages::MAX_PAGE,
    )?;
    let wait = longpoll::parse_wait(spin_http::query(req, "wait").as_deref())?;
    let cursor = spin_http::query(req, "cursor");
    let id = spin_http::param(params, "id");
    let page = conversations::messages(
        &kv,
        &SystemClock,
        &caller.account,
        &id,
        cursor.as_deref(),
        limit,
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &page))
}
