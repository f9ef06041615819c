//! The HTTP edge of the components: reading requests (with the body limit),
//! dispatching them through the component's route table, authenticating, and
//! turning domain results into spin-sdk responses.
//!
//! A component's `lib.rs` is its route table and nothing else:
//!
//! ```ignore
//! const ROUTES: &[Route] = &[
//!     Route::new("/api/v1/agents", &[(Put, sync::handle), (Get, list::handle)]),
//!     Route::new("/api/v1/agents/:agent_id", &[(Get, get::handle)]),
//! ];
//!
//! #[http_component]
//! async fn handle(req: IncomingRequest) -> Response {
//!     spin_http::serve(req, ROUTES).await
//! }
//! ```
//!
//! [`serve`] reads the request ([`read_request`]), finds the handler in the
//! table ([`crate::http::route_table`]; 405 with the computed `Allow`, or a
//! problem+json 404), and runs it with a [`Ctx`]: the request, its decoded
//! path parameters, the store and the authenticated caller, both opened on
//! first use. A handler returns `Result<Response, Error>`; an `Err` becomes
//! its problem+json response.

use crate::api::auth::{self, Caller};
use crate::api::idempotency::{self, Begin, Scope};
use crate::base::error::Error;
use crate::base::input::{self, MAX_BODY_BYTES};
use crate::base::problem::{self, Problem};
use crate::base::time::SystemClock;
use crate::http::route_table::{self, Outcome};
use crate::storage::spin_store::SpinStore;
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use spin_sdk::http::{IncomingRequest, Request, Response};
use std::cell::OnceCell;

pub use crate::http::route_table::Method::{Delete, Get, Patch, Post, Put};

/// What a route runs: the request's context in, a response or an error out.
pub type Handler = fn(&Ctx) -> Result<Response, Error>;

/// One line of a component's route table.
pub type Route = route_table::Route<Handler>;

/// Everything a handler needs about its request, opened on first use.
pub struct Ctx {
    /// The request, body read whole.
    pub req: Request,
    params: Vec<(&'static str, String)>,
    store: OnceCell<SpinStore>,
    caller: OnceCell<Caller>,
}

/// The paging part of a list request's query: `?cursor=&limit=`.
#[derive(Debug)]
pub struct PageQuery {
    /// The opaque cursor, if any.
    pub cursor: Option<String>,
    /// How many items at most (validated against the route's maximum).
    pub limit: usize,
}

impl Ctx {
    fn new(req: Request, params: Vec<(&'static str, String)>) -> Ctx {
        let params = params
            .into_iter()
            .map(|(name, value)| (name, input::percent_decode(&value)))
            .collect();
        Ctx {
            req,
            params,
            store: OnceCell::new(),
            caller: OnceCell::new(),
        }
    }

    /// The `default` store.
    pub fn store(&self) -> Result<&SpinStore, Error> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let store = SpinStore::open_default()?;
        Ok(self.store.get_or_init(|| store))
    }

    /// The API caller, from `Authorization: Bearer <API token>` (401 without).
    pub fn caller(&self) -> Result<&Caller, Error> {
        if let Some(caller) = self.caller.get() {
            return Ok(caller);
        }
        let caller = auth::authenticate(self.store()?, self.header("authorization"))?;
        Ok(self.caller.get_or_init(|| caller))
    }

    /// The path parameter `:name`, percent-decoded.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    /// The path parameter `:name` as a typed value (e.g. `CustomerId::parse`):
    /// a refusal is a 400 whose field is the parameter's name.
    pub fn param_parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, Error> {
        parse(self.param(name)).map_err(|message| Error::field(name, message))
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.req, name)
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query(&self.req, name)
    }

    /// The request body as JSON (413, 415 and 400 as [`input::json_body`]).
    pub fn json_body(&self) -> Result<Value, Error> {
        json_body(&self.req)
    }

    /// Refuses a body on a route that takes none ([`input::no_body`]).
    pub fn no_body(&self) -> Result<(), Error> {
        input::no_body(self.header("content-type"), self.req.body())
    }

    /// `?cursor=&limit=`, with `limit` from 1 to `max` (`default` if absent).
    pub fn page(&self, default: usize, max: usize) -> Result<PageQuery, Error> {
        Ok(PageQuery {
            limit: input::limit(self.query("limit").as_deref(), default, max)?,
            cursor: self.query("cursor"),
        })
    }

    /// Runs a POST under its `Idempotency-Key` ([`idempotent`]).
    pub fn idempotent(
        &self,
        scope: Scope<'_>,
        run: impl FnOnce() -> Result<Response, Error>,
    ) -> Result<Response, Error> {
        Ok(idempotent(&self.req, self.store()?, scope, || {
            respond(run())
        }))
    }

    /// `?cursor=&limit=&wait=` of a long-polling list, `limit` from 1 to
    /// `max` (`default` if absent), `wait` in seconds up to 30.
    pub fn long_poll(&self, default: usize, max: usize) -> Result<crate::longpoll::Query, Error> {
        let page = self.page(default, max)?;
        Ok(crate::longpoll::Query {
            cursor: page.cursor,
            limit: page.limit,
            wait_millis: self.wait_millis()?,
        })
    }

    /// How this component's long-polls wait: sleeping on the WASI clock,
    /// within the budgets of the `long_poll_slots` and
    /// `long_poll_slots_per_account` variables ([`crate::chat::waiting`]).
    pub fn long_poll_wait(&self) -> Result<crate::longpoll::Wait<'static>, Error> {
        let total = variable("long_poll_slots")?;
        let per_account = variable("long_poll_slots_per_account")?;
        let limits = crate::waiting::Limits::parse(Some(&total), Some(&per_account))?;
        Ok(crate::longpoll::Wait::in_component(limits))
    }

    /// `?wait=` of a long-poll, in milliseconds (0 when absent).
    pub fn wait_millis(&self) -> Result<i64, Error> {
        crate::chat::longpoll::parse_wait(self.query("wait").as_deref())
    }
}

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
            .header("x-content-type-options", "nosniff")
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
        .header("content-type", problem::CONTENT_TYPE)
        .header("x-content-type-options", "nosniff");
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

/// Serves a request with a component's route table, after [`read_request`].
pub async fn serve(incoming: IncomingRequest, table: &'static [Route]) -> Response {
    match read_request(incoming).await {
        Ok(req) => dispatch(req, table),
        Err(problem) => self::problem(&problem),
    }
}

fn dispatch(req: Request, table: &'static [Route]) -> Response {
    let method = req.method().to_string();
    match route_table::find(table, &method, req.path()) {
        Outcome::Run(handler, params) => respond(handler(&Ctx::new(req, params))),
        Outcome::MethodNotAllowed(allow) => problem(&Problem::method_not_allowed(&allow)),
        Outcome::NotFound => problem(&Problem::not_found(format!(
            "no such resource: {}",
            req.path()
        ))),
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
    let Some(value) = req.header(idempotency::HEADER) else {
        return run();
    };
    // A key that is not text must not be ignored: the request would run
    // twice on a retry.
    let Some(key) = value.as_str() else {
        return error(Error::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
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
            .header("x-content-type-options", "nosniff")
            // The first answer may have carried a secret (a minted token).
            .header("cache-control", "no-store")
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
/// A public component serves with [`serve_public`]: every answer, errors
/// and 413s included, gets [`with_cors`], and preflights are answered.
pub mod cors {
    /// Methods the public routes accept.
    pub const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
    /// Request headers the widget sends.
    pub const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key";
    /// How long a browser may cache a preflight (seconds).
    pub const MAX_AGE: &str = "86400";
}

/// Adds `Access-Control-Allow-Origin: *` (and exposes `Retry-After` and
/// `Idempotent-Replayed`).
pub fn with_cors(mut response: Response) -> Response {
    response.set_header("access-control-allow-origin", "*");
    response.set_header(
        "access-control-expose-headers",
        "retry-after, idempotent-replayed",
    );
    response
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the allowed
/// methods and headers.
pub fn cors_preflight() -> Response {
    Response::builder()
        .status(204)
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", cors::ALLOW_METHODS)
        .header("access-control-allow-headers", cors::ALLOW_HEADERS)
        .header("access-control-max-age", cors::MAX_AGE)
        .build()
}

/// [`serve`] for public widget routes: an `OPTIONS` preflight on any of the
/// table's paths is answered, and every response carries CORS headers.
pub async fn serve_public(incoming: IncomingRequest, table: &'static [Route]) -> Response {
    let req = match read_request(incoming).await {
        Ok(req) => req,
        Err(problem) => return with_cors(self::problem(&problem)),
    };
    let preflight = req.method().to_string() == "OPTIONS"
        && table
            .iter()
            .any(|route| route.captures(req.path()).is_some());
    if preflight {
        // `with_cors` as every other answer (it adds the exposed headers),
        // as the preflights answered through the router always had.
        return with_cors(cors_preflight());
    }
    with_cors(dispatch(req, table))
}
