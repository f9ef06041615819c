//! The `tokens` component: `/api/v1/tokens[/{id}]` — mint (shown once),
//! list (never the secret), revoke.

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
    router.post("/api/v1/tokens", routes::create::handle_create);
    router.get("/api/v1/tokens", routes::list::handle_list);
    router.any(
        "/api/v1/tokens",
        spin_http::method_not_allowed(&["GET", "POST"]),
    );
    router.delete("/api/v1/tokens/:id", routes::revoke::handle_revoke);
    router.any(
        "/api/v1/tokens/:id",
        spin_http::method_not_allowed(&["DELETE"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
