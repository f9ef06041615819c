//! `POST /api/v1/accounts/{id}/tokens {name}` (admin token) → 201 `{id,
//! name, token, created_at}`, never cached: the operator's way back for an
//! account whose integrator revoked or lost every token. An
//! `Idempotency-Key` replays the first answer.

use edgechat::accounts;
use edgechat::auth;
use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::ids::AccountId;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::tokens;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let admin_token = spin_http::variable("admin_token")?;
    auth::authenticate_admin(ctx.header("authorization"), &admin_token)?;
    let account: AccountId = ctx.param_parsed("id", AccountId::parse)?;
    ctx.idempotent(Scope::Admin, || {
        let name = tokens::parse_create(&ctx.json_body()?)?;
        let issued = accounts::issue_token(ctx.store()?, &SystemClock, &account, &name)?;
        Ok(spin_http::json_no_store(201, &issued))
    })
}
