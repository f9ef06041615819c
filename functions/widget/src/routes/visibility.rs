//! `GET /v1/widget/visibility?site=&visitor=&time_on_page=&visit=` →
//! `{visible, reason, matched_rules, recheck_after_seconds}`. `visitor`, when
//! sent, must be a visitor id minted for the site (400 otherwise).

use super::site_account;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::visibility::{self, PageFacts};
use edgechat::visitors;
use spin_sdk::http::Response;

/// A non-negative integer query parameter; absent is `default`.
fn count(ctx: &Ctx, name: &str, default: u64) -> Result<u64, Error> {
    match ctx.query(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| Error::field(name, "must be a non-negative integer")),
    }
}

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let account = site_account(ctx)?;
    let visitor = match ctx.query("visitor").filter(|v| !v.is_empty()) {
        None => None,
        // Only a visitor id minted for this site: a typed name (`john`)
        // must not borrow a tagged customer's override or probe for one.
        Some(text) => Some(visitors::verify_id(
            spin_http::variable("signing_key")?.as_bytes(),
            &account,
            &text,
        )?),
    };
    let page = PageFacts {
        visitor,
        time_on_page: count(ctx, "time_on_page", 0)?,
        visit: count(ctx, "visit", 1)?.max(1),
    };
    let decision = visibility::decide(ctx.store()?, &SystemClock, &account, &page)?;
    let mut response = spin_http::json(200, &decision);
    response.set_header("cache-control", "no-store");
    Ok(response)
}
