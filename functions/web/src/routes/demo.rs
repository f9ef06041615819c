//! `GET /demo?site=` → the demo page (ETag; `If-None-Match` gets 304); 400
//! naming `site` when it is longer than 64 characters (no site key is).

use super::asset;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

/// The demo page.
pub const DEMO_HTML: &str = include_str!("../../assets/demo.html");

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    if ctx.query("site").is_some_and(|s| s.chars().count() > 64) {
        return Err(Error::field(
            "site",
            "is not a site key (at most 64 characters)",
        ));
    }
    Ok(asset(
        ctx,
        DEMO_HTML,
        "text/html; charset=utf-8",
        "no-cache",
    ))
}
