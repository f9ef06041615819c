//! The HTTP edge of the components: reading requests (with the body limit),
//! authenticating, and turning domain results into spin-sdk responses.
//!
//! A component's entry point reads the request with [`read_request`], then
//! hands it to its `Router`; handlers call the domain and answer with
//! [`json`], or with [`error`] for an [`Error`].

use crate::auth::{self, Caller};
use crate::error::Error;
use crate::idempotency::{self, Begin, Scope};
use crate::input::{self, MAX_BODY_BYTES};
use crate::problem::{self, Problem};
use crate::spin_store::SpinStore;
use crate::time::SystemClock;
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use spin_sdk::http::{IncomingRequest, Params, Request, Response, Router};

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    json_bytes(status, serde_json::to_vec(body))
}

// Not generic: one copy of the response building for every body type.
#[inline(never)]
fn json_bytes(status: u16, bytes: serde_json::Result<Vec<u8>>) -> Response {
    match bytes {
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

/// The problem response for a domain error (server causes are logged).
pub fn error(error: Error) -> Response {
    problem(&error.to_problem())
}

/// Either response: the handlers' `Result<Response, Error>` made final.
pub fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(error)
}

/// 204 No Content.
pub fn no_content() -> Response {
    Response::builder().status(204).build()
}

/// The 404 for a path no route of the component serves.
pub fn route_not_found(req: Request, _params: Params) -> Response {
    problem(&Problem::not_found(format!(
        "no such resource: {}",
        req.path()
    )))
}

/// A handler answering 405 with `Allow: <allowed>`.
pub fn method_not_allowed(
    allowed: &'static [&'static str],
) -> impl Fn(Request, Params) -> Response {
    move |_req, _params| problem(&Problem::method_not_allowed(allowed))
}

/// Reads an incoming request, streaming the body and stopping with 413 as
/// soon as it exceeds [`MAX_BODY_BYTES`] (a declared `Content-Length` over
/// the limit is refused before reading).
pub async fn read_request(incoming: IncomingRequest) -> Result<Request, Problem> {
    let method = incoming.method();
    let uri = incoming.uri();
    // Copy the headers out and drop their `fields` handle before the body is
    // consumed: in wasi-http the fields are a child resource of the request,
    // and the wasmtime in Spin 3.6 traps ("resource has children") when the
    // request is dropped while a child is alive.
    let headers: Vec<(String, Vec<u8>)> = incoming.headers().entries();
    let declared = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(input::too_large().to_problem());
    }
    let mut body = Vec::new();
    let mut stream = incoming.into_body_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(input::too_large().to_problem());
                }
                body.extend_from_slice(&chunk);
            }
            Err(e) => {
                eprintln!("reading the request body failed: {e:?}");
                return Err(Problem::new(400, "the request body could not be read"));
            }
        }
    }
    Ok(Request::builder()
        .method(method)
        .uri(uri)
        .headers(headers)
        .body(body)
        .build())
}

/// Serves a request with a component's router, after [`read_request`].
pub async fn serve(incoming: IncomingRequest, router: Router) -> Response {
    match read_request(incoming).await {
        Ok(req) => router.handle_async(req).await,
        Err(problem) => self::problem(&problem),
    }
}

/// A JSON response that must not be cached (it carries a secret).
pub fn json_no_store<T: Serialize>(status: u16, body: &T) -> Response {
    let mut response = json(status, body);
    response.set_header("cache-control", "no-store");
    response
}

/// A request header as text.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|value| value.as_str())
}

/// A query parameter, percent-decoded.
pub fn query(req: &Request, name: &str) -> Option<String> {
    input::query_param(req.query(), name)
}

/// The request body as JSON (413, 415 and 400 as [`input::json_body`]).
pub fn json_body(req: &Request) -> Result<Value, Error> {
    input::json_body(header(req, "content-type"), req.body())
}

/// A path parameter, percent-decoded.
pub fn param(params: &Params, name: &str) -> String {
    input::percent_decode(params.get(name).unwrap_or_default())
}

/// The `default` store.
pub fn store() -> Result<SpinStore, Error> {
    Ok(SpinStore::open_default()?)
}

/// The API caller, from `Authorization: Bearer <API token>`.
pub fn caller(req: &Request, kv: &SpinStore) -> Result<Caller, Error> {
    auth::authenticate(kv, header(req, "authorization"))
}

/// A component variable; a missing one is an operator error (500, logged).
pub fn variable(name: &str) -> Result<String, Error> {
    spin_sdk::variables::get(name)
        .map_err(|e| Error::Corrupt(format!("variable {name} is not available: {e}")))
}

/// Runs a POST under its `Idempotency-Key`, if it has one: the first request
/// runs `run`; a repeat with the same method, path and body gets the first
/// (successful) response again, marked `Idempotent-Replayed: true`; a repeat
/// with a different body gets 422.
pub fn idempotent(
    req: &Request,
    kv: &SpinStore,
    scope: Scope<'_>,
    run: impl FnOnce() -> Response,
) -> Response {
    let Some(key) = header(req, idempotency::HEADER) else {
        return run();
    };
    let secret = match variable("signing_key") {
        Ok(secret) => secret,
        Err(e) => return error(e),
    };
    let mut fingerprint = format!("{}\n{}\n", req.method(), req.path()).into_bytes();
    fingerprint.extend_from_slice(req.body());
    match idempotency::begin(
        kv,
        &SystemClock,
        scope,
        key,
        &fingerprint,
        secret.as_bytes(),
    ) {
        Err(e) => error(e),
        Ok(Begin::Replay(replay)) => Response::builder()
            .status(replay.status)
            .header("content-type", "application/json")
            .header("idempotent-replayed", "true")
            .body(replay.body)
            .build(),
        Ok(Begin::Run(reservation)) => {
            let response = run();
            if let Err(e) =
                idempotency::finish(kv, reservation, *response.status(), response.body())
            {
                // The request itself succeeded; a retry would run it again.
                eprintln!("error: storing the idempotent response failed: {e}");
            }
            response
        }
    }
}

/// CORS for the public widget routes (`/v1/widget/*`): the widget runs on
/// the business's own site, so any origin may call them. They carry no
/// cookies (the visitor token travels in `Authorization`), hence `*`.
///
/// A public component serves with [`serve_public`] (every answer, errors
/// and 413s included, gets [`with_cors`]) and registers
/// `router.options("/v1/widget/...", spin_http::cors_preflight)` before its
/// other routes.
pub mod cors {
    /// Methods the public routes accept.
    pub const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
    /// Request headers the widget sends.
    pub const ALLOW_HEADERS: &str = "authorization, content-type";
    /// How long a browser may cache a preflight (seconds).
    pub const MAX_AGE: &str = "86400";
}

/// Adds `Access-Control-Allow-Origin: *` (and exposes `Retry-After`).
pub fn with_cors(mut response: Response) -> Response {
    response.set_header("access-control-allow-origin", "*");
    response.set_header("access-control-expose-headers", "retry-after");
    response
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the allowed
/// methods and headers.
pub fn cors_preflight(_req: Request, _params: Params) -> Response {
    Response::builder()
        .status(204)
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", cors::ALLOW_METHODS)
        .header("access-control-allow-headers", cors::ALLOW_HEADERS)
        .header("access-control-max-age", cors::MAX_AGE)
        .build()
}

/// [`serve`] for public widget routes: every response carries CORS headers.
pub async fn serve_public(incoming: IncomingRequest, router: Router) -> Response {
    with_cors(serve(incoming, router).await)
}
