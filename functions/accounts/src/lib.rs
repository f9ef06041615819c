//! The `accounts` component: `POST /api/v1/accounts` and `POST
//! /api/v1/accounts/{id}/tokens`, for the operator (`Authorization: Bearer
//! <admin_token>`).

use edgechat::spin_http::{self, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/api/v1/accounts", &[(Post, create::handle)]),
    Route::new("/api/v1/accounts/:id/tokens", &[(Post, tokens::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
