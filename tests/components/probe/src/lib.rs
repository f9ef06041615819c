//! A purpose-built component for the host's end-to-end tests and benchmark.
//!
//! One wasm, mounted several times in `tests/apps/probe/spin.toml` with
//! different routes, stores, outbound hosts and variables. What it does is
//! chosen by `spin-path-info` (the path below its wildcard route):
//!
//! | path-info            | what                                                  |
//! |----------------------|-------------------------------------------------------|
//! | `/static`            | a fixed body, no host calls (the benchmark's target)  |
//! | `/kv/incr?key=`      | `wasi:keyvalue/atomics` increment, answers the value  |
//! | `/kv/cas-incr?key=`  | a counter bumped by compare-and-swap, retrying        |
//! | `/kv/roundtrip?store=` | open a store by label, set/get/delete a key         |
//! | `/kv/batch?key=`     | `wasi:keyvalue/batch`: set, get and delete two keys   |
//! | `/kv/counter?key=`   | reads a counter (an increment by 0)                   |
//! | `/wait?key=&seconds=` | counts itself in a counter, then sleeps (a waiting long-poll, as the pool sees it) |
//! | `/outbound?url=`     | an outbound GET; answers its status and body          |
//! | `/trap`              | panics (a guest trap)                                 |
//! | `/var?name=`         | a component variable                                  |
//! | anything else        | `{who, headers}`: which component answered, and the Spin headers it saw |

use spin_sdk::http::{Method, Request, Response, send};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::variables;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch as wasi_batch, store as wasi_store};

#[http_component]
async fn handle(req: Request) -> Response {
    let path_info = header(&req, "spin-path-info").unwrap_or_default();
    let result = match path_info.as_str() {
        "/static" => Ok(text(200, "hello from the edge\n")),
        "/kv/incr" => increment(&req),
        "/kv/cas-incr" => cas_increment(&req),
        "/kv/roundtrip" => roundtrip(&req),
        "/kv/batch" => batch(&req),
        "/kv/counter" => counter(&req),
        "/wait" => wait(&req),
        "/outbound" => outbound(&req).await,
        "/trap" => panic!("the probe was asked to trap"),
        "/var" => variable(&req),
        _ => Ok(whoami(&req)),
    };
    result.unwrap_or_else(|e| text(500, &e))
}

fn increment(req: &Request) -> Result<Response, String> {
    let bucket = wasi_store::open("default").map_err(|e| format!("{e:?}"))?;
    let value =
        atomics::increment(&bucket, &query(req, "key")?, 1).map_err(|e| format!("{e:?}"))?;
    Ok(text(200, &value.to_string()))
}

/// Read-modify-write guarded by compare-and-swap: proves `swap` refuses a
/// value that changed since `current`, even across host processes.
fn cas_increment(req: &Request) -> Result<Response, String> {
    let key = query(req, "key")?;
    let bucket = wasi_store::open("default").map_err(|e| format!("{e:?}"))?;
    // Bounded: on Spin's Redis backend every swap reports `cas-failed`.
    for attempt in 1..=200 {
        let cas = atomics::Cas::new(&bucket, &key).map_err(|e| format!("{e:?}"))?;
        let current = cas.current().map_err(|e| format!("{e:?}"))?;
        let n: u64 = match current {
            Some(bytes) => String::from_utf8_lossy(&bytes)
                .parse()
                .map_err(|_| "not a number")?,
            None => 0,
        };
        match atomics::swap(cas, (n + 1).to_string().as_bytes()) {
            Ok(()) => return Ok(text(200, &format!("{} {attempt}", n + 1))),
            Err(atomics::CasError::CasFailed(_)) => continue,
            Err(atomics::CasError::StoreError(e)) => return Err(format!("{e:?}")),
        }
    }
    Err("compare-and-swap never succeeded".into())
}

fn roundtrip(req: &Request) -> Result<Response, String> {
    let label = query(req, "store")?;
    // Both interfaces must agree on access: Spin's key-value and wasi:keyvalue.
    let wasi = wasi_store::open(&label)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"));
    let store = Store::open(&label).map_err(|e| format!("{e:?}"));
    match (store, wasi) {
        (Ok(store), Ok(())) => {
            store.set("probe", b"value").map_err(|e| format!("{e:?}"))?;
            let got = store.get("probe").map_err(|e| format!("{e:?}"))?;
            store.delete("probe").map_err(|e| format!("{e:?}"))?;
            let exists = store.exists("probe").map_err(|e| format!("{e:?}"))?;
            Ok(text(
                200,
                &format!("{:?} {exists}", got.map(String::from_utf8)),
            ))
        }
        (Err(spin), Err(wasi)) => Ok(text(403, &format!("spin:{spin} wasi:{wasi}"))),
        (spin, wasi) => Err(format!(
            "interfaces disagree: {:?} / {:?}",
            spin.err(),
            wasi.err()
        )),
    }
}

fn counter(req: &Request) -> Result<Response, String> {
    let bucket = wasi_store::open("default").map_err(|e| format!("{e:?}"))?;
    let value =
        atomics::increment(&bucket, &query(req, "key")?, 0).map_err(|e| format!("{e:?}"))?;
    Ok(text(200, &value.to_string()))
}

/// Bumps counter `key`, so that a caller can tell how many waiters hold an
/// instance, then sleeps `seconds` (a wasi:clocks wait: no wasm runs).
fn wait(req: &Request) -> Result<Response, String> {
    let seconds: u64 = query(req, "seconds")?
        .parse()
        .map_err(|_| "seconds must be a whole number")?;
    counter_bump(&query(req, "key")?)?;
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    Ok(text(200, &format!("waited {seconds} s\n")))
}

fn counter_bump(key: &str) -> Result<i64, String> {
    let bucket = wasi_store::open("default").map_err(|e| format!("{e:?}"))?;
    atomics::increment(&bucket, key, 1).map_err(|e| format!("{e:?}"))
}

/// One call of each batch function: `<key>-a` and `<key>-b` written, read
/// back and removed; answers the values read.
fn batch(req: &Request) -> Result<Response, String> {
    let key = query(req, "key")?;
    let keys = vec![format!("{key}-a"), format!("{key}-b")];
    let bucket = wasi_store::open("default").map_err(|e| format!("{e:?}"))?;
    let entries: Vec<_> = keys
        .iter()
        .map(|k| (k.clone(), k.as_bytes().to_vec()))
        .collect();
    wasi_batch::set_many(&bucket, &entries).map_err(|e| format!("{e:?}"))?;
    let read = wasi_batch::get_many(&bucket, &keys).map_err(|e| format!("{e:?}"))?;
    wasi_batch::delete_many(&bucket, &keys).map_err(|e| format!("{e:?}"))?;
    let values: Vec<String> = read
        .into_iter()
        .map(|(_, v)| String::from_utf8_lossy(&v.unwrap_or_default()).into_owned())
        .collect();
    Ok(text(200, &values.join(" ")))
}

async fn outbound(req: &Request) -> Result<Response, String> {
    let url = query(req, "url")?;
    let outgoing = Request::builder().method(Method::Get).uri(url).build();
    match send::<_, Response>(outgoing).await {
        Ok(resp) => Ok(text(
            200,
            &format!("{} {}", resp.status(), String::from_utf8_lossy(resp.body())),
        )),
        Err(e) => Ok(text(502, &format!("outbound failed: {e}"))),
    }
}

fn variable(req: &Request) -> Result<Response, String> {
    let name = query(req, "name")?;
    match variables::get(&name) {
        Ok(value) => Ok(text(200, &value)),
        Err(e) => Ok(text(404, &format!("{e:?}"))),
    }
}

fn whoami(req: &Request) -> Response {
    let who = variables::get("who").unwrap_or_else(|_| "unknown".into());
    let mut headers = serde_json::Map::new();
    for (name, value) in req.headers() {
        if name.starts_with("spin-") {
            let value = value.as_str().unwrap_or_default().to_string();
            headers.insert(name.to_string(), value.into());
        }
    }
    let body = serde_json::json!({ "who": who, "path": req.path(), "headers": headers });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.header(name)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

fn query(req: &Request, name: &str) -> Result<String, String> {
    req.query()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace("%3A", ":").replace("%2F", "/"))
        .ok_or_else(|| format!("missing query parameter {name}"))
}

fn text(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .build()
}
