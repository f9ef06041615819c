//! The `agents` component: `/api/v1/agents` — whole-list sync from the
//! business's directory, one agent by its external id, and presence.

use edgechat::spin_http::{self, Delete, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new(
        "/api/v1/agents",
        &[(Put, sync::handle), (Get, list::handle)],
    ),
    Route::new(
        "/api/v1/agents/:agent_id",
        &[
            (Put, put::handle),
            (Get, get::handle),
            (Delete, delete::handle),
        ],
    ),
    Route::new("/api/v1/agents/:agent_id/status", &[(Put, status::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
