//! `GET /demo?site=` → the demo page (ETag; `If-None-Match` gets 304); 400
//! when `site` is too long to be a site key.

use super::asset;
use edgechat::error::Error;
use edgechat::problem::Problem;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

/// The demo page.
pub const DEMO_HTML: &str = include_str!("../../assets/demo.html");

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    if ctx.query("site").is_some_and(|s| s.len() > 64) {
        return Ok(spin_http::problem(&Problem::new(
            400,
            "site: is not a site key",
        )));
    }
    Ok(asset(
        ctx,
        DEMO_HTML,
        "text/html; charset=utf-8",
        "no-cache",
    ))
}
