//! The `accounts` component: `POST /api/v1/accounts`, for the operator
//! (`Authorization: Bearer <admin_token>`).

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
    router.post("/api/v1/accounts", routes::create::handle_create);
    router.any("/api/v1/accounts", spin_http::method_not_allowed(&["POST"]));
    router.any("/*", spin_http::route_not_found);
    router
}
