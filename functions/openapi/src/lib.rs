//! The `openapi` component: `GET /openapi.json`, the OpenAPI 3.1 document
//! for every route (hand-written in `openapi.json`, checked by the
//! end-to-end tests against the routes actually served).

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
    router.get("/openapi.json", routes::document::handle_document);
    router.any("/openapi.json", spin_http::method_not_allowed(&["GET"]));
    router.any("/*", spin_http::route_not_found);
    router
}
