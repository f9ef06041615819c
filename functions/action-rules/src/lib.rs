//! The `action-rules` component: `/api/v1/action-rules` — the rules that
//! decide when the widget shows (see `edgechat::rules`).

use edgechat::spin_http::{self, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new(
    "/api/v1/action-rules",
    &[(Get, get::handle), (Put, put::handle)],
)];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
