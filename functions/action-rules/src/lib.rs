//! The `action-rules` component: `/api/v1/action-rules` — the rules that
//! decide when the widget shows (see `edgechat::rules`).

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
    router.get("/api/v1/action-rules", get::handle_get);
    router.put("/api/v1/action-rules", put::handle_put);
    router.any(
        "/api/v1/action-rules",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
