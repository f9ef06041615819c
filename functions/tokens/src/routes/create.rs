//! `POST /api/v1/tokens {name}` → 201 `{id, name, token, created_at}`.

use edgechat::error::Error;
use edgechat::idempotency::Scope;
use edgechat::time::SystemClock;
use edgechat::{spin_http, tokens};
use spin_sdk::http::{Params, Request, Response};

pub fn handle_create(req: Request, _params: Params) -> Response {
    spin_http::respond(create(&req))
}

fn create(req: &Request) -> Result<Response, Error> {
    let kv = spin_http::store()?;
    let caller = spin_http::caller(req, &kv)?;
    Ok(spin_http::idempotent(
        req,
        &kv,
        Scope::Account(&caller.account),
        || {
            spin_http::respond((|| {
                let name = tokens::parse_create(&spin_http::json_body(req)?)?;
                let issued =
                    tokens::issue(&kv, &SystemClock, &caller.account, &caller.actor, &name)?;
                Ok(spin_http::json_no_store(201, &issued))
            })())
        },
    ))
}
