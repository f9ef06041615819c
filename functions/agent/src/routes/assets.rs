//! `GET /agent/app.js` and `GET /agent/app.css`: the page's script and
//! styles, compiled in (strong ETag; `If-None-Match` gets 304).

use edgechat::crypto::sha256_hex;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

pub fn script(ctx: &Ctx) -> Result<Response, Error> {
    Ok(asset(ctx, APP_JS, "text/javascript; charset=utf-8"))
}

pub fn style(ctx: &Ctx) -> Result<Response, Error> {
    Ok(asset(ctx, APP_CSS, "text/css; charset=utf-8"))
}

fn asset(ctx: &Ctx, body: &'static str, content_type: &str) -> Response {
    let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..32]);
    let matches = ctx
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut builder = Response::builder();
    builder
        .header("etag", etag.as_str())
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff");
    if matches {
        return builder.status(304).build();
    }
    builder
        .status(200)
        .header("content-type", content_type)
        .body(body.as_bytes().to_vec())
        .build()
}
