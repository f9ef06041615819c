//! Every key-value key edgechat uses, built here and nowhere else.
//!
//! Account-owned keys start with the account id (`acct:<id>:…`); the few
//! global keys map something public or secret to an account and hold nothing
//! else. Keeping the layout in one module makes it reviewable at a glance.

/// The key `/healthz` reads (and with `?deep=true` writes and deletes) to prove
/// the store answers. It belongs to no account.
pub fn health_probe() -> &'static str {
    "sys:health:probe"
}
