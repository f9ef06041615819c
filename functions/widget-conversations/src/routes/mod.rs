pub mod list;
pub mod post;
pub mod start;

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::{Clock, SystemClock};
use edgechat::visitors::{self, Visitor};

/// The visitor, from `Authorization: Bearer <visitor_token>`.
pub fn visitor(ctx: &Ctx) -> Result<Visitor, Error> {
    let key = spin_http::variable("signing_key")?;
    visitors::authenticate(
        key.as_bytes(),
        ctx.header("authorization"),
        SystemClock.now(),
    )
}
