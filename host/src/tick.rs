//! `--tick <PATH>`: the runtime itself keeps one `POST <PATH>` running
//! against the app, again and again, the way a scheduler would call it
//! under Spin (which has no timers). edgechat uses it for webhook
//! delivery: `--tick '/api/v1/webhook-dispatch?wait=20'`.
//!
//! Each request is served in-process, like a request from outside, with
//! `Authorization: Bearer <value of the application variable named by
//! --tick-token-variable>` (default `admin_token`), and `worker=<name of
//! this process>` added to the query so that the app can tell this
//! runtime's successive calls apart from another runtime's. A call that
//! fails is logged and retried a second later.

use crate::server::{App, Body, Listening};
use http::Request;
use http_body_util::{BodyExt, Empty};
use std::sync::Arc;
use std::time::Duration;

/// Starts one loop calling `path` for as long as the runtime runs.
pub fn start(app: Arc<App>, path: String, bearer: Option<String>, listening: Listening) {
    let worker = format!("host-{}-{:x}", std::process::id(), rand_suffix());
    let uri = if path.contains("worker=") {
        path.clone()
    } else if path.contains('?') {
        format!("{path}&worker={worker}")
    } else {
        format!("{path}?worker={worker}")
    };
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            let mut builder = Request::builder()
                .method("POST")
                .uri(uri.as_str())
                .header("host", listening.addr.to_string());
            if let Some(token) = &bearer {
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
            let body: Body = Empty::new().map_err(|never| match never {}).boxed_unsync();
            let Ok(request) = builder.body(body) else {
                eprintln!("--tick {path}: not a request path");
                return;
            };
            let response = app.handle_local(request, listening).await;
            let status = response.status();
            let _ = response.into_body().collect().await;
            if status.is_success() {
                if failing {
                    eprintln!("--tick {path}: answering again");
                }
                failing = false;
            } else {
                if !failing {
                    eprintln!("--tick {path}: answered {status}; retrying every second");
                }
                failing = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per process: enough for a name.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id() as u64);
    hasher.finish()
}
