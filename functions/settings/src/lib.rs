//! The `settings` component: `/api/v1/settings/...` — account settings.
//! For now one: `PUT/GET /api/v1/settings/routing {mode: manual |
//! round_robin}` (see `edgechat::routing`).

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{routing, spin_http};
use spin_sdk::http::{IncomingRequest, Params, Request, Response, Router};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spin_http::serve(req, router()).await
}

fn router() -> Router {
    let mut router = Router::new();
    router.get("/api/v1/settings/routing", handle_get_routing);
    router.put("/api/v1/settings/routing", handle_put_routing);
    router.any(
        "/api/v1/settings/routing",
        spin_http::method_not_allowed(&["GET", "PUT"]),
    );
    router.any("/*", spin_http::route_not_found);
    router
}

/// `GET /api/v1/settings/routing` → `{mode, updated_at?}`.
fn handle_get_routing(req: Request, _params: Params) -> Response {
    spin_http::respond((|| {
        let kv = spin_http::store()?;
        let caller = spin_http::caller(&req, &kv)?;
        Ok::<_, Error>(spin_http::json(200, &routing::get(&kv, &caller.account)?))
    })())
}

/// `PUT /api/v1/settings/routing {mode}` → the setting.
fn handle_put_routing(req: Request, _params: Params) -> Response {
    spin_http::respond((|| {
        let kv = spin_http::store()?;
        let caller = spin_http::caller(&req, &kv)?;
        let mode = routing::parse(&spin_http::json_body(&req)?)?;
        let routing = routing::set(&kv, &SystemClock, &caller, mode)?;
        Ok::<_, Error>(spin_http::json(200, &routing))
    })())
}
