//! `POST /api/v1/conversations/{id}/assign {agent_id}` → the conversation,
//! routed to that agent (404 for an unknown agent). An `Idempotency-Key`
//! replays the first answer.

use edgechat::conversations;
use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.idempotent(Scope::Account(&caller.account), || {
        let agent = conversations::parse_assign(&ctx.json_body()?)?;
        let id = ctx.param("id");
        let view = conversations::assign(ctx.store()?, &SystemClock, caller, id, &agent)?;
        Ok(spin_http::json(200, &view))
    })
}
