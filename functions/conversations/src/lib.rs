//! The `conversations` component: `/api/v1/conversations` — the change
//! feed, one conversation, its messages, agent replies, manual routing and
//! closing (Bearer API token). The rules live in `edgechat::conversations`.

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
    router.get("/api/v1/conversations", feed::handle_feed);
    router.any(
        "/api/v1/conversations",
        spin_http::method_not_allowed(&["GET"]),
    );
    router.get("/api/v1/conversations/:id", get::handle_get);
    router.any(
        "/api/v1/conversations/:id",
        spin_http::method_not_allowed(&["GET"]),
    );
    router.get("/api/v1/conversations/:id/messages", messages::handle_list);
    router.post("/api/v1/conversations/:id/messages", reply::handle_reply);
    router.any(
        "/api/v1/conversations/:id/messages",
        spin_http::method_not_allowed(&["GET", "POST"]),
    );
    router.post("/api/v1/conversations/:id/assign", assign::handle_assign);
    router.any(
        "/api/v1/conversations/:id/assign",
        spin_http::method_not_allowed(&["POST"]),
    );
    router.post("/api/v1/conversations/:id/close", close::handle_close);
    router.any(
        "/api/v1/conversations/:id/close",
        spin_http::method_not_allowed(&["POST"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
