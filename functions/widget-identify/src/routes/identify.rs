//! `POST /v1/widget/identify {site, visitor, id, email?, firstname?,
//! lastname?, labels?, hash?}` → `{customer_id, linked_customer_id,
//! verified}`; 401 when the account verifies identities and `hash` is wrong.

use edgechat::error::Error;
use edgechat::identity;
use edgechat::spin_http;
use edgechat::time::SystemClock;
use spin_sdk::http::{Params, Request, Response};

pub fn handle_identify(req: Request, _params: Params) -> Response {
    spin_http::respond(identify(&req))
}

fn identify(req: &Request) -> Result<Response, Error> {
    let input = identity::parse_identify(&spin_http::json_body(req)?)?;
    let kv = spin_http::store()?;
    let signing_key = spin_http::variable("signing_key")?;
    let identified = identity::identify(&kv, &SystemClock, signing_key.as_bytes(), &input)?;
    Ok(spin_http::json(200, &identified))
}
