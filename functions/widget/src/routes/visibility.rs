//! `GET /v1/widget/visibility?site=&visitor=&time_on_page=&visit=` →
//! `{visible, reason, matched_rules, recheck_after_seconds}`.

use super::site_account;
use edgechat::error::Error;
use edgechat::ids::CustomerId;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use edgechat::visibility::{self, PageFacts};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_visibility(req: Request, _params: Params) -> Response {
    spin_http::respond(decide(&req))
}

/// A non-negative integer query parameter; absent is `default`.
fn count(req: &Request, name: &str, default: u64) -> Result<u64, Error> {
    match spin_http::query(req, name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| Error::field(name, "must be a non-negative integer")),
    }
}

fn decide(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let account = site_account(req, &kv)?;
    let visitor = match spin_http::query(req, "visitor").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => Some(CustomerId::parse(&text).map_err(|m| Error::field("visitor", m))?),
    };
    let page = PageFacts {
        visitor,
        time_on_page: count(req, "time_on_page", 0)?,
        visit: count(req, "visit", 1)?.max(1),
    };
    let decision = visibility::decide(&kv, &SystemClock, &account, &page)?;
    let mut response = spin_http::json(200, &decision);
    response.set_header("cache-control", "no-store");
    Ok(response)
}
