//! `GET /api/v1/widget/config` → `{colors, texts, position, updated_at}`.

use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::widget::config as widget;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let view = widget::get_config(ctx.store()?, &ctx.caller()?.account)?;
    Ok(spin_http::json(200, &view))
}
