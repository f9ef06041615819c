//! The `webhook-deliveries` component: what happened to an endpoint's
//! deliveries and how to repair them — the delivery log, a manual retry of
//! one delivery, a replay since a time or an events cursor, and a test
//! event. Retries and tests are sent from here, at once, so that the answer
//! carries the attempt; replays are queued for `webhook-dispatch`.
//!
//! Its routes sit under the `webhooks` component's `/api/v1/webhooks/...`:
//! Spin routes a path to the most specific route, and a `:id` segment beats
//! the wildcard (`spin.toml`). Splitting them off keeps each component
//! within its size budget and keeps outbound HTTP out of the component that
//! manages endpoints.

use edgechat::spin_http::{self, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/api/v1/webhooks/:id/test", &[(Post, test::handle)]),
    Route::new(
        "/api/v1/webhooks/:id/deliveries",
        &[(Get, deliveries::handle)],
    ),
    Route::new(
        "/api/v1/webhooks/:id/deliveries/:delivery_id/retry",
        &[(Post, retry::handle)],
    ),
    Route::new("/api/v1/webhooks/:id/replay", &[(Post, replay::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
