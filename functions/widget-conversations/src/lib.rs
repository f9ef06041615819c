//! The `widget-conversations` component: `/v1/widget/conversations` — the
//! visitor's side of a chat. Public: starting a chat names the account by
//! its `site` key and returns a visitor token; every other call carries
//! that token (`Authorization: Bearer <visitor_token>`).
//!
//! The widget runs on the business's own site, so every answer allows any
//! origin and `OPTIONS` preflights on these paths are answered
//! (`spin_http::serve_public`): credentials travel in `Authorization`,
//! never cookies.

use edgechat::spin_http::{self, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/v1/widget/conversations", &[(Post, start::handle)]),
    Route::new(
        "/v1/widget/conversations/:id/messages",
        &[(Post, post::handle), (Get, list::handle)],
    ),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve_public(req, ROUTES).await
}
