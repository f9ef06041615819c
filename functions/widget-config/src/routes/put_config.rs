//! `PUT /api/v1/widget/config {colors, texts, position}` → `{colors, texts,
//! position, updated_at}`.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::widget::config as widget;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let config = widget::parse_config(&ctx.json_body()?)?;
    let view = widget::put_config(ctx.store()?, &SystemClock, caller, config)?;
    Ok(spin_http::json(200, &view))
}
