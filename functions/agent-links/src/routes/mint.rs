//! `POST /api/v1/agent-links {agent_id, conversation_id | customer_id,
//! ttl_seconds?, assign?}` → 201 `{url, expires_at, link_id,
//! conversation_id, agent_id}`. The URL carries a secret: the answer is not
//! cached, and an `Idempotency-Key` replay returns it from a sealed record.

use edgechat::agent_links;
use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.idempotent(Scope::Account(&caller.account), || {
        let input = agent_links::parse_mint(&ctx.json_body()?)?;
        let key = spin_http::variable("signing_key")?;
        let origin = agent_links::public_origin(
            &spin_http::variable("public_base_url")?,
            ctx.header("spin-full-url"),
        )?;
        let minted = agent_links::mint(
            ctx.store()?,
            &SystemClock,
            key.as_bytes(),
            caller,
            &origin,
            &input,
        )?;
        Ok(spin_http::json_no_store(201, &minted))
    })
}
