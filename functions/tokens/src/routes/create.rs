//! `POST /api/v1/tokens {name}` → 201 `{id, name, token, created_at}`.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::tokens;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.idempotent(Scope::Account(&caller.account), || {
        let name = tokens::parse_create(&ctx.json_body()?)?;
        let issued = tokens::issue(
            ctx.store()?,
            &SystemClock,
            &caller.account,
            &caller.actor,
            &name,
        )?;
        Ok(spin_http::json_no_store(201, &issued))
    })
}
