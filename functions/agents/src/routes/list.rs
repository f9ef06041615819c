//! `GET /api/v1/agents?cursor=&limit=` → `{items, next_cursor}`, by id.

use edgechat::agents;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    // Who asks comes first: a stranger learns nothing, not even that the
    // query is malformed.
    let caller = ctx.caller()?;
    let page = ctx.page(agents::DEFAULT_PAGE, agents::MAX_PAGE)?;
    let items = agents::list(
        ctx.store()?,
        &caller.account,
        page.cursor.as_deref(),
        page.limit,
    )?;
    Ok(spin_http::json(200, &items))
}
