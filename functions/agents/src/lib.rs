//! The `agents` component: `/api/v1/agents` — whole-list sync from the
//! business's directory, one agent by its external id, and presence.

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
    router.put("/api/v1/agents", sync::handle_sync);
    router.get("/api/v1/agents", list::handle_list);
    router.any(
        "/api/v1/agents",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.put("/api/v1/agents/:agent_id", put::handle_put);
    router.get("/api/v1/agents/:agent_id", get::handle_get);
    router.delete("/api/v1/agents/:agent_id", delete::handle_delete);
    router.any(
        "/api/v1/agents/:agent_id",
        spin_http::method_not_allowed(&["DELETE", "GET", "PUT"]),
    );
    router.put("/api/v1/agents/:agent_id/status", status::handle_status);
    router.any(
        "/api/v1/agents/:agent_id/status",
        spin_http::method_not_allowed(&["PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
