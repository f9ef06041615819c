//! The `events` component: `GET /api/v1/events?cursor=&limit=&wait=` — the
//! account's event log, oldest first; `wait` (≤ 30 s) long-polls until an
//! event arrives after the cursor. See `edgechat::events`.

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{events, input, longpoll, spin_http};
use spin_sdk::http::{IncomingRequest, Params, Request, Response, Router};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, router()).await
}

fn router() -> Router {
    let mut router = Router::new();
    router.get("/api/v1/events", handle_list);
    router.any("/api/v1/events", spin_http::method_not_allowed(&["GET"]));
    router.any("/*", spin_http::route_not_found);
    router
}

fn handle_list(req: Request, _params: Params) -> Response {
    spin_http::respond(list(&req))
}

fn list(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let limit = input::limit(
        spin_http::query(req, "limit").as_deref(),
        events::DEFAULT_PAGE,
        events::MAX_PAGE,
    )?;
    let wait = longpoll::parse_wait(spin_http::query(req, "wait").as_deref())?;
    let cursor = spin_http::query(req, "cursor");
    let page = events::page(
        &kv,
        &SystemClock,
        &caller.account,
        cursor.as_deref(),
        limit,
        wait,
        &longpoll::sleep_interval,
    )?;
    Ok(spin_http::json(200, &page))
}
