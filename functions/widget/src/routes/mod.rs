pub mod config;
pub mod visibility;

use edgechat::error::Error;
use edgechat::ids::{AccountId, SiteKey};
use edgechat::spin_store::SpinStore;
use edgechat::{accounts, spin_http};
use spin_sdk::http::Request;

/// The account named by `?site=` (400 when missing or malformed, 404 when
/// unknown).
pub fn site_account(req: &Request, kv: &SpinStore) -> Result<AccountId, Error> {
    let text = spin_http::query(req, "site")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::field("site", "is required: ?site=<your site key>"))?;
    let site = SiteKey::parse(&text).map_err(|m| Error::field("site", m))?;
    accounts::require_by_site_key(kv, &site)
}
