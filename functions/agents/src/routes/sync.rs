//! `PUT /api/v1/agents {agents: [...]}` → `{created, updated, removed}`: the
//! stored list becomes exactly the given list.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let inputs = agents::parse_list(&ctx.json_body()?)?;
    let outcome = agents::sync(ctx.store()?, &SystemClock, caller, &inputs)?;
    Ok(spin_http::json(200, &outcome))
}
