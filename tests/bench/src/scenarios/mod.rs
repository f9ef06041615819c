//! The scenarios, in the order they run.
//!
//! A scenario is a name, the server it runs on, and how it is measured:
//! - [`Measure::Load`]: a setup function gets the running server, seeds what
//!   the scenario needs (accounts, agents, conversations), checks one answer,
//!   and returns the request builder the closed-loop load generator calls for
//!   every request; the report shows req/s, p50, p99 and the ratio to the floor.
//! - [`Measure::Probe`]: a function that takes its own measurement (latency
//!   samples that need two connections in a choreography, sizes) and returns
//!   [`Findings`]: lines to print and checks against the issues' targets.
//!
//! Adding one is a new entry in [`all`] and its function in the module of its
//! area: [`api`] (integration API), [`conversations`], [`widget`],
//! [`webhooks`], [`scale`] (open chats), [`runtime`] (the host itself).

mod api;
mod conversations;
mod on_spin;
mod runtime;
mod scale;
mod seed;
mod webhooks;
mod widget;

use crate::floor::STATIC_BODY;
use crate::load::{self, Call, MakeRequest};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode, header};
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

pub use conversations::comparisons;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Seeds the server for a load scenario and returns its request builder.
pub type Setup = fn(Target) -> BoxFuture<Result<MakeRequest>>;

/// Takes a measurement of its own on the running server.
pub type Probe = fn(Target) -> BoxFuture<Result<Findings>>;

pub struct Scenario {
    pub name: &'static str,
    /// One line for the report: what is measured.
    pub about: &'static str,
    pub server: Server,
    pub measure: Measure,
    /// The target this scenario's throughput must reach, if any.
    pub goal: Option<Goal>,
    /// Printed with the verdict: a reference figure to read the result against.
    pub note: Option<&'static str>,
}

pub enum Measure {
    Load(Setup),
    Probe(Probe),
}

/// A throughput target for a load scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// At least this share of the floor's requests/s.
    RatioToFloor(f64),
    /// At least this many successful requests/s.
    RequestsPerSec(f64),
    /// A p99 latency under this, at this many connections.
    P99Below {
        latency: std::time::Duration,
        connections: usize,
    },
}

/// What a probe found: lines for the report, and targets met or missed.
#[derive(Debug, Default)]
pub struct Findings {
    pub lines: Vec<String>,
    pub checks: Vec<Check>,
}

/// One target of an issue, with the figure it was checked against.
#[derive(Debug)]
pub struct Check {
    /// The figure and the target, e.g. `p50 12.3 ms (target <= 20 ms)`.
    pub what: String,
    pub met: bool,
}

/// Two load scenarios whose latencies must stay close: the same request on a
/// small and on a large data set. Both p50 and p99 of `large` must be at most
/// `max_ratio` times those of `small`.
#[derive(Debug)]
pub struct Comparison {
    pub what: String,
    pub large: &'static str,
    pub small: &'static str,
    pub max_ratio: f64,
}

impl Scenario {
    fn new(name: &'static str, about: &'static str, server: Server, measure: Measure) -> Self {
        Scenario {
            name,
            about,
            server,
            measure,
            goal: None,
            note: None,
        }
    }

    fn load(name: &'static str, about: &'static str, server: Server, setup: Setup) -> Self {
        Scenario::new(name, about, server, Measure::Load(setup))
    }

    fn probe(name: &'static str, about: &'static str, server: Server, probe: Probe) -> Self {
        Scenario::new(name, about, server, Measure::Probe(probe))
    }

    fn goal(self, goal: Goal) -> Self {
        Scenario {
            goal: Some(goal),
            ..self
        }
    }

    fn note(self, note: &'static str) -> Self {
        Scenario {
            note: Some(note),
            ..self
        }
    }
}

/// A server the bench starts for a group of scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// The native hyper server every ratio is taken to.
    Floor,
    /// The release host serving an app.
    Host(HostApp),
    /// The same, with the `default` key-value store on a Redis of its own.
    HostOnRedis(HostApp),
    /// Real Spin (`--spin`) serving the app, side by side with the host.
    Spin(HostApp),
    /// The same, with the `default` key-value store on a Redis of its own.
    SpinOnRedis(HostApp),
}

/// An app the host serves: its manifest (relative to the workspace) and the
/// `SPIN_VARIABLE_*` values its required variables need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostApp {
    pub manifest: &'static str,
    pub variables: &'static [(&'static str, &'static str)],
    /// Flags of `edgechat-host up` beyond the bench's own.
    pub args: &'static [&'static str],
}

/// The main app's admin token (creates accounts).
pub const ADMIN_TOKEN: &str = "bench-admin-token";

pub const MAIN_APP: HostApp = HostApp {
    manifest: "spin.toml",
    variables: &[
        ("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN),
        ("SPIN_VARIABLE_SIGNING_KEY", "bench-signing-key"),
        // The host counts each request's key-value calls in a header.
        ("EDGECHAT_HOST_KV_COUNT", "1"),
    ],
    args: &[],
};

/// The main app delivering webhooks by itself (`--tick`), to the bench's
/// loopback receiver.
pub const WEBHOOK_APP: HostApp = HostApp {
    manifest: "spin.toml",
    variables: &[
        ("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN),
        ("SPIN_VARIABLE_SIGNING_KEY", "bench-signing-key"),
        ("SPIN_VARIABLE_WEBHOOK_ALLOW_INSECURE_URLS", "true"),
    ],
    args: &["--tick", "/api/v1/webhook-dispatch?wait=20"],
};

pub const PROBE_APP: HostApp = HostApp {
    manifest: "tests/apps/probe/spin.toml",
    variables: &[("SPIN_VARIABLE_SECRET_WORD", "bench")],
    args: &[],
};

impl Server {
    pub fn describe(&self) -> String {
        match self {
            Server::Floor => "the floor (native hyper)".into(),
            Server::Host(app) => format!("the release host on {}", app.manifest),
            Server::HostOnRedis(app) => {
                format!("the release host on {}, key-value on Redis", app.manifest)
            }
            Server::Spin(app) => format!("spin up on {}", app.manifest),
            Server::SpinOnRedis(app) => {
                format!("spin up on {}, key-value on Redis", app.manifest)
            }
        }
    }

    /// Whether this server is real Spin, which runs only with `--spin`.
    pub fn is_spin(&self) -> bool {
        matches!(self, Server::Spin(_) | Server::SpinOnRedis(_))
    }
}

/// The name of the scenario every ratio is taken to.
pub const FLOOR: &str = "floor";

pub fn all() -> Vec<Scenario> {
    let main = Server::Host(MAIN_APP);
    let mut scenarios = vec![
        Scenario::load(
            FLOOR,
            "native hyper server, same static body",
            Server::Floor,
            static_body,
        ),
        Scenario::load(
            "healthz",
            "GET /healthz: health component, one SQLite key-value read",
            main,
            healthz,
        )
        .goal(Goal::P99Below {
            latency: std::time::Duration::from_millis(20),
            connections: 32,
        }),
        Scenario::load(
            "static",
            "GET /probe/static: probe component, no host calls",
            Server::Host(PROBE_APP),
            static_body,
        )
        .goal(Goal::RatioToFloor(0.3)),
    ];
    scenarios.extend(api::scenarios(main));
    scenarios.extend(conversations::scenarios(main));
    scenarios.extend(widget::scenarios(main));
    scenarios.extend(runtime::scenarios(
        main,
        Server::HostOnRedis(MAIN_APP),
        Server::Host(PROBE_APP),
    ));
    scenarios.extend(scale::scenarios());
    scenarios.extend(webhooks::scenarios(Server::Host(WEBHOOK_APP)));
    scenarios.extend(on_spin::scenarios());
    scenarios
}

/// The scenarios `--only` names, plus the floor; all of them without `--only`.
/// Those on real Spin need a Spin binary (`with_spin`).
pub fn select(only: &[String], with_spin: bool) -> Result<Vec<Scenario>> {
    let scenarios = all();
    if let Some(unknown) = only
        .iter()
        .find(|n| !scenarios.iter().any(|s| s.name == n.as_str()))
    {
        let names: Vec<_> = scenarios.iter().map(|s| s.name).collect();
        bail!("no scenario '{unknown}'; there are: {}", names.join(", "));
    }
    if !with_spin
        && let Some(spin) = only.iter().find(|n| {
            scenarios
                .iter()
                .any(|s| s.name == n.as_str() && s.server.is_spin())
        })
    {
        bail!("scenario '{spin}' runs on real Spin: give --spin <path to spin>");
    }
    Ok(scenarios
        .into_iter()
        .filter(|s| with_spin || !s.server.is_spin())
        .filter(|s| only.is_empty() || s.name == FLOOR || only.iter().any(|n| n == s.name))
        .collect())
}

/// Scenarios that share a server, in first-appearance order.
pub struct Group<'a> {
    pub server: Server,
    pub scenarios: Vec<&'a Scenario>,
}

pub fn group_by_server(scenarios: &[Scenario]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for scenario in scenarios {
        match groups.iter_mut().find(|g| g.server == scenario.server) {
            Some(group) => group.scenarios.push(scenario),
            None => groups.push(Group {
                server: scenario.server,
                scenarios: vec![scenario],
            }),
        }
    }
    groups
}

/// How the bench was asked to run: what setups and probes size themselves by.
#[derive(Clone, Debug)]
pub struct Options {
    /// The load's connections: setups seed one conversation per connection.
    pub concurrency: usize,
    /// Connections used to seed data (conversations, customers).
    pub seed_concurrency: usize,
    /// Conversations in the large account of the conversation-poll comparison.
    pub big_conversations: usize,
    /// Replies timed by the long-poll wake-up probe.
    pub longpoll_samples: usize,
    /// How many chats wait at each step of the open-chats probe.
    pub open_chats_steps: Vec<usize>,
}

/// The running server a scenario's setup talks to, the run's options, and
/// what earlier scenarios on the same server seeded.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The server's process, for its CPU time and memory.
    pub pid: Option<u32>,
    pub options: Arc<Options>,
    fixtures: Arc<Fixtures>,
}

/// Data seeded once per server and shared by the scenarios that need it.
#[derive(Default)]
struct Fixtures {
    feeds: tokio::sync::OnceCell<conversations::Feeds>,
}

impl Target {
    pub fn new(addr: SocketAddr, pid: Option<u32>, options: Arc<Options>) -> Self {
        Target {
            addr,
            pid,
            options,
            fixtures: Arc::default(),
        }
    }

    /// One request on its own connection; fails unless the answer is 2xx.
    pub async fn call(&self, req: Request<Full<Bytes>>) -> Result<Bytes> {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, body) = load::fetch(self.addr, req)
            .await
            .with_context(|| format!("{what} failed"))?;
        if !status.is_success() {
            bail!(
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(body)
    }

    /// One request on its own connection; fails unless the answer has
    /// `status`, and returns the answer's JSON.
    pub async fn expect_json(
        &self,
        req: Request<Full<Bytes>>,
        status: StatusCode,
    ) -> Result<Value> {
        let what = format!("{} {}", req.method(), req.uri());
        let (got, body) = load::fetch(self.addr, req)
            .await
            .with_context(|| format!("{what} failed"))?;
        if got != status {
            bail!(
                "{what} answered {got} (expected {status}): {}",
                String::from_utf8_lossy(&body)
            );
        }
        serde_json::from_slice(&body).with_context(|| {
            format!(
                "{what} answered something else than JSON: {}",
                String::from_utf8_lossy(&body)
            )
        })
    }

    /// [`Target::call`], answered with JSON.
    pub async fn call_json(&self, req: Request<Full<Bytes>>) -> Result<Value> {
        let what = format!("{} {}", req.method(), req.uri());
        let body = self.call(req).await?;
        serde_json::from_slice(&body).with_context(|| {
            format!(
                "{what} answered something else than JSON: {}",
                String::from_utf8_lossy(&body)
            )
        })
    }

    /// A new account through the admin API.
    pub async fn account(&self, name: &str) -> Result<Account> {
        let created = self
            .call_json(json_request(
                Method::POST,
                "/api/v1/accounts",
                Some(ADMIN_TOKEN),
                &serde_json::json!({ "name": name }),
            ))
            .await?;
        Ok(Account {
            token: string_field(&created, "api_token")?,
            site_key: string_field(&created, "site_key")?,
        })
    }

    /// `count` visitor ids minted for the site, as widgets get them.
    pub async fn visitors(&self, site_key: &str, count: usize) -> Result<Vec<String>> {
        let mut visitors = Vec::with_capacity(count);
        for _ in 0..count {
            let minted = self
                .call_json(json_request(
                    Method::POST,
                    "/v1/widget/visitors",
                    None,
                    &serde_json::json!({ "site": site_key }),
                ))
                .await?;
            visitors.push(string_field(&minted, "visitor")?);
        }
        Ok(visitors)
    }
}

/// An account of the main app: its API token and its widget site key.
#[derive(Clone, Debug)]
pub struct Account {
    pub token: String,
    pub site_key: String,
}

/// A body-less request to `path`.
pub fn request(method: Method, path: &str) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = method;
    // Paths are literals or ids the server handed out (URL-safe): a bad one
    // is a bug in the bench or the server.
    *req.uri_mut() = path
        .parse()
        .unwrap_or_else(|e| panic!("{path:?} is not a valid URI: {e}"));
    req
}

/// A request with an optional bearer token.
pub fn authorized(method: Method, path: &str, bearer: Option<&str>) -> Request<Full<Bytes>> {
    let mut req = request(method, path);
    if let Some(token) = bearer {
        let value = header::HeaderValue::from_str(&format!("Bearer {token}"))
            .expect("tokens are header-safe");
        req.headers_mut().insert(header::AUTHORIZATION, value);
    }
    req
}

/// A JSON request with an optional bearer token.
pub fn json_request(
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Request<Full<Bytes>> {
    let mut req = authorized(method, path, bearer);
    *req.body_mut() = Full::new(Bytes::from(body.to_string()));
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    req
}

/// A string field of a JSON answer.
pub fn string_field(value: &Value, name: &str) -> Result<String> {
    value[name]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("expected a string `{name}` in {value}"))
}

/// A page's `items`.
pub fn items(page: &Value) -> Result<&Vec<Value>> {
    page["items"]
        .as_array()
        .with_context(|| format!("expected `items` in {page}"))
}

/// Percent-encodes a query value (cursors are base64url, but the bench
/// should not rely on it).
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The first call of a connection, for setups that check one answer.
pub const FIRST: Call = Call {
    connection: 0,
    n: 0,
};

/// The same GET for every call.
fn get(path: &'static str) -> MakeRequest {
    Arc::new(move |_: Call| request(Method::GET, path))
}

fn static_body(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let make = get("/probe/static");
        let body = target.call(make(FIRST)).await?;
        if body != STATIC_BODY.as_bytes() {
            bail!(
                "expected {STATIC_BODY:?}, got {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(make)
    })
}

fn healthz(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let make = get("/healthz");
        let body = target.call(make(FIRST)).await?;
        if !body.starts_with(b"{") {
            bail!(
                "expected a JSON object, got {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(make)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keeps_the_floor_for_the_ratios() {
        let names: Vec<_> = select(&["static".into()], false)
            .unwrap()
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, [FLOOR, "static"]);
    }

    #[test]
    fn an_unknown_scenario_is_an_error_that_lists_the_known_ones() {
        let error = select(&["nope".into()], false).err().unwrap().to_string();
        assert!(error.contains("healthz"), "unexpected error: {error}");
    }

    #[test]
    fn scenarios_on_real_spin_run_only_with_a_spin_binary() {
        let without = select(&[], false).unwrap();
        assert!(without.iter().all(|s| !s.server.is_spin()));
        let with = select(&[], true).unwrap();
        assert!(with.iter().any(|s| s.name == "visitor-message-spin"));
        assert_eq!(with.len(), without.len() + on_spin::scenarios().len());
        let error = select(&["agent-reply-spin".into()], false)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("--spin"), "unexpected error: {error}");
    }

    #[test]
    fn scenarios_on_the_same_server_run_together() {
        let scenarios = all();
        let groups = group_by_server(&scenarios);
        assert_eq!(groups.len(), 10);
        assert_eq!(groups[0].server, Server::Floor);
    }

    #[test]
    fn scenario_names_are_unique() {
        let scenarios = all();
        for (i, s) in scenarios.iter().enumerate() {
            assert!(
                scenarios[i + 1..].iter().all(|t| t.name != s.name),
                "duplicate scenario name {}",
                s.name
            );
        }
    }

    #[test]
    fn comparisons_pair_load_scenarios_that_exist() {
        let scenarios = all();
        for comparison in comparisons(100_000) {
            for name in [comparison.large, comparison.small] {
                assert!(
                    scenarios
                        .iter()
                        .any(|s| s.name == name && matches!(s.measure, Measure::Load(_))),
                    "{} compares {name}, which is no load scenario",
                    comparison.what
                );
            }
        }
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_value("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(query_value("a b+c=/"), "a%20b%2Bc%3D%2F");
    }
}
