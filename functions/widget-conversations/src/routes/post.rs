//! `POST /v1/widget/conversations/{id}/messages {text}` (visitor token) →
//! 201 with the message. Reopens the conversation if it was closed. An
//! `Idempotency-Key` replays the first answer.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{conversations, messages};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let visitor = super::visitor(ctx)?;
    ctx.idempotent(Scope::Account(&visitor.account), || {
        let text = messages::parse_visitor(&ctx.json_body()?)?;
        let id = ctx.param("id");
        let message =
            conversations::post_visitor_message(ctx.store()?, &SystemClock, &visitor, id, &text)?;
        Ok(spin_http::json(201, &message))
    })
}
