//! The `widget` component: `/v1/widget/...`, the public routes the embedded
//! widget calls with its site key — appearance and visibility. Every
//! answer carries CORS headers: the widget runs on the business's own site.
//! (`/v1/widget/conversations/...` is the `widget-conversations` component
//! and `/v1/widget/identify` the `widget-identify` one: the more specific
//! route wins.)

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
    router.options("/v1/widget/*", spin_http::cors_preflight);
    router.get("/v1/widget/config", config::handle_config);
    router.any("/v1/widget/config", spin_http::method_not_allowed(&["GET"]));
    router.get("/v1/widget/visibility", visibility::handle_visibility);
    router.any(
        "/v1/widget/visibility",
        spin_http::method_not_allowed(&["GET"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
