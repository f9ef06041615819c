//! The `openapi` component: `GET /openapi.json`, the OpenAPI 3.1 document
//! for every route (hand-written in `openapi.json`, checked by the
//! end-to-end tests against the routes actually served).

use edgechat::spin_http::{self, Get, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new("/openapi.json", &[(Get, document::handle)])];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
