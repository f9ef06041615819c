//! `POST /api/v1/accounts {name}` → 201 `{account, site_key, api_token}`.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::time::SystemClock;
use edgechat::{accounts, auth, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_create(req: Request, _params: Params) -> Response {
    spin_http::respond(create(&req))
}

fn create(req: &Request) -> Result<Response, Error> {
    let admin_token = spin_http::variable("admin_token")?;
    auth::authenticate_admin(spin_http::header(req, "authorization"), &admin_token)?;
    let kv = spin_http::store()?;
    Ok(spin_http::idempotent(req, &kv, Scope::Admin, || {
        spin_http::respond((|| {
            let name = accounts::parse_create(&spin_http::json_body(req)?)?;
            let created = accounts::create(&kv, &SystemClock, &name)?;
            Ok(spin_http::json_no_store(201, &created))
        })())
    }))
}
