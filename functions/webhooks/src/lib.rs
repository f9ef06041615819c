//! The `webhooks` component: `/api/v1/webhooks…` — endpoints (create shows
//! the secret once), secret rotation, a test event, the delivery log,
//! manual retry and replay. Deliveries themselves are made by the
//! `webhook-dispatch` component.

use edgechat::spin_http::{self, Delete, Get, Patch, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new(
        "/api/v1/webhooks",
        &[(Post, create::handle), (Get, list::handle)],
    ),
    Route::new(
        "/api/v1/webhooks/:id",
        &[
            (Get, get::handle),
            (Patch, update::handle),
            (Delete, delete::handle),
        ],
    ),
    Route::new(
        "/api/v1/webhooks/:id/rotate-secret",
        &[(Post, rotate::handle)],
    ),
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
