//! The `events` component: `GET /api/v1/events?cursor=&limit=&wait=` — the
//! account's event log, oldest first; `wait` (≤ 30 s) long-polls until an
//! event arrives after the cursor. See `edgechat::events`.

use edgechat::spin_http::{self, Get, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new("/api/v1/events", &[(Get, list::handle)])];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
