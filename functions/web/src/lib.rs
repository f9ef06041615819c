//! The `web` component: the static assets a browser loads — `GET
//! /widget.js` (the loader and widget in one file: the one script tag a
//! site embeds) and `GET /demo` with its `/demo.js` (a plain page with the
//! widget on it).
//! Both are compiled in (`include_str!`), so the component needs no files
//! at run time and no key-value store.

use edgechat::spin_http::{self, Get, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod routes;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/widget.js", &[(Get, widget_js::handle)]),
    Route::new("/demo", &[(Get, demo::handle)]),
    Route::new("/demo.js", &[(Get, demo::script)]),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
