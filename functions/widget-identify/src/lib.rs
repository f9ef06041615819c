//! The `widget-identify` component: `POST /v1/widget/identify`, the page
//! telling who its logged-in user is (see `edgechat::identity`). Its own
//! component so that the `widget` component, which every page view calls,
//! stays small. Public: every answer carries CORS headers.

use edgechat::spin_http;
use spin_sdk::http::{IncomingRequest, Response, Router};
use spin_sdk::http_component;

mod routes;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve_public(req, router()).await
}

fn router() -> Router {
    let mut router = Router::new();
    router.options("/v1/widget/identify", spin_http::cors_preflight);
    router.post("/v1/widget/identify", routes::identify::handle_identify);
    router.any(
        "/v1/widget/identify",
        spin_http::method_not_allowed(&["POST"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
