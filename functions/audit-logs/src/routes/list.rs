//! `GET /api/v1/audit-logs?cursor=&limit=&type=` → `{items, next_cursor}`.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{audit, input, spin_http};
use spin_sdk::http::{Params, Request, Response};

/// Default page size.
const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
const MAX_LIMIT: usize = 200;

pub fn handle_list(req: Request, _params: Params) -> Response {
    spin_http::respond(list(&req))
}

fn list(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let limit = input::limit(
        spin_http::query(req, "limit").as_deref(),
        DEFAULT_LIMIT,
        MAX_LIMIT,
    )?;
    let cursor = spin_http::query(req, "cursor");
    let kind = spin_http::query(req, "type").filter(|t| !t.is_empty());
    let page = audit::page(
        &kv,
        &SystemClock,
        &caller.account,
        cursor.as_deref(),
        limit,
        kind.as_deref(),
    )?;
    Ok(spin_http::json(200, &page))
}
