//! `PUT /api/v1/action-rules [rules]` or `{rules: [...]}` → `{rules,
//! updated_at}`; replaces the whole list (`[]` removes every rule).

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{rules, visibility};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let parsed = rules::parse_rules(&ctx.json_body()?)?;
    let set = visibility::put_rules(ctx.store()?, &SystemClock, caller, parsed)?;
    Ok(spin_http::json(200, &set))
}
