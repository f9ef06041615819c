//! The `widget-identify` component: `POST /v1/widget/identify`, the page
//! telling who its logged-in user is (see `edgechat::identity`). Its own
//! component so that the `widget` component, which every page view calls,
//! stays small. Public: every answer carries CORS headers and preflights
//! are answered (`spin_http::serve_public`).

use edgechat::spin_http::{self, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[Route::new(
    "/v1/widget/identify",
    &[(Post, identify::handle)],
)];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve_public(req, ROUTES).await
}
