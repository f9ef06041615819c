//! The `visibility` component: `/api/v1/visibility` — the account-wide
//! override `{mode: auto|show|hide, until?}`. (The per-customer override is
//! served by the `customers` component.)

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
    router.get("/api/v1/visibility", get::handle_get);
    router.put("/api/v1/visibility", put::handle_put);
    router.any(
        "/api/v1/visibility",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
