//! The `widget-config` component: `/api/v1/widget/...` — the widget's
//! appearance (`/config`) and the identity secret that `identify` hashes
//! are checked with (`/identity-secret`, never shown back).

use edgechat::spin_http;
use spin_sdk::http::{IncomingRequest, Response, Router};
use spin_sdk::http_component;

mod routes;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, router()).await
}

fn router() -> Router {
    use routes::*;
    let mut router = Router::new();
    router.get("/api/v1/widget/config", config::handle_get);
    router.put("/api/v1/widget/config", config::handle_put);
    router.any(
        "/api/v1/widget/config",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.get("/api/v1/widget/identity-secret", secret::handle_get);
    router.put("/api/v1/widget/identity-secret", secret::handle_put);
    router.delete("/api/v1/widget/identity-secret", secret::handle_delete);
    router.any(
        "/api/v1/widget/identity-secret",
        spin_http::method_not_allowed(&["DELETE", "GET", "PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
