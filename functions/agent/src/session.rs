//! The request's origin and session, shared by the page and its API.

use edgechat::agent_links;
use edgechat::agent_sessions::{self, Active};
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

/// The app's public origin: `public_base_url`, else the request's own.
pub fn origin(ctx: &Ctx) -> Result<String, Error> {
    agent_links::public_origin(
        &spin_http::variable("public_base_url")?,
        ctx.header("spin-full-url"),
    )
}

/// The request's live session; `Err(Unauthorized)` when there is none.
pub fn open(ctx: &Ctx, origin: &str) -> Result<Active, Error> {
    let cookie = agent_sessions::cookie_value(ctx.header("cookie"), origin);
    agent_sessions::open(ctx.store()?, &SystemClock, cookie)
}

/// Whether a request changes something (and so must pass the CSRF check).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Change,
}

/// Runs `run` with the request's live session. Without one the answer is a
/// 401 problem that also clears the cookie; a change from anywhere but the
/// app's own page is a 403 ([`Active::check_csrf`]).
pub fn with_session(
    ctx: &Ctx,
    kind: Kind,
    run: impl FnOnce(&Active, &str) -> Result<Response, Error>,
) -> Result<Response, Error> {
    let origin = origin(ctx)?;
    let active = match open(ctx, &origin) {
        Ok(active) => active,
        Err(e @ Error::Unauthorized(_)) => {
            let mut response = spin_http::error(e);
            response.set_header("set-cookie", agent_sessions::clear_cookie(&origin));
            return Ok(response);
        }
        Err(e) => return Err(e),
    };
    if kind == Kind::Change {
        active.check_csrf(
            ctx.header("origin"),
            &origin,
            ctx.header(agent_sessions::CSRF_HEADER),
        )?;
    }
    let mut response = run(&active, &origin)?;
    response.set_header("cache-control", "no-store");
    Ok(response)
}
