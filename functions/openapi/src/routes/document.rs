//! `GET /openapi.json` → the OpenAPI 3.1 document.

use spin_sdk::http::{Params, Request, Response};

/// The document, embedded at build time.
const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn handle_document(_req: Request, _params: Params) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "public, max-age=300")
        .body(DOCUMENT)
        .build()
}
