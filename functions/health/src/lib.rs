//! The `health` component: `GET /healthz`.

use edgechat::problem::Problem;
use edgechat::spin_http;
use spin_sdk::http::{Request, Response, Router};
use spin_sdk::http_component;

mod routes;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/healthz", routes::check::handle_check);
    router.any("/healthz", |_req: Request, _params| {
        spin_http::problem(&Problem::method_not_allowed(&["GET"]))
    });
    router.handle(req)
}
