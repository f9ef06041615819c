//! `GET /v1/widget/config?site=` → `{colors, texts, position}`. Cached
//! briefly by browsers and CDNs: a change shows within a minute.

use super::site_account;
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::widget::config as widget;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let account = site_account(ctx)?;
    let view = widget::get_config(ctx.store()?, &account)?;
    let mut response = spin_http::json(200, &view.config);
    response.set_header("cache-control", "public, max-age=60");
    Ok(response)
}
