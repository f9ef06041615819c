//! The `audit-logs` component: `GET /api/v1/audit-logs`, the account's
//! audit trail, oldest first.

use edgechat::spin_http;
use spin_sdk::http::{IncomingRequest, Response, Router};
use spin_sdk::http_component;

mod routes;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, router()).await
}

fn router() -> Router {
    let mut router = Router::new();
    router.get("/api/v1/audit-logs", routes::list::handle_list);
    router.any(
        "/api/v1/audit-logs",
        spin_http::method_not_allowed(&["GET"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
