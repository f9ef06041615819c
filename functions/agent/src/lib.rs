//! The `agent` component: everything under `/agent/`, the agent's side of
//! a chat in a browser.
//!
//! - `GET /agent/join?token=` opens a signed agent link: a session cookie
//!   and a 303 to the conversation's page, or a human page saying why not.
//! - `GET /agent/conversations/{id}` is the chat page (`/agent/app.js`,
//!   `/agent/app.css`); its API is `/agent/api/conversations/{id}[/messages,
//!   /close, /reopen, /handover]`, cookie-authenticated, CSRF-checked.
//! - `POST /agent/logout` ends the session.
//!
//! The rules live in `edgechat::agent_links` and `edgechat::agent_sessions`;
//! what the page does to a conversation goes through the same domain
//! functions as the integration API, as the agent.

use edgechat::spin_http::{self, Get, Post, Route};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod html;
mod routes;
mod session;
use routes::*;

const ROUTES: &[Route] = &[
    Route::new("/agent/join", &[(Get, join::handle)]),
    Route::new("/agent/logout", &[(Post, logout::handle)]),
    Route::new("/agent/app.js", &[(Get, assets::script)]),
    Route::new("/agent/app.css", &[(Get, assets::style)]),
    Route::new("/agent/conversations/:id", &[(Get, page::handle)]),
    Route::new("/agent/api/conversations/:id", &[(Get, api::get)]),
    Route::new(
        "/agent/api/conversations/:id/messages",
        &[(Get, api::messages), (Post, api::reply)],
    ),
    Route::new("/agent/api/conversations/:id/close", &[(Post, api::close)]),
    Route::new(
        "/agent/api/conversations/:id/reopen",
        &[(Post, api::reopen)],
    ),
    Route::new(
        "/agent/api/conversations/:id/handover",
        &[(Post, api::handover)],
    ),
];

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, ROUTES).await
}
