//! The `customers` component: `/api/v1/customers` — tag a customer with the
//! business's own id, email, names and labels; find it again.

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
    router.get("/api/v1/customers", find::handle_find);
    router.any("/api/v1/customers", spin_http::method_not_allowed(&["GET"]));
    router.put("/api/v1/customers/:customer_id", put::handle_put);
    router.get("/api/v1/customers/:customer_id", get::handle_get);
    router.any(
        "/api/v1/customers/:customer_id",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.get(
        "/api/v1/customers/:customer_id/visibility",
        visibility::handle_get,
    );
    router.put(
        "/api/v1/customers/:customer_id/visibility",
        visibility::handle_put,
    );
    router.any(
        "/api/v1/customers/:customer_id/visibility",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}
