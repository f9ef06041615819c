//! The `webhooks` component: `/api/v1/webhooks…` — endpoints (create shows
//! the secret once), their event filters, and secret rotation. It only
//! manages configuration and never sends anything, so it has no outbound
//! hosts. The delivery log, test events, retries and replays are the
//! `webhook-deliveries` component (more specific routes under this one, see
//! `spin.toml`); deliveries themselves are made by `webhook-dispatch`.

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
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
