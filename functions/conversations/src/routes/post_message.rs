//! `POST /api/v1/conversations/{id}/messages {agent_id, text}` → 201 with the
//! message: an agent's reply (404 for an unknown agent or conversation). An
//! `Idempotency-Key` replays the first answer.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, messages};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    // A backend that retries a reply after a timeout must not post it twice.
    ctx.idempotent(Scope::Account(&caller.account), || {
        let (agent, text) = messages::parse_reply(&ctx.json_body()?)?;
        let id = ctx.param("id");
        let message = conversations::reply(ctx.store()?, &SystemClock, caller, id, &agent, &text)?;
        Ok(spin_http::json(201, &message))
    })
}
