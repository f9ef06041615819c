//! `GET /api/v1/customers?external_id=` or `?email=` → `{items: [...]}`, the
//! customers carrying that value, most recently updated first.

use edgechat::error::Error;
use edgechat::{customers, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_find(req: Request, _params: Params) -> Response {
    spin_http::respond(find(&req))
}

fn find(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let lookup = customers::parse_lookup(
        spin_http::query(req, "external_id"),
        spin_http::query(req, "email"),
    )?;
    let items = customers::find(&kv, &caller.account, &lookup)?;
    Ok(spin_http::json(200, &serde_json::json!({ "items": items })))
}
