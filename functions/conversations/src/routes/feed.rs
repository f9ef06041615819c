//! `GET /api/v1/conversations?cursor=&limit=&status=` → `{items,
//! next_cursor}`: conversations in the order of their latest change, each
//! once, O(page) whatever the total.

use edgechat::conversations::{self, Status};
use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{input, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_feed(req: Request, _params: Params) -> Response {
    spin_http::respond(feed(&req))
}

fn feed(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let limit = input::limit(
        spin_http::query(req, "limit").as_deref(),
        conversations::DEFAULT_PAGE,
        conversations::MAX_PAGE,
    )?;
    let status = Status::parse_filter(spin_http::query(req, "status").as_deref())?;
    let cursor = spin_http::query(req, "cursor");
    let page = conversations::feed(
        &kv,
        &SystemClock,
        &caller.account,
        cursor.as_deref(),
        limit,
        status,
    )?;
    Ok(spin_http::json(200, &page))
}
