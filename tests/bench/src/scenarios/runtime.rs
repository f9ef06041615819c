//! Issue 11, the runtime's share:
//! - a hung-up client frees its instance within one probe interval: fill a
//!   small pool with sleeping requests, hang them all up, and time until a
//!   new request is served and until the whole pool is free again;
//! - the pool, sized from the machine, holds 6,000 waiting requests (the
//!   app holds up to ~5,000 long-polls per host), and what each costs in
//!   resident memory and memory mappings;
//! - the key-value round trips of each write route, counted by the host
//!   (`EDGECHAT_HOST_KV_COUNT=1`, the `edgechat-kv-round-trips` header), on
//!   SQLite and on Redis, next to the message-post throughput on both
//!   (`visitor-message`, `agent-reply` and their `-redis` twins).

use super::conversations::{
    agent_reply, create_agent, reply_request, start_chat, start_request, visitor_message,
};
use super::{BoxFuture, Check, Findings, HostApp, Scenario, Server, Target, json_request, request};
use crate::load;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

/// The instance pool of the hang-up probe's host.
const SMALL_POOL: usize = 8;

/// The probe app on a pool of [`SMALL_POOL`] instances.
pub const PROBE_APP_SMALL_POOL: HostApp = HostApp {
    manifest: "tests/apps/probe/spin.toml",
    args: &[],
    variables: &[
        ("SPIN_VARIABLE_SECRET_WORD", "bench"),
        ("SPIN_WASMTIME_INSTANCE_COUNT", "8"),
    ],
};

/// How soon a hung-up client's slot must serve again: one long-poll probe
/// interval of a quiet chat (issue 11, target 3; `QUIET_PROBE_MILLIS` in
/// `shared/src/chat/longpoll.rs`).
const MAX_FREE_AFTER_HANG_UP: Duration = Duration::from_millis(120);

/// Far longer than the probe: a slot that comes back was freed by the
/// hang-up, not by its guest finishing.
const SLEEPER: &[u8] = b"GET /spin-forever/sleep?seconds=600 HTTP/1.1\r\nhost: bench\r\n\r\n";

/// Every phase of the probes gives up after this.
const PHASE_DEADLINE: Duration = Duration::from_secs(60);

/// The header the host counts key-value calls in.
const ROUND_TRIPS_HEADER: &str = "edgechat-kv-round-trips";

pub fn scenarios(main: Server, main_on_redis: Server, probe_app: Server) -> Vec<Scenario> {
    vec![
        Scenario::probe(
            "waiting-instances",
            "6,000 requests waiting at once on the default pool: memory per waiting instance",
            probe_app,
            waiting_instances,
        ),
        Scenario::probe(
            "hang-up",
            "8 sleeping requests fill the pool, then hang up: time until a new request is served",
            Server::Host(PROBE_APP_SMALL_POOL),
            hang_up,
        ),
        Scenario::probe(
            "kv-round-trips",
            "key-value calls per write route, counted by the host (SQLite)",
            main,
            round_trips,
        ),
        Scenario::probe(
            "kv-round-trips-redis",
            "key-value calls per write route, counted by the host (Redis)",
            main_on_redis,
            round_trips,
        ),
        Scenario::load(
            "visitor-message-redis",
            "visitor-message with the key-value store on Redis",
            main_on_redis,
            visitor_message,
        ),
        Scenario::load(
            "agent-reply-redis",
            "agent-reply with the key-value store on Redis",
            main_on_redis,
            agent_reply,
        ),
    ]
}

fn hang_up(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let sleepers = fill_the_pool(&target).await?;
        let hung_up = Instant::now();
        drop(sleepers);
        let first = served_again(&target).await?;
        let all = all_slots_free(&target).await?;
        let mut findings = Findings::default();
        findings.lines.push(format!(
            "{SMALL_POOL} of {SMALL_POOL} instances held by requests sleeping 600 s; \
             all {SMALL_POOL} clients hung up"
        ));
        findings.lines.push(format!(
            "hang-up -> a new request served: {}; -> all {SMALL_POOL} slots serving again: {}",
            ms(first - hung_up),
            ms(all - hung_up)
        ));
        findings.checks.push(Check {
            what: format!(
                "hung-up clients' slots serve again after {} (target <= {})",
                ms(all - hung_up),
                ms(MAX_FREE_AFTER_HANG_UP)
            ),
            met: all - hung_up <= MAX_FREE_AFTER_HANG_UP,
        });
        Ok(findings)
    })
}

/// Sleepers on connections of their own until every instance is taken (a
/// request is refused); a sleeper refused itself is sent again.
async fn fill_the_pool(target: &Target) -> Result<Vec<TcpStream>> {
    let deadline = Instant::now() + PHASE_DEADLINE;
    let mut sleepers: Vec<TcpStream> = Vec::new();
    while Instant::now() < deadline {
        while sleepers.len() < SMALL_POOL {
            let mut stream = TcpStream::connect(target.addr).await?;
            stream.write_all(SLEEPER).await?;
            sleepers.push(stream);
        }
        let (status, _) = load::fetch(target.addr, request(Method::GET, "/probe/static")).await?;
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            return Ok(sleepers);
        }
        // Answered already (refused while the check held a slot): resend.
        sleepers.retain(|s| {
            let mut byte = [0u8; 1];
            matches!(s.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        });
        sleep(Duration::from_millis(20)).await;
    }
    bail!("the sleepers never held all {SMALL_POOL} instances within {PHASE_DEADLINE:?}")
}

async fn served_again(target: &Target) -> Result<Instant> {
    let deadline = Instant::now() + PHASE_DEADLINE;
    while Instant::now() < deadline {
        let (status, _) = load::fetch(target.addr, request(Method::GET, "/probe/static")).await?;
        if status.is_success() {
            return Ok(Instant::now());
        }
        sleep(Duration::from_millis(5)).await;
    }
    bail!("no request was served within {PHASE_DEADLINE:?} of the hang-up")
}

/// How long each request of [`all_slots_free`] holds its instance, so that
/// all [`SMALL_POOL`] of them hold one at the same time: also the probe's
/// resolution, since an attempt in which some were refused ends only when
/// the others have slept.
const HOLD: Duration = Duration::from_millis(20);

/// When [`SMALL_POOL`] requests at once, each holding its instance for
/// [`HOLD`], are all served: the latest moment they were all let in, which
/// is [`HOLD`] before the last answer (the guest slept that long after it
/// got its instance), not the answer itself.
async fn all_slots_free(target: &Target) -> Result<Instant> {
    let deadline = Instant::now() + PHASE_DEADLINE;
    let path = format!("/spin-forever/sleep?millis={}", HOLD.as_millis());
    while Instant::now() < deadline {
        let calls: Vec<_> = (0..SMALL_POOL)
            .map(|_| {
                let (addr, path) = (target.addr, path.clone());
                tokio::spawn(async move { load::fetch(addr, request(Method::GET, &path)).await })
            })
            .collect();
        let mut all_served = true;
        for call in calls {
            let (status, _) = call.await.context("a probe task panicked")??;
            all_served &= status.is_success();
        }
        if all_served {
            return Ok(Instant::now() - HOLD);
        }
    }
    bail!("the pool was not free again within {PHASE_DEADLINE:?} of the hang-up")
}

/// Each write route once, on a fresh conversation, with the host's count.
fn round_trips(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let account = target.account("bench round trips").await?;
        create_agent(&target, &account, "alice", "Alice").await?;
        let chat = start_chat(&target, &account).await?;
        let visitor = target.visitors(&account.site_key, 1).await?.remove(0);
        let routes = [
            (
                "POST /v1/widget/conversations (start)",
                start_request(&account.site_key, &visitor),
            ),
            (
                "POST /v1/widget/conversations/{id}/messages (visitor)",
                json_request(
                    Method::POST,
                    &format!("/v1/widget/conversations/{}/messages", chat.id),
                    Some(&chat.token),
                    &json!({ "text": "hello" }),
                ),
            ),
            (
                "POST /api/v1/conversations/{id}/messages (agent)",
                reply_request(&account.token, &chat.id),
            ),
            ("GET /healthz", request(Method::GET, "/healthz")),
        ];
        let mut findings = Findings::default();
        for (what, req) in routes {
            let (status, calls) = counted(&target, req).await?;
            if !status.is_success() {
                bail!("{what} answered {status}");
            }
            findings
                .lines
                .push(format!("{what}: {calls} key-value round trips"));
        }
        Ok(findings)
    })
}

/// One request; its status and the host's key-value count.
async fn counted(target: &Target, req: Request<Full<Bytes>>) -> Result<(StatusCode, String)> {
    let mut sender = load::connect(target.addr).await?;
    let response = sender
        .send_request(load::with_host(req, target.addr))
        .await?;
    let status = response.status();
    let calls = response
        .headers()
        .get(ROUND_TRIPS_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .with_context(|| {
            format!("no {ROUND_TRIPS_HEADER} header: is EDGECHAT_HOST_KV_COUNT=1 set?")
        })?;
    response.into_body().collect().await?;
    Ok((status, calls))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Requests the pool must hold waiting at once.
const WAITING: usize = 6_000;

fn waiting_instances(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let pid = host_pid()?;
        // The component's code and a few slots warm, as after any traffic.
        for _ in 0..4 {
            target
                .call(request(Method::GET, "/probe/wait?key=warm-up&seconds=0"))
                .await?;
        }
        let before = Resident::of(pid)?;
        let started = Instant::now();
        let wait =
            format!("GET /probe/wait?key=waiting&seconds=600 HTTP/1.1\r\nhost: bench\r\n\r\n");
        let mut waiters = Vec::with_capacity(WAITING);
        for _ in 0..WAITING {
            let mut stream = TcpStream::connect(target.addr).await?;
            stream.write_all(wait.as_bytes()).await?;
            waiters.push(stream);
        }
        let deadline = Instant::now() + PHASE_DEADLINE * 2;
        let mut waiting = 0;
        while Instant::now() < deadline {
            let body = target
                .call(request(Method::GET, "/probe/kv/counter?key=waiting"))
                .await?;
            waiting = String::from_utf8_lossy(&body).trim().parse().unwrap_or(0);
            if waiting >= WAITING {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
        let filled = started.elapsed();
        let held = Resident::of(pid)?;
        // One more request beside them all.
        let (beside, _) = load::fetch(target.addr, request(Method::GET, "/probe/static")).await?;
        drop(waiters);
        let mut findings = Findings::default();
        let per = |after: u64, before: u64| after.saturating_sub(before) as f64 / WAITING as f64;
        findings.lines.push(format!(
            "{waiting} of {WAITING} requests waiting after {} (sent one per connection)",
            ms(filled)
        ));
        findings.lines.push(format!(
            "host resident memory: {} MiB before, {} MiB with them waiting: {:.0} KiB per \
             waiting request (instance, store, stack, connection)",
            before.rss_kib / 1024,
            held.rss_kib / 1024,
            per(held.rss_kib, before.rss_kib),
        ));
        findings.lines.push(format!(
            "memory mappings: {} before, {} with them waiting: {:.1} per waiting request \
             (vm.max_map_count bounds the total)",
            before.maps,
            held.maps,
            per(held.maps, before.maps),
        ));
        findings.checks.push(Check {
            what: format!(
                "{waiting} of {WAITING} requests waiting at once, and one more answered {beside} \
                 (target: all {WAITING} held, the next one 200)"
            ),
            met: waiting >= WAITING && beside == StatusCode::OK,
        });
        Ok(findings)
    })
}

/// What the host process holds.
struct Resident {
    rss_kib: u64,
    maps: u64,
}

impl Resident {
    fn of(pid: u32) -> Result<Resident> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS in /proc/<pid>/status")?;
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?
            .lines()
            .count() as u64;
        Ok(Resident { rss_kib, maps })
    }
}

/// The host this bench started (its child process; one runs at a time).
fn host_pid() -> Result<u32> {
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after it.
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if comm.ends_with("(edgechat-host") && ppid == Some(me) {
            return Ok(pid);
        }
    }
    bail!("cannot find the host process among this bench's children")
}
