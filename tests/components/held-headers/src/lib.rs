//! A regression component for the local runtime's resource rules.
//!
//! It makes the mistake `shared::spin_http::read_request` once made: it keeps
//! the `fields` handle from `headers()` alive while `into_body()` consumes the
//! request. In wasi-http the fields are a child resource of the request, and
//! the wasmtime inside Spin 3.6 traps when a parent is dropped while a child
//! is alive (`resource has children`). The local runtime must refuse it the
//! same way, or its green tests hide a component that fails on Spin.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let headers = req.headers();
    let body = req.into_body().await.unwrap_or_default();
    let count = headers.entries().len();
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(format!("{count} headers, {} body bytes\n", body.len()))
        .build()
}
