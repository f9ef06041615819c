//! `POST /v1/widget/conversations {site, visitor, text?}` → 201
//! `{conversation_id, customer_id, visitor_token, visitor_token_expires_at}`.

use edgechat::conversations;
use edgechat::error::Error;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use spin_sdk::http::{Params, Request, Response};

pub fn handle_start(req: Request, _params: Params) -> Response {
    spin_http::respond(start(&req))
}

fn start(req: &Request) -> Result<Response, Error> {
    let input = conversations::parse_start(&spin_http::json_body(req)?)?;
    let key = spin_http::variable("signing_key")?;
    let kv = spin_http::store()?;
    let started = conversations::start(&kv, &SystemClock, key.as_bytes(), &input)?;
    Ok(spin_http::json_no_store(201, &started))
}
