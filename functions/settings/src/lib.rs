//! The `settings` component: `/api/v1/settings/...` — account settings.
//! For now one: `PUT/GET /api/v1/settings/routing {mode: manual |
//! round_robin}` (see `edgechat::routing`).

use edgechat::spin_http::{self, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new(
    "/api/v1/settings/routing",
    &[(Get, get_routing::handle), (Put, put_routing::handle)],
)];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
