//! `GET /widget.js` → the widget script (ETag; `If-None-Match` gets 304).

use super::asset;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

/// The widget, served as written (no build step).
pub const WIDGET_JS: &str = include_str!("../../assets/widget.js");

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    // Short max-age: a fix reaches every site within minutes; the ETag
    // makes the revalidation a 304.
    Ok(asset(
        ctx,
        WIDGET_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    ))
}
