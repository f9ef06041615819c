//! `GET /api/v1/agents?cursor=&limit=` → `{items, next_cursor}`, by id.

use edgechat::error::Error;
use edgechat::{agents, input, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_list(req: Request, _params: Params) -> Response {
    spin_http::respond(list(&req))
}

fn list(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let limit = input::limit(
        spin_http::query(req, "limit").as_deref(),
        agents::DEFAULT_PAGE,
        agents::MAX_PAGE,
    )?;
    let cursor = spin_http::query(req, "cursor");
    let page = agents::list(&kv, &caller.account, cursor.as_deref(), limit)?;
    Ok(spin_http::json(200, &page))
}
