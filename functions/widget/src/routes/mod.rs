pub mod config;
pub mod visibility;
pub mod visitors;

use edgechat::accounts;
use edgechat::error::Error;
use edgechat::ids::{AccountId, SiteKey};
use edgechat::spin_http::Ctx;

/// The account named by `?site=` (400 when missing or malformed, 404 when
/// unknown).
pub fn site_account(ctx: &Ctx) -> Result<AccountId, Error> {
    let kv = ctx.store()?;
    let text = ctx
        .query("site")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::field("site", "is required: ?site=<your site key>"))?;
    let site = SiteKey::parse(&text).map_err(|m| Error::field("site", m))?;
    accounts::require_by_site_key(kv, &site)
}
