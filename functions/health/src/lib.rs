//! The `health` component: `GET /healthz`.

use edgechat::spin_http::{self, Get, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new("/healthz", &[(Get, check::handle)])];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
