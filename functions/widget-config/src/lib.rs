//! The `widget-config` component: `/api/v1/widget/...` — the widget's
//! appearance (`/config`) and the identity secret that `identify` hashes
//! are checked with (`/identity-secret`, never shown back).

use edgechat::spin_http::{self, Delete, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new(
        "/api/v1/widget/config",
        &[(Get, get_config::handle), (Put, put_config::handle)],
    ),
    Route::new(
        "/api/v1/widget/identity-secret",
        &[
            (Put, put_secret::handle),
            (Get, get_secret::handle),
            (Delete, delete_secret::handle),
        ],
    ),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
