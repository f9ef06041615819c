//! `GET /agent/join?token=` → 303 to `/agent/conversations/{id}` with the
//! session cookie, or a page saying why the link does not work (410 used or
//! expired, 401 not valid, 400 without a token). Never cached, and the
//! token never leaves in a `Referer`.

use crate::html;
use crate::session;
use edgechat::agent_links::{self, Joined, SigningKeys};
use edgechat::agent_sessions;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let origin = session::origin(ctx)?;
    let Some(token) = ctx.query("token").filter(|t| !t.is_empty()) else {
        return Ok(html::notice(
            400,
            "This link is incomplete",
            "The address has no token in it.",
            "Copy the whole link from your message and open it again.",
        ));
    };
    let (current, previous, until) = (
        spin_http::variable("signing_key")?,
        spin_http::variable("previous_signing_key")?,
        spin_http::variable("previous_signing_key_until")?,
    );
    let keys = SigningKeys::from_variables(&current, &previous, &until)?;
    let cookie = agent_sessions::cookie_value(ctx.header("cookie"), &origin);
    match agent_links::join(ctx.store()?, &SystemClock, &keys, &token, cookie)? {
        Joined::Refused(refused) => {
            let (title, what, next) = refused.refusal.explain();
            Ok(html::notice(refused.refusal.status(), title, what, next))
        }
        Joined::LoggedIn { claims, session } => {
            let mut builder = Response::builder();
            builder
                .status(303)
                .header(
                    "location",
                    format!("/agent/conversations/{}", claims.conversation),
                )
                .header("cache-control", "no-store")
                .header("referrer-policy", "no-referrer");
            if let Some(cookie) = &session.cookie {
                builder.header("set-cookie", agent_sessions::set_cookie(&origin, cookie));
            }
            Ok(builder.build())
        }
    }
}
