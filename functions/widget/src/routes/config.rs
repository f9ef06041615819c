//! `GET /v1/widget/config?site=` → `{colors, texts, position}`. Cached
//! briefly by browsers and CDNs: a change shows within a minute.

use super::site_account;
use edgechat::error::Error;
use edgechat::{spin_http, widget};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_config(req: Request, _params: Params) -> Response {
    spin_http::respond(config(&req))
}

fn config(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let account = site_account(req, &kv)?;
    let view = widget::get_config(&kv, &account)?;
    let mut response = spin_http::json(200, &view.config);
    response.set_header("cache-control", "public, max-age=60");
    Ok(response)
}
