//! The `conversations` component: `/api/v1/conversations` — the change
//! feed, one conversation, its messages, agent replies, manual routing and
//! closing (Bearer API token). The rules live in `edgechat::conversations`.

use edgechat::spin_http::{self, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/api/v1/conversations", &[(Get, feed::handle)]),
    Route::new("/api/v1/conversations/:id", &[(Get, get::handle)]),
    Route::new(
        "/api/v1/conversations/:id/messages",
        &[(Get, list_messages::handle), (Post, post_message::handle)],
    ),
    Route::new(
        "/api/v1/conversations/:id/assign",
        &[(Post, assign::handle)],
    ),
    Route::new("/api/v1/conversations/:id/close", &[(Post, close::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
