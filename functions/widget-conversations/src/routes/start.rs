//! `POST /v1/widget/conversations {site, visitor, text?}` → 201
//! `{conversation_id, customer_id, visitor_token, visitor_token_expires_at}`.
//! An `Idempotency-Key` replays the first answer.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{accounts, conversations};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let input = conversations::parse_start(&ctx.json_body()?)?;
    let account = accounts::require_by_site_key(ctx.store()?, &input.site)?;
    // The replay holds a visitor token: it is sealed (see `idempotency`).
    ctx.idempotent(Scope::Account(&account), || {
        let key = spin_http::variable("signing_key")?;
        let started = conversations::start(ctx.store()?, &SystemClock, key.as_bytes(), &input)?;
        Ok(spin_http::json_no_store(201, &started))
    })
}
