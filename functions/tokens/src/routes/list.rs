//! `GET /api/v1/tokens` → `{items: [{id, name, created_at}]}`, never a secret.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::tokens;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let items = tokens::list(ctx.store()?, &ctx.caller()?.account)?;
    Ok(spin_http::json(200, &serde_json::json!({ "items": items })))
}
