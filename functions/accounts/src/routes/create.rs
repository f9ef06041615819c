//! `POST /api/v1/accounts {name}` (admin token) → 201 `{account, site_key,
//! api_token}`, never cached; an `Idempotency-Key` replays the first answer.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{accounts, auth};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let admin_token = spin_http::variable("admin_token")?;
    auth::authenticate_admin(ctx.header("authorization"), &admin_token)?;
    ctx.idempotent(Scope::Admin, || {
        let name = accounts::parse_create(&ctx.json_body()?)?;
        let created = accounts::create(ctx.store()?, &SystemClock, &name)?;
        Ok(spin_http::json_no_store(201, &created))
    })
}
