//! The `web` component: the static assets a browser loads — `GET
//! /widget.js` (the loader and widget in one file: the one script tag a
//! site embeds) and `GET /demo` (a plain page with the widget on it).
//! Both are compiled in (`include_str!`), so the component needs no files
//! at run time and no key-value store.

use edgechat::crypto::sha256_hex;
use edgechat::problem::Problem;
use edgechat::spin_http;
use spin_sdk::http::{IncomingRequest, Params, Request, Response, Router};
use spin_sdk::http_component;

/// The widget, served as written (no build step).
pub const WIDGET_JS: &str = include_str!("../assets/widget.js");
/// The demo page.
pub const DEMO_HTML: &str = include_str!("../assets/demo.html");

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, router()).await
}

fn router() -> Router {
    let mut router = Router::new();
    router.get("/widget.js", handle_widget_js);
    router.any("/widget.js", spin_http::method_not_allowed(&["GET"]));
    router.get("/demo", handle_demo);
    router.any("/demo", spin_http::method_not_allowed(&["GET"]));
    router.any("/*", spin_http::route_not_found);
    router
}

/// Serves an asset with a strong ETag; `If-None-Match` gets 304.
fn asset(req: &Request, body: &'static str, content_type: &str, cache: &str) -> Response {
    let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..32]);
    let matches = spin_http::header(req, "if-none-match")
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

fn handle_widget_js(req: Request, _params: Params) -> Response {
    // Short max-age: a fix reaches every site within minutes; the ETag
    // makes the revalidation a 304.
    asset(
        &req,
        WIDGET_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
}

fn handle_demo(req: Request, _params: Params) -> Response {
    if spin_http::query(&req, "site").is_some_and(|s| s.len() > 64) {
        return spin_http::problem(&Problem::new(400, "site: is not a site key"));
    }
    asset(&req, DEMO_HTML, "text/html; charset=utf-8", "no-cache")
}
