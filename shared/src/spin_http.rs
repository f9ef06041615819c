//! Turning edgechat results into spin-sdk responses, for the components.

use crate::problem::{self, Problem};
use serde::Serialize;
use spin_sdk::http::Response;

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(bytes)
            .build(),
        Err(e) => {
            eprintln!("serialising a response failed: {e}");
            problem(&Problem::internal())
        }
    }
}

/// An `application/problem+json` response, with the problem's extra headers.
pub fn problem(problem: &Problem) -> Response {
    let mut builder = Response::builder();
    builder
        .status(problem.status)
        .header("content-type", problem::CONTENT_TYPE);
    for (name, value) in &problem.headers {
        builder.header(*name, value.as_str());
    }
    builder.body(problem.body()).build()
}
