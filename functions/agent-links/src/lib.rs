//! The `agent-links` component: `POST /api/v1/agent-links` (Bearer API
//! token) mints a signed one-time link to the agent page. The rules live in
//! `edgechat::agent_links`; opening the link is the `agent` component's.

use edgechat::spin_http::{self, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new("/api/v1/agent-links", &[(Post, mint::handle)])];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
