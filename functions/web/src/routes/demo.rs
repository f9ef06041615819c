//! `GET /demo?site=` → the demo page (ETag; `If-None-Match` gets 304); 400
//! naming `site` when it is longer than 64 characters (no site key is). The
//! page is served with a strict CSP (scripts and connections only from this
//! origin), may not be framed, and sends no referrer (its URL carries the
//! site key).

use super::asset;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

/// The demo page.
pub const DEMO_HTML: &str = include_str!("../../assets/demo.html");

/// The page's script, `GET /demo.js`.
pub const DEMO_JS: &str = include_str!("../../assets/demo.js");

/// What the demo page may load: its own script and the widget, both from
/// here; inline styles only (the widget styles its shadow root inline).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    if ctx.query("site").is_some_and(|s| s.chars().count() > 64) {
        return Err(Error::field(
            "site",
            "is not a site key (at most 64 characters)",
        ));
    }
    let mut page = asset(ctx, DEMO_HTML, "text/html; charset=utf-8", "no-cache");
    page.set_header("content-security-policy", CONTENT_SECURITY_POLICY);
    page.set_header("x-frame-options", "DENY");
    page.set_header("referrer-policy", "no-referrer");
    Ok(page)
}

/// `GET /demo.js` → the demo page's script.
pub fn script(ctx: &Ctx) -> Result<Response, Error> {
    Ok(asset(
        ctx,
        DEMO_JS,
        "text/javascript; charset=utf-8",
        "no-cache",
    ))
}
