//! The `widget-conversations` component: `/v1/widget/conversations` — the
//! visitor's side of a chat. Public: starting a chat names the account by
//! its `site` key and returns a visitor token; every other call carries
//! that token (`Authorization: Bearer <visitor_token>`).
//!
//! The widget runs on the business's own site, so every answer allows any
//! origin and `OPTIONS` preflights are answered (`spin_http::serve_public`,
//! `cors_preflight`): credentials travel in `Authorization`, never cookies.

use edgechat::spin_http;
use spin_sdk::http::{IncomingRequest, Response, Router};
use spin_sdk::http_component;

mod routes;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve_public(req, router()).await
}

fn router() -> Router {
    use routes::*;
    let mut router = Router::new();
    router.options("/v1/widget/conversations", spin_http::cors_preflight);
    router.options("/v1/widget/conversations/*", spin_http::cors_preflight);
    router.post("/v1/widget/conversations", start::handle_start);
    router.any(
        "/v1/widget/conversations",
        spin_http::method_not_allowed(&["POST"]),
    );
    router.post("/v1/widget/conversations/:id/messages", post::handle_post);
    router.get("/v1/widget/conversations/:id/messages", list::handle_list);
    router.any(
        "/v1/widget/conversations/:id/messages",
        spin_http::method_not_allowed(&["GET", "POST"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
