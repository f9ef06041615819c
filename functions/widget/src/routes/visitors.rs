//! `POST /v1/widget/visitors {site}` → 201 `{visitor}`: a new visitor id for
//! this browser, signed for the site (see `edgechat::visitors`). The widget
//! keeps it in the browser and mints a new one when a route refuses it
//! (after `signing_key` was rotated). Nothing is stored.

use edgechat::accounts;
use edgechat::error::Error;
use edgechat::ids::SiteKey;
use edgechat::input::{Errors, Object};
use edgechat::spin_http::{self, Ctx};
use edgechat::visitors;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let body = ctx.json_body()?;
    let mut errors = Errors::new();
    let site = Object::new(&body, "", &mut errors).and_then(|object| {
        object.required_parsed(
            "site",
            "is required: the site key of the widget",
            SiteKey::parse,
            &mut errors,
        )
    });
    let site = errors.finish_with(site)?;
    let account = accounts::require_by_site_key(ctx.store()?, &site)?;
    let key = spin_http::variable("signing_key")?;
    let visitor = visitors::mint_id(key.as_bytes(), &account);
    let mut response = spin_http::json(201, &serde_json::json!({ "visitor": visitor }));
    response.set_header("cache-control", "no-store");
    Ok(response)
}
