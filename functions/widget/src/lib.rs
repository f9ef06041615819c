//! The `widget` component: `/v1/widget/...`, the public routes the embedded
//! widget calls with its site key — appearance, visibility and minting
//! visitor ids. Every
//! answer carries CORS headers and preflights are answered
//! (`spin_http::serve_public`): the widget runs on the business's own site.
//! (`/v1/widget/conversations/...` is the `widget-conversations` component
//! and `/v1/widget/identify` the `widget-identify` one: the more specific
//! route wins.)

use edgechat::spin_http::{self, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/v1/widget/config", &[(Get, config::handle)]),
    Route::new("/v1/widget/visibility", &[(Get, visibility::handle)]),
    Route::new("/v1/widget/visitors", &[(Post, visitors::handle)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve_public(req, ROUTES).await
}
