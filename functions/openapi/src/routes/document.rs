//! `GET /openapi.json` → the OpenAPI 3.1 document (cacheable for 5 minutes).

use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

/// The document, embedded at build time.
const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn handle(_ctx: &Ctx) -> Result<Response, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "public, max-age=300")
        .body(DOCUMENT)
        .build())
}
