//! The `customers` component: `/api/v1/customers` — tag a customer with the
//! business's own id, email, names and labels; find it again.

use edgechat::spin_http::{self, Get, Put, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/api/v1/customers", &[(Get, find::handle)]),
    Route::new(
        "/api/v1/customers/:customer_id",
        &[(Put, put::handle), (Get, get::handle)],
    ),
    Route::new(
        "/api/v1/customers/:customer_id/visibility",
        &[(Get, get_visibility::handle), (Put, put_visibility::handle)],
    ),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
