//! The `tokens` component: `/api/v1/tokens[/{id}]` — mint (shown once),
//! list (never the secret), revoke.

use edgechat::spin_http::{self, Delete, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new(
        "/api/v1/tokens",
        &[(Post, create::handle), (Get, list::handle)],
    ),
    Route::new("/api/v1/tokens/:id", &[(Delete, revoke::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
