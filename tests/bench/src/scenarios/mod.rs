//! The scenarios, in the order they run.
//!
//! A scenario is a name, the server it runs on, and a setup function. Setup
//! gets the running server, seeds whatever the scenario needs (accounts,
//! agents, conversations), checks one answer, and returns the request builder
//! the load generator calls for every request. Adding one is a new entry in
//! [`all`] and its setup function here.

use crate::floor::STATIC_BODY;
use crate::load::{self, Call, MakeRequest};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Seeds the server for a scenario and returns its request builder.
pub type Setup = fn(Target) -> BoxFuture<Result<MakeRequest>>;

pub struct Scenario {
    pub name: &'static str,
    /// One line for the report: what is measured.
    pub about: &'static str,
    pub server: Server,
    /// The share of the floor's requests/s this scenario must reach, if any.
    pub min_ratio_to_floor: Option<f64>,
    pub setup: Setup,
}

/// A server the bench starts for a group of scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// The native hyper server every ratio is taken to.
    Floor,
    /// The release host serving an app.
    Host(HostApp),
}

/// An app the host serves: its manifest (relative to the workspace) and the
/// `SPIN_VARIABLE_*` values its required variables need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostApp {
    pub manifest: &'static str,
    pub variables: &'static [(&'static str, &'static str)],
}

pub const MAIN_APP: HostApp = HostApp {
    manifest: "spin.toml",
    variables: &[
        ("SPIN_VARIABLE_ADMIN_TOKEN", "bench-admin-token"),
        ("SPIN_VARIABLE_SIGNING_KEY", "bench-signing-key"),
    ],
};

pub const PROBE_APP: HostApp = HostApp {
    manifest: "tests/apps/probe/spin.toml",
    variables: &[("SPIN_VARIABLE_SECRET_WORD", "bench")],
};

impl Server {
    pub fn describe(&self) -> String {
        match self {
            Server::Floor => "the floor (native hyper)".into(),
            Server::Host(app) => format!("the release host on {}", app.manifest),
        }
    }
}

/// The name of the scenario every ratio is taken to.
pub const FLOOR: &str = "floor";

pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: FLOOR,
            about: "native hyper server, same static body",
            server: Server::Floor,
            min_ratio_to_floor: None,
            setup: static_body,
        },
        Scenario {
            name: "healthz",
            about: "GET /healthz: health component, one SQLite key-value read",
            server: Server::Host(MAIN_APP),
            min_ratio_to_floor: None,
            setup: healthz,
        },
        Scenario {
            name: "static",
            about: "GET /probe/static: probe component, no host calls",
            server: Server::Host(PROBE_APP),
            min_ratio_to_floor: Some(0.3),
            setup: static_body,
        },
    ]
}

/// The scenarios `--only` names, plus the floor; all of them without `--only`.
pub fn select(only: &[String]) -> Result<Vec<Scenario>> {
    let scenarios = all();
    if let Some(unknown) = only
        .iter()
        .find(|n| !scenarios.iter().any(|s| s.name == n.as_str()))
    {
        let names: Vec<_> = scenarios.iter().map(|s| s.name).collect();
        bail!("no scenario '{unknown}'; there are: {}", names.join(", "));
    }
    Ok(scenarios
        .into_iter()
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

/// The running server a scenario's setup talks to.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
}

impl Target {
    pub fn new(addr: SocketAddr) -> Self {
        Target { addr }
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
}

/// A body-less request to `path`.
pub fn request(method: Method, path: &str) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = method;
    // Paths here are literals of this file: a bad one is a bug in the bench.
    *req.uri_mut() = path.parse().expect("scenario paths are valid URIs");
    req
}

/// The same GET for every call.
fn get(path: &'static str) -> MakeRequest {
    Arc::new(move |_: Call| request(Method::GET, path))
}

fn static_body(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let make = get("/probe/static");
        let body = target
            .call(make(Call {
                connection: 0,
                n: 0,
            }))
            .await?;
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
        let body = target
            .call(make(Call {
                connection: 0,
                n: 0,
            }))
            .await?;
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
        let names: Vec<_> = select(&["static".into()])
            .unwrap()
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, [FLOOR, "static"]);
    }

    #[test]
    fn an_unknown_scenario_is_an_error_that_lists_the_known_ones() {
        let error = select(&["nope".into()]).err().unwrap().to_string();
        assert!(error.contains("healthz"), "unexpected error: {error}");
    }

    #[test]
    fn scenarios_on_the_same_server_run_together() {
        let scenarios = all();
        let groups = group_by_server(&scenarios);
        assert_eq!(groups.len(), 3);
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
}
