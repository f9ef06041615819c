//! What the runtime itself answers when no component does: an RFC 9457
//! `application/problem+json` body with the same status Spin answers
//! (Spin's own bodies are empty). The `detail` says what happened in words
//! a client can use and nothing more: the cause (a trap's backtrace, a file
//! path, a pool limit) goes to the runtime's log only.

use crate::server::Body;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};

/// The media type of every problem the runtime answers.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// No route of the app serves the path (Spin: an empty 404).
pub fn no_route() -> Response<Body> {
    problem(
        StatusCode::NOT_FOUND,
        "No route of this application serves this path.",
    )
}

/// The component failed before it answered: it trapped, could not be
/// instantiated (for example every pooled instance is in use), set no
/// response, or the request could not be handed to it (Spin: an empty 500).
pub fn component_failed() -> Response<Body> {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The component failed before it answered.",
    )
}

/// The component was stopped at the request timeout before it answered.
pub fn timed_out() -> Response<Body> {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The component did not answer within the request timeout.",
    )
}

/// A problem document for `status` with `detail`.
fn problem(status: StatusCode, detail: &str) -> Response<Body> {
    let title = status.canonical_reason().unwrap_or("Error");
    // `type` is RFC 9457's default, about:blank: the title is the status's.
    let document = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let body = Full::new(Bytes::from(document.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn document(response: Response<Body>) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_failure_is_a_problem_with_its_status_and_no_internals() {
        let response = component_failed();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()[http::header::CONTENT_TYPE], CONTENT_TYPE);
        let problem = document(response).await;
        assert_eq!(problem["status"], 500);
        assert_eq!(problem["title"], "Internal Server Error");
        assert_eq!(problem["type"], "about:blank");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    #[tokio::test]
    async fn an_unrouted_path_is_a_404_problem() {
        let response = no_route();
        assert_eq!(response.status(), 404);
        assert_eq!(document(response).await["status"], 404);
    }
}
