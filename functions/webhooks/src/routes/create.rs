//! `POST /api/v1/webhooks {url, events?, description?}` → 201 the endpoint
//! with its `secret` (`whsec_…`, shown this once); never cached.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::webhooks::{endpoints, spin_transport};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    ctx.idempotent(Scope::Account(&caller.account), || {
        let insecure = spin_transport::allow_insecure_urls()?;
        let input = endpoints::parse_create(&ctx.json_body()?, insecure)?;
        let key = spin_http::variable("signing_key")?;
        let (endpoint, secret) =
            endpoints::create(ctx.store()?, &SystemClock, caller, input, key.as_bytes())?;
        let body = endpoints::with_secret(&endpoint, &secret);
        Ok(spin_http::json_no_store(201, &body))
    })
}
