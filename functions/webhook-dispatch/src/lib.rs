//! The `webhook-dispatch` component: `POST /api/v1/webhook-dispatch?wait=&worker=`
//! (operator's admin token) delivers every due webhook for up to `wait`
//! seconds. A scheduler calls it under Spin; the local runtime calls it by
//! itself (`--tick`).

use edgechat::spin_http::{self, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new(
    "/api/v1/webhook-dispatch",
    &[(Post, run::handle)],
)];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
