//! `POST /api/v1/conversations/{id}/close` → the closed conversation (no
//! body needed; closing twice is harmless).

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{conversations, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_close(req: Request, params: Params) -> Response {
    spin_http::respond(close(&req, &params))
}

fn close(req: &Request, params: &Params) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let id = spin_http::param(params, "id");
    let view = conversations::close(&kv, &SystemClock, &caller, &id)?;
    Ok(spin_http::json(200, &view))
}
