//! `POST /v1/widget/identify {site, visitor, id, email?, firstname?,
//! lastname?, hash?}` → `{verified}`; 401 when the account verifies
//! identities and `hash` is wrong. It never changes a tagged customer (see
//! `edgechat::identity`).

use edgechat::error::Error;
use edgechat::identity;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let input = identity::parse_identify(&ctx.json_body()?)?;
    let kv = ctx.store()?;
    let signing_key = spin_http::variable("signing_key")?;
    let identified = identity::identify(kv, &SystemClock, signing_key.as_bytes(), &input)?;
    Ok(spin_http::json(200, &identified))
}
