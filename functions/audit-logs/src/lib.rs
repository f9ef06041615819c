//! The `audit-logs` component: `GET /api/v1/audit-logs`, the account's
//! audit trail, oldest first.

use edgechat::spin_http::{self, Get, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new("/api/v1/audit-logs", &[(Get, list::handle)])];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
