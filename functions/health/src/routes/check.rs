//! `GET /healthz[?deep=true]` → `{status, version, kv}`: proves the component
//! runs and its store answers (503 problem when it does not); a `deep` that
//! is not `true`, `1`, `false` or `0` is a 400 naming it.

use edgechat::error::Error;
use edgechat::keys;
use edgechat::problem::Problem;
use edgechat::spin_http::{self, Ctx};
use edgechat::spin_store::SpinStore;
use edgechat::store::{KeyValue, StoreResult};
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let deep = deep(ctx.query("deep").as_deref())?;
    Ok(match probe(deep) {
        Ok(kv) => spin_http::json(
            200,
            &serde_json::json!({
                "status": "ok",
                "version": edgechat::VERSION,
                "kv": kv,
            }),
        ),
        Err(e) => {
            // The cause is for the operator's log; the body stays generic.
            eprintln!("healthz: {e}");
            spin_http::problem(&Problem::unavailable("the key-value store did not answer"))
        }
    })
}

/// `?deep=`: a monitor that asks for a deep probe and misspells it must
/// hear so, not get a shallow "ok" it takes for a write check.
fn deep(param: Option<&str>) -> Result<bool, Error> {
    match param {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(Error::field("deep", "must be true, 1, false or 0")),
    }
}

/// A shallow probe reads one key; a deep one also writes, reads back and
/// deletes a value, proving the store accepts writes.
fn probe(deep: bool) -> StoreResult<&'static str> {
    let store = SpinStore::open_default()?;
    let key = keys::health_probe();
    store.get(key)?;
    if deep {
        let marker = format!("probe-{}", nanos());
        store.set(key, marker.as_bytes())?;
        let read_back = store.get(key)?;
        store.delete(key)?;
        if read_back.as_deref() != Some(marker.as_bytes()) {
            return Err(edgechat::store::StoreError(
                "read back a different value than written".into(),
            ));
        }
    }
    Ok("ok")
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
