//! The `visibility` component: `/api/v1/visibility` — the account-wide
//! override `{mode: auto|show|hide, until?}`. (The per-customer override is
//! served by the `customers` component.)

use edgechat::spin_http::{self, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new(
    "/api/v1/visibility",
    &[(Get, get::handle), (Put, put::handle)],
)];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
