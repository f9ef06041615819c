//! Webhook delivery: fan-out to 50 slow receivers, event → delivery
//! latency at a steady rate, the sustained rate at which p99 stays under
//! 1 s, and what delivery costs a message post.
//!
//! The receiver is the suites' own (`tests/tests/webhooks/receiver`): a
//! Python process that verifies every delivery with the official
//! `standardwebhooks` package and records when it arrived; only verified
//! deliveries count. Times are wall-clock on this one machine: an event's
//! time is taken just before the request that writes it is sent.

use super::{
    Account, BoxFuture, Check, Findings, Scenario, Server, Target, json_request, string_field,
};
use anyhow::{Context, Result, bail};
use hyper::Method;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Fan-out: endpoints, and how long each receiver takes to answer.
const FANOUT_ENDPOINTS: usize = 50;
const FANOUT_DELAY_MS: u64 = 200;
const FANOUT_ROUNDS: usize = 5;
/// Target: the 50th delivery answered within this of the event.
const FANOUT_TARGET: Duration = Duration::from_millis(400);
/// The steady rate of the latency probe, and for how long.
const STEADY_RATE: u64 = 100;
const STEADY_SECONDS: u64 = 10;
/// Rates tried for the sustained figure (events/s to one endpoint).
const SUSTAINED_RATES: &[u64] = &[100, 200, 400];
const SUSTAINED_SECONDS: u64 = 5;

pub fn scenarios(app: Server) -> Vec<Scenario> {
    vec![
        Scenario::probe(
            "webhook-fanout",
            "one event -> 50 endpoints whose receivers answer after 200 ms",
            app,
            fanout,
        ),
        Scenario::probe(
            "webhook-latency",
            "event -> verified delivery at 100 events/s to one endpoint; sustained rate with p99 < 1 s",
            app,
            latency,
        ),
        Scenario::probe(
            "webhook-post-cost",
            "agent replies/s with 0 and with 3 endpoints subscribed (same run)",
            app,
            post_cost,
        ),
    ]
}

/// The receiver process.
struct Receiver {
    child: Child,
    addr: SocketAddr,
    _state: tempfile::TempDir,
}

impl Receiver {
    async fn start() -> Result<Receiver> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let script = root.join("tests/tests/webhooks/receiver/receiver.py");
        let home = std::env::var_os("HOME").context("HOME")?;
        let python = PathBuf::from(home).join(".cache/edgechat/webhook-receiver/bin/python");
        if !python.exists() {
            bail!(
                "{} is missing: run tests/run.sh (it installs standardwebhooks)",
                python.display()
            );
        }
        let state = tempfile::tempdir()?;
        let mut child = Command::new(python)
            .arg(script)
            .args(["--port", "0", "--state"])
            .arg(state.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the webhook receiver")?;
        let stdout = child.stdout.take().context("stdout")?;
        let line = BufReader::new(stdout)
            .lines()
            .next_line()
            .await?
            .unwrap_or_default();
        let port: u16 = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("the receiver said {line:?}"))?;
        Ok(Receiver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _state: state,
        })
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/hook/{name}", self.addr)
    }

    async fn configure(&self, name: &str, secret: &str, delay_ms: u64) -> Result<()> {
        let body = json!({"name": name, "secrets": [secret], "status": 200, "delay_ms": delay_ms});
        let (status, _) = crate::load::fetch(
            self.addr,
            json_request(Method::POST, "/_control/config", None, &body),
        )
        .await?;
        if !status.is_success() {
            bail!("configuring the receiver answered {status}");
        }
        Ok(())
    }

    /// Verified arrivals for `name`: `(webhook-id, arrival as Unix seconds)`.
    async fn arrivals(&self, name: &str) -> Result<Vec<(String, f64)>> {
        let path = format!("/_control/received?name={name}");
        let (_, body) = crate::load::fetch(self.addr, super::request(Method::GET, &path)).await?;
        let page: Value = serde_json::from_slice(&body)?;
        Ok(page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["verified_with"].as_array().is_some_and(|v| !v.is_empty()))
            .map(|i| {
                (
                    i["webhook_id"].as_str().unwrap_or_default().to_string(),
                    i["arrived"].as_f64().unwrap_or(0.0),
                )
            })
            .collect())
    }

    /// Waits until `name` has `count` distinct verified deliveries.
    async fn wait_for(
        &self,
        name: &str,
        count: usize,
        limit: Duration,
    ) -> Result<Vec<(String, f64)>> {
        let deadline = Instant::now() + limit;
        loop {
            let mut items = self.arrivals(name).await?;
            items.sort_by(|a, b| a.1.total_cmp(&b.1));
            let mut seen = std::collections::HashSet::new();
            items.retain(|(id, _)| seen.insert(id.clone()));
            if items.len() >= count {
                return Ok(items);
            }
            if Instant::now() > deadline {
                bail!(
                    "{name}: {} of {count} deliveries within {limit:?}",
                    items.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn endpoint(
    target: &Target,
    account: &Account,
    receiver: &Receiver,
    name: &str,
    delay_ms: u64,
) -> Result<()> {
    let created = target
        .call_json(json_request(
            Method::POST,
            "/api/v1/webhooks",
            Some(&account.token),
            &json!({"url": receiver.url(name)}),
        ))
        .await?;
    receiver
        .configure(name, &string_field(&created, "secret")?, delay_ms)
        .await
}

/// One `customer.updated` event; returns when its request was sent.
async fn event(target: &Target, account: &Account, n: usize) -> Result<f64> {
    let sent = unix_now();
    let body = json!({"email": format!("c{n}@example.com"), "id": n, "labels": []});
    target
        .call(json_request(
            Method::PUT,
            &format!("/api/v1/customers/c{n}"),
            Some(&account.token),
            &body,
        ))
        .await?;
    Ok(sent)
}

fn secs(d: f64) -> String {
    format!("{:.1} ms", d * 1_000.0)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn fanout(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let receiver = Receiver::start().await?;
        let account = target.account("bench fan-out").await?;
        for i in 0..FANOUT_ENDPOINTS {
            endpoint(
                &target,
                &account,
                &receiver,
                &format!("f{i}"),
                FANOUT_DELAY_MS,
            )
            .await?;
        }
        // A first event, until all 50 have it: the dispatcher knows them all.
        event(&target, &account, 0).await?;
        for i in 0..FANOUT_ENDPOINTS {
            receiver
                .wait_for(&format!("f{i}"), 1, Duration::from_secs(60))
                .await?;
        }
        let mut lasts = Vec::new();
        for round in 1..=FANOUT_ROUNDS {
            let sent = event(&target, &account, round).await?;
            let mut last: f64 = 0.0;
            for i in 0..FANOUT_ENDPOINTS {
                let items = receiver
                    .wait_for(&format!("f{i}"), round + 1, Duration::from_secs(60))
                    .await?;
                last = last.max(items[round].1);
            }
            // Answered: arrival plus the receiver's 200 ms.
            lasts.push(last - sent + FANOUT_DELAY_MS as f64 / 1_000.0);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        lasts.sort_by(f64::total_cmp);
        let median = quantile(&lasts, 0.5);
        let mut findings = Findings::default();
        findings.lines.push(format!(
            "event -> 50th verified delivery answered (arrival + {FANOUT_DELAY_MS} ms): median {}, worst {} over {FANOUT_ROUNDS} events",
            secs(median),
            secs(quantile(&lasts, 1.0)),
        ));
        findings.checks.push(Check {
            what: format!(
                "fan-out to 50: median {} (target <= {} ms)",
                secs(median),
                FANOUT_TARGET.as_millis()
            ),
            met: median <= FANOUT_TARGET.as_secs_f64(),
        });
        Ok(findings)
    })
}

/// Sends `rate` events/s for `seconds` to the account; returns each
/// event's delivery latency, sorted.
async fn steady(
    target: &Target,
    account: &Account,
    receiver: &Receiver,
    name: &str,
    first: usize,
    rate: u64,
    seconds: u64,
) -> Result<Vec<f64>> {
    let count = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for k in 0..count {
        tokio::time::sleep_until(start + interval * k as u32).await;
        let (target, account) = (target.clone(), account.clone());
        tasks.push(tokio::spawn(async move {
            event(&target, &account, first + k).await
        }));
    }
    let mut sent = Vec::with_capacity(count);
    for task in tasks {
        sent.push(task.await??);
    }
    let items = receiver
        .wait_for(name, first + count, Duration::from_secs(120))
        .await?;
    // Deliveries arrive in event order per endpoint: the k-th new one is event k.
    let mut latencies: Vec<f64> = items[first..first + count]
        .iter()
        .zip(&sent)
        .map(|((_, at), sent)| at - sent)
        .collect();
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

fn latency(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let receiver = Receiver::start().await?;
        let account = target.account("bench webhook latency").await?;
        endpoint(&target, &account, &receiver, "one", 0).await?;
        event(&target, &account, 0).await?;
        receiver.wait_for("one", 1, Duration::from_secs(60)).await?;
        let mut findings = Findings::default();
        let mut next = 1;
        let steady100 = steady(
            &target,
            &account,
            &receiver,
            "one",
            next,
            STEADY_RATE,
            STEADY_SECONDS,
        )
        .await?;
        next += steady100.len();
        let (p50, p99) = (quantile(&steady100, 0.5), quantile(&steady100, 0.99));
        findings.lines.push(format!(
            "{STEADY_RATE} events/s for {STEADY_SECONDS} s: event -> verified delivery p50 {}, p99 {}, max {}",
            secs(p50), secs(p99), secs(quantile(&steady100, 1.0))
        ));
        findings.checks.push(Check {
            what: format!(
                "first delivery p50 {} at {STEADY_RATE}/s (target <= 1000 ms)",
                secs(p50)
            ),
            met: p50 <= 1.0,
        });
        let mut sustained = None;
        for &rate in SUSTAINED_RATES {
            let l = steady(
                &target,
                &account,
                &receiver,
                "one",
                next,
                rate,
                SUSTAINED_SECONDS,
            )
            .await?;
            next += l.len();
            let p99 = quantile(&l, 0.99);
            findings.lines.push(format!(
                "{rate} events/s for {SUSTAINED_SECONDS} s: p50 {}, p99 {}",
                secs(quantile(&l, 0.5)),
                secs(p99)
            ));
            if p99 < 1.0 {
                sustained = Some(rate);
            } else {
                break;
            }
        }
        findings.lines.push(match sustained {
            Some(rate) => format!("sustained with p99 < 1 s: at least {rate} deliveries/s (highest rate tried that held)"),
            None => "sustained with p99 < 1 s: below the lowest rate tried".into(),
        });
        findings.checks.push(Check {
            what: format!(
                "p99 < 1 s sustained at >= {STEADY_RATE} deliveries/s (reached: {})",
                sustained.map_or("none".into(), |r| format!("{r}/s"))
            ),
            met: sustained.is_some(),
        });
        Ok(findings)
    })
}

/// Agent replies/s over `seconds`, `connections` at a time.
async fn replies_per_sec(
    target: &Target,
    account: &Account,
    conversations: &[String],
    seconds: u64,
) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for conversation in conversations {
        let (target, token, path) = (
            target.clone(),
            account.token.clone(),
            format!("/api/v1/conversations/{conversation}/messages"),
        );
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let body = json!({"agent_id": "alice", "text": "bench"});
                target
                    .call(json_request(Method::POST, &path, Some(&token), &body))
                    .await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / seconds as f64)
}

fn post_cost(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let receiver = Receiver::start().await?;
        let account = target.account("bench webhook cost").await?;
        target
            .call(json_request(
                Method::PUT,
                "/api/v1/agents/alice",
                Some(&account.token),
                &json!({"name": "Alice", "online": true, "available": true}),
            ))
            .await?;
        let mut conversations = Vec::new();
        for visitor in target.visitors(&account.site_key, 4).await? {
            let started = target
                .call_json(json_request(
                    Method::POST,
                    "/v1/widget/conversations",
                    None,
                    &json!({"site": account.site_key, "visitor": visitor, "text": "hi"}),
                ))
                .await?;
            conversations.push(string_field(&started, "conversation_id")?);
        }
        let seconds = 5;
        let without = replies_per_sec(&target, &account, &conversations, seconds).await?;
        for i in 0..3 {
            endpoint(&target, &account, &receiver, &format!("c{i}"), 0).await?;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let with = replies_per_sec(&target, &account, &conversations, seconds).await?;
        let mut findings = Findings::default();
        findings.lines.push(format!(
            "agent replies/s: {without:.0} with no endpoint, {with:.0} with 3 endpoints receiving every event ({:.0} % of it; 4 connections, {seconds} s each)",
            100.0 * with / without.max(1.0)
        ));
        Ok(findings)
    })
}
