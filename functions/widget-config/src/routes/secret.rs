//! `PUT /api/v1/widget/identity-secret {secret}` → `{configured: true,
//! updated_at}`; `GET` → `{configured, updated_at}` (never the secret);
//! `DELETE` → 204 (identify is accepted unverified again).

use edgechat::error::Error;
use edgechat::time::SystemClock;
use edgechat::{identity, spin_http};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_get(req: Request, _params: Params) -> Response {
    spin_http::respond(get(&req))
}

pub fn handle_put(req: Request, _params: Params) -> Response {
    spin_http::respond(put(&req))
}

pub fn handle_delete(req: Request, _params: Params) -> Response {
    spin_http::respond(delete(&req))
}

fn get(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    Ok(spin_http::json(
        200,
        &identity::secret_status(&kv, &caller.account)?,
    ))
}

fn put(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    let secret = identity::parse_secret(&spin_http::json_body(req)?)?;
    let signing_key = spin_http::variable("signing_key")?;
    let status = identity::put_secret(&kv, &SystemClock, &caller, signing_key.as_bytes(), &secret)?;
    Ok(spin_http::json_no_store(200, &status))
}

fn delete(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    identity::delete_secret(&kv, &SystemClock, &caller)?;
    Ok(spin_http::no_content())
}
