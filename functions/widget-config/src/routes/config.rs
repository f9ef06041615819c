//! `GET /api/v1/widget/config` and `PUT /api/v1/widget/config {colors,
//! texts, position}` → `{colors, texts, position, updated_at}`.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{spin_http, widget};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, _params: Params) -> Response {
    spin_http::respond(get(&req))
}

pub fn handle_put(req: Request, _params: Params) -> Response {
    spin_http::respond(put(&req))
}

fn get(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    Ok(spin_http::json(
        200,
        &widget::get_config(&kv, &caller.account)?,
    ))
}

fn put(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let config = widget::parse_config(&spin_http::json_body(req)?)?;
    let view = widget::put_config(&kv, &SystemClock, &caller, config)?;
    Ok(spin_http::json(200, &view))
}
