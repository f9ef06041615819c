pub mod list;
pub mod post;
pub mod start;

use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::{Clock, SystemClock};
use edgechat::visitors::{self, Visitor};
use spin_sdk::http::Request;

/// The visitor, from `Authorization: Bearer <visitor_token>`.
pub fn visitor(req: &Request) -> Result<Visitor, Error> {
    let key = spin_http::variable("signing_key")?;
    visitors::authenticate(
        key.as_bytes(),
        spin_http::header(req, "authorization"),
        SystemClock.now(),
    )
}
