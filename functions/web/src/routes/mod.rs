pub mod demo;
pub mod widget_js;

use edgechat::crypto::sha256_hex;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

/// Serves an asset with a strong ETag; `If-None-Match` gets 304.
pub fn asset(ctx: &Ctx, body: &'static str, content_type: &str, cache: &str) -> Response {
    let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..32]);
    let matches = ctx
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut builder = Response::builder();
    builder
        .header("etag", etag.as_str())
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff");
    if matches {
        return builder.status(304).build();
    }
    builder
        .status(200)
        .header("content-type", content_type)
        .header("access-control-allow-origin", "*");
    builder.body(body.as_bytes().to_vec()).build()
}
