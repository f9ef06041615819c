//! Open chats at scale: what waiting widgets cost a host, and what the host
//! answers beyond what it holds.
//!
//! One probe on a host sized for 5,000 waiting chats (`long_poll_slots`
//! 5,000, 250 per account, an instance pool of 6,000). It seeds 21 accounts
//! of 250 chats each, then opens the chats of the first 20 accounts in steps
//! (100, 1,000, 5,000 waiting), each chat a widget-like loop on its own
//! connection: long-poll its messages with `wait=25`, read what arrives,
//! poll again, and on a 503 come back after `Retry-After`. At each step,
//! once the chats are waiting:
//! - CPU of the host over [`CPU_WINDOW`] (its schedstat time) and its
//!   resident memory, against the baseline of the same host with no chat
//!   open, measured first;
//! - reply latency: agent replies through the API to [`REPLY_SAMPLES`]
//!   waiting chats, one at a time, timed from the reply's 201 to the
//!   chat's poll answering with it.
//!
//! At 5,000 it also times `/healthz` and an integration API read on a few
//! connections beside the waiting chats, then opens the 21st account's
//! chats and ten more of the first account's, beyond the budgets: each must
//! be refused with a retryable 503 (`Retry-After`), never a 500, unless it
//! took a slot a waiting chat had just left between two polls (that chat is
//! then the one refused: the bench counts both).
//!
//! `--open-chats-steps` changes the steps (rising, up to 5,000); the checks
//! beside and beyond the budget run only when the last step is 5,000.

use super::conversations::{Chat, create_agent, ms, percentile, reply_request, start_chat};
use super::{
    ADMIN_TOKEN, Account, BoxFuture, Check, Findings, HostApp, Scenario, Server, Target,
    authorized, query_value,
};
use crate::load;
use anyhow::{Context, Result, anyhow, bail};
use hyper::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::time::sleep;

/// Waiting chats per account: the per-account budget of this host.
const PER_ACCOUNT: usize = 250;
/// Accounts whose chats wait (20 × 250 = 5,000, the host's whole budget).
const WAITING_ACCOUNTS: usize = 20;
/// The steps of the curve (`--open-chats-steps`); the checks beside and
/// beyond the budget run at the last step when it is this.
pub const FULL: usize = PER_ACCOUNT * WAITING_ACCOUNTS;
/// How long each step's CPU is measured.
const CPU_WINDOW: Duration = Duration::from_secs(10);
/// Replies timed per step.
const REPLY_SAMPLES: usize = 40;
/// What the replies' send times are spread over: four quiet probe
/// intervals (`QUIET_PROBE_MILLIS`, 120 ms).
const REPLY_SPREAD: Duration = Duration::from_millis(480);
/// The widget's long-poll wait.
const WAIT_SECONDS: u64 = 25;

/// Idle cost at 1,000 waiting chats: at most this share of one core.
const MAX_IDLE_CPU_AT_1000: f64 = 0.10;
const MAX_REPLY_P50: Duration = Duration::from_millis(100);
const MAX_REPLY_P99: Duration = Duration::from_millis(500);
/// `/healthz` and the API beside 5,000 waiting chats.
const MAX_BESIDE_P99: Duration = Duration::from_millis(100);

pub const SCALE_APP: HostApp = HostApp {
    manifest: "spin.toml",
    args: &[],
    variables: &[
        ("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN),
        ("SPIN_VARIABLE_SIGNING_KEY", "bench-signing-key"),
        ("SPIN_VARIABLE_LONG_POLL_SLOTS", "5000"),
        ("SPIN_VARIABLE_LONG_POLL_SLOTS_PER_ACCOUNT", "250"),
        // Instances, memories and stacks (not SPIN_WASMTIME_INSTANCE_COUNT,
        // which raises only the instances: Spin's memories and stacks
        // would stay at 1,000).
        ("SPIN_MAX_INSTANCE_COUNT", "6000"),
    ],
};

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::probe(
        "open-chats",
        "waiting widget long-polls: host CPU, memory and reply latency at 100, 1,000 and 5,000; \
         /healthz and the API beside 5,000; answers beyond the budget",
        Server::Host(SCALE_APP),
        open_chats,
    )]
}

/// What the chat loops report.
#[derive(Default)]
struct Tally {
    /// Polls answered 503 with a `Retry-After`.
    busy: AtomicU64,
    /// Polls answered 503 without one, or any other non-2xx but 503.
    other_failures: AtomicU64,
    /// Polls answered 500.
    internal_errors: AtomicU64,
    /// When each chat's poll last answered with messages.
    arrivals: Mutex<HashMap<String, Instant>>,
    /// Polls in flight (sent, not answered yet).
    in_flight: AtomicU64,
}

pub(super) fn open_chats(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let pid = target.pid.context("the host's pid is unknown")?;
        let mut findings = Findings::default();
        let seeded = seed(&target).await?;

        let baseline = cpu_share(pid, CPU_WINDOW).await?;
        findings.lines.push(format!(
            "no chat open: host CPU {:.1}% of one core, RSS {} MiB",
            baseline * 100.0,
            crate::cpu::resident_mib(pid)
        ));

        let tally = Arc::new(Tally::default());
        let stop = Arc::new(AtomicBool::new(false));
        let waiting: Vec<(Account, Chat)> = seeded
            .iter()
            .filter(|(_, c)| c.account_index < WAITING_ACCOUNTS)
            .map(|(a, c)| (a.clone(), c.chat.clone()))
            .collect();
        let steps = target.options.open_chats_steps.clone();
        if steps.iter().any(|&s| s > FULL) || !steps.is_sorted_by(|a, b| a < b) {
            bail!("--open-chats-steps must rise, up to the {FULL} chats this probe seeds");
        }
        let mut opened = 0;
        for &step in &steps {
            for (_, chat) in &waiting[opened..step] {
                spawn_chat(target.addr, chat.clone(), tally.clone(), stop.clone());
            }
            opened = step;
            settle(&tally, step).await;
            eprintln!("  {step} chats waiting: measuring the host's CPU for {CPU_WINDOW:?}");
            let cpu = cpu_share(pid, CPU_WINDOW).await?;
            let rss = crate::cpu::resident_mib(pid);
            let samples: Vec<&(Account, Chat)> = (0..REPLY_SAMPLES)
                .map(|i| &waiting[i * step / REPLY_SAMPLES])
                .collect();
            let latencies = time_replies(&target, &tally, &samples).await?;
            let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
            findings.lines.push(format!(
                "{step} chats waiting: host CPU {:.1}% of one core ({:+.1} points over none open, \
                 {:.3}% per chat), RSS {rss} MiB; reply -> waiting chat p50 {}, p99 {} \
                 ({} samples)",
                cpu * 100.0,
                (cpu - baseline) * 100.0,
                (cpu - baseline) * 100.0 / step as f64,
                ms(p50),
                ms(p99),
                latencies.len()
            ));
            if step == 1_000 {
                findings.checks.push(Check {
                    what: format!(
                        "1,000 waiting chats cost {:.1}% of one core (target <= {:.0}%)",
                        cpu * 100.0,
                        MAX_IDLE_CPU_AT_1000 * 100.0
                    ),
                    met: cpu <= MAX_IDLE_CPU_AT_1000,
                });
                findings.checks.push(Check {
                    what: format!(
                        "reply reaches a waiting chat (1,000 waiting): p50 {} (target <= {}), \
                         p99 {} (target <= {})",
                        ms(p50),
                        ms(MAX_REPLY_P50),
                        ms(p99),
                        ms(MAX_REPLY_P99)
                    ),
                    met: p50 <= MAX_REPLY_P50 && p99 <= MAX_REPLY_P99,
                });
            }
        }

        if steps.last() != Some(&FULL) {
            findings.lines.push(format!(
                "beside and beyond the budget: not measured (the last step is not {FULL})"
            ));
            stop.store(true, Ordering::Relaxed);
            return Ok(findings);
        }

        // Beside 5,000 waiting chats: the rest of the host still answers.
        let account = &seeded[0].0;
        for (name, path, bearer) in [
            ("/healthz", "/healthz".to_string(), None),
            (
                "GET /api/v1/agents",
                "/api/v1/agents".to_string(),
                Some(account.token.as_str()),
            ),
        ] {
            let (latencies, failures) = time_requests(&target, &path, bearer).await?;
            let p99 = percentile(&latencies, 0.99);
            findings.lines.push(format!(
                "{name} beside 5,000 waiting chats: p50 {}, p99 {} ({} requests, {failures} not 2xx)",
                ms(percentile(&latencies, 0.5)),
                ms(p99),
                latencies.len()
            ));
            findings.checks.push(Check {
                what: format!(
                    "{name} beside 5,000 waiting chats: p99 {} (target < {}), {failures} not 2xx",
                    ms(p99),
                    ms(MAX_BESIDE_P99)
                ),
                met: p99 < MAX_BESIDE_P99 && failures == 0,
            });
        }

        // Beyond the budgets: the 21st account (the host's budget is used
        // up) and ten more of the first account's (its own is).
        let busy_before = tally.busy.load(Ordering::Relaxed);
        let beyond: Vec<Chat> = seeded
            .iter()
            .filter(|(_, c)| c.account_index == WAITING_ACCOUNTS)
            .map(|(_, c)| c.chat.clone())
            .chain(
                seeded
                    .iter()
                    .filter(|(_, c)| c.account_index == 0)
                    .take(10)
                    .map(|(_, c)| c.chat.clone()),
            )
            .collect();
        let refused = refusals(&target, &beyond).await?;
        let displaced = tally.busy.load(Ordering::Relaxed) - busy_before;
        let internal_errors =
            tally.internal_errors.load(Ordering::Relaxed) + refused.internal_errors;
        findings.lines.push(format!(
            "{} chats beyond the budget: {} refused 503 with Retry-After, {} got a slot a waiting \
             chat had just left, {} answered otherwise ({}); the waiting chats saw {displaced} \
             busy answers meanwhile, {} other failures, {internal_errors} answers of 500 in all",
            beyond.len(),
            refused.busy,
            refused.admitted,
            refused.other.len(),
            refused.other.join(", "),
            tally.other_failures.load(Ordering::Relaxed),
        ));
        // A waiting chat gives its slot up between two polls: a newcomer
        // may take it first (then that chat is the one refused). So the
        // budget held if every newcomer let in matches a waiting chat
        // turned away meanwhile.
        findings.checks.push(Check {
            what: format!(
                "chats beyond the budget: {} of {} refused with a retryable 503, {} let into \
                 slots that waiting chats left ({displaced} of those turned away meanwhile), \
                 {} other answers, 500s: {internal_errors}",
                refused.busy,
                beyond.len(),
                refused.admitted,
                refused.other.len()
            ),
            met: refused.busy + refused.admitted == beyond.len()
                && refused.admitted as u64 <= displaced
                && internal_errors == 0,
        });
        stop.store(true, Ordering::Relaxed);
        Ok(findings)
    })
}

struct Seeded {
    account_index: usize,
    chat: Chat,
}

/// 21 accounts with an agent and [`PER_ACCOUNT`] chats each.
async fn seed(target: &Target) -> Result<Vec<(Account, Seeded)>> {
    let accounts = WAITING_ACCOUNTS + 1;
    eprintln!(
        "  seeding {accounts} accounts of {PER_ACCOUNT} chats ({} chats)",
        accounts * PER_ACCOUNT
    );
    let mut seeded = Vec::new();
    for index in 0..accounts {
        let account = target.account(&format!("bench open chats {index}")).await?;
        create_agent(target, &account, "alice", "Alice").await?;
        let mut tasks = tokio::task::JoinSet::new();
        let lanes = target.options.seed_concurrency.clamp(1, PER_ACCOUNT);
        for lane in 0..lanes {
            let (target, account) = (target.clone(), account.clone());
            tasks.spawn(async move {
                let mut chats = Vec::new();
                for _ in (lane..PER_ACCOUNT).step_by(lanes) {
                    chats.push(start_chat(&target, &account).await?);
                }
                Ok::<_, anyhow::Error>(chats)
            });
        }
        while let Some(chats) = tasks.join_next().await {
            for chat in chats.context("a seeding task panicked")?? {
                seeded.push((
                    account.clone(),
                    Seeded {
                        account_index: index,
                        chat,
                    },
                ));
            }
        }
    }
    Ok(seeded)
}

/// A widget's poll loop for `chat` on its own connection, until `stop`.
fn spawn_chat(addr: std::net::SocketAddr, chat: Chat, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let path = format!("/v1/widget/conversations/{}/messages", chat.id);
        let mut cursor = String::new();
        let mut connection = None;
        while !stop.load(Ordering::Relaxed) {
            let sender = match connection.take() {
                Some(sender) => sender,
                None => match load::connect(addr).await {
                    Ok(sender) => sender,
                    Err(_) => {
                        sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            let mut sender = sender;
            let wait = authorized(
                Method::GET,
                &format!("{path}?cursor={}&wait={WAIT_SECONDS}", query_value(&cursor)),
                Some(&chat.token),
            );
            tally.in_flight.fetch_add(1, Ordering::Relaxed);
            let answer = load::exchange(&mut sender, load::with_host(wait, addr)).await;
            tally.in_flight.fetch_sub(1, Ordering::Relaxed);
            let Ok((status, body)) = answer else {
                sleep(Duration::from_secs(1)).await;
                continue;
            };
            connection = Some(sender);
            match status {
                StatusCode::OK => {
                    let Ok(page) = serde_json::from_slice::<Value>(&body) else {
                        continue;
                    };
                    if page["items"].as_array().is_some_and(|i| !i.is_empty())
                        && let Ok(mut arrivals) = tally.arrivals.lock()
                    {
                        arrivals.insert(chat.id.clone(), Instant::now());
                    }
                    if let Some(next) = page["next_cursor"].as_str() {
                        cursor = next.to_string();
                    }
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    tally.busy.fetch_add(1, Ordering::Relaxed);
                    sleep(Duration::from_secs(10)).await;
                }
                StatusCode::INTERNAL_SERVER_ERROR => {
                    tally.internal_errors.fetch_add(1, Ordering::Relaxed);
                    sleep(Duration::from_secs(3)).await;
                }
                _ => {
                    tally.other_failures.fetch_add(1, Ordering::Relaxed);
                    sleep(Duration::from_secs(3)).await;
                }
            }
        }
    });
}

/// Waits until `count` polls are in flight (each chat's first poll read
/// the tail and is waiting), then a little more for the host to settle.
async fn settle(tally: &Tally, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while (tally.in_flight.load(Ordering::Relaxed) as usize) < count && Instant::now() < deadline {
        sleep(Duration::from_millis(100)).await;
    }
    sleep(Duration::from_secs(3)).await;
}

/// The server's CPU over `window`, as a share of one core
/// ([`crate::cpu::user_and_system_time`]).
async fn cpu_share(pid: u32, window: Duration) -> Result<f64> {
    let spent = || {
        crate::cpu::user_and_system_time(pid).ok_or_else(|| anyhow!("cannot read /proc/{pid}/stat"))
    };
    let before = spent()?;
    let started = Instant::now();
    sleep(window).await;
    let spent = spent()?.saturating_sub(before);
    Ok(spent.as_secs_f64() / started.elapsed().as_secs_f64())
}

/// Replies to each sample chat in turn; the time from the reply's 201 to
/// that chat's poll answering with it.
async fn time_replies(
    target: &Target,
    tally: &Tally,
    samples: &[&(Account, Chat)],
) -> Result<Vec<Duration>> {
    let mut api = load::connect(target.addr).await?;
    let mut latencies = Vec::new();
    for (i, (account, chat)) in samples.iter().enumerate() {
        // Quiet chats probe on a shared beat: spread the replies evenly
        // over four beats, so that they do not all land at the same point
        // of it (each one follows the previous one's answer, which came on
        // a beat).
        sleep(REPLY_SPREAD * i as u32 / samples.len() as u32).await;
        let sent = Instant::now();
        let (status, body) = load::exchange(
            &mut api,
            load::with_host(reply_request(&account.token, &chat.id), target.addr),
        )
        .await?;
        let replied = Instant::now();
        if status != StatusCode::CREATED {
            bail!(
                "a reply answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let deadline = replied + Duration::from_secs(WAIT_SECONDS + 10);
        loop {
            let arrived = tally
                .arrivals
                .lock()
                .ok()
                .and_then(|a| a.get(&chat.id).copied())
                .filter(|at| *at >= sent);
            if let Some(at) = arrived {
                // An answer read before the 201 counts as 0.
                latencies.push(at.saturating_duration_since(replied));
                break;
            }
            if Instant::now() > deadline {
                bail!("chat {} never saw its reply", chat.id);
            }
            sleep(Duration::from_millis(1)).await;
        }
        // Let the chat's next poll start before the next sample.
        sleep(Duration::from_millis(50)).await;
    }
    latencies.sort_unstable();
    Ok(latencies)
}

/// `path` timed on four connections for five seconds; the latencies
/// (sorted) and how many answers were not 2xx.
async fn time_requests(
    target: &Target,
    path: &str,
    bearer: Option<&str>,
) -> Result<(Vec<Duration>, usize)> {
    let until = Instant::now() + Duration::from_secs(5);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (addr, path, bearer) = (target.addr, path.to_string(), bearer.map(str::to_string));
        tasks.spawn(async move {
            let mut sender = load::connect(addr).await?;
            let (mut latencies, mut failures) = (Vec::new(), 0);
            while Instant::now() < until {
                let req = authorized(Method::GET, &path, bearer.as_deref());
                let started = Instant::now();
                let (status, _) = load::exchange(&mut sender, load::with_host(req, addr)).await?;
                latencies.push(started.elapsed());
                if !status.is_success() {
                    failures += 1;
                }
            }
            Ok::<_, anyhow::Error>((latencies, failures))
        });
    }
    let (mut all, mut failures) = (Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (latencies, failed) = done.context("a timing task panicked")??;
        all.extend(latencies);
        failures += failed;
    }
    all.sort_unstable();
    Ok((all, failures))
}

struct Refusals {
    /// Answered 503 with `Retry-After`.
    busy: usize,
    /// Answered 200 after waiting: the poll got a slot that a waiting chat
    /// had left between two of its polls.
    admitted: usize,
    internal_errors: u64,
    other: Vec<String>,
}

/// One long-poll per chat, all at once, each after what its chat already
/// holds (a poll with something to read answers at once and needs no
/// slot): how each was answered.
async fn refusals(target: &Target, chats: &[Chat]) -> Result<Refusals> {
    let mut tasks = tokio::task::JoinSet::new();
    for chat in chats {
        let (addr, chat) = (target.addr, chat.clone());
        tasks.spawn(async move {
            let path = format!("/v1/widget/conversations/{}/messages", chat.id);
            let mut sender = load::connect(addr).await?;
            let read = authorized(Method::GET, &path, Some(&chat.token));
            let (status, body) = load::exchange(&mut sender, load::with_host(read, addr)).await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "reading the chat answered {status}"
            );
            let page: Value = serde_json::from_slice(&body)?;
            let cursor = page["next_cursor"].as_str().unwrap_or_default();
            let wait = format!("{path}?cursor={}&wait={WAIT_SECONDS}", query_value(cursor));
            let req = load::with_host(authorized(Method::GET, &wait, Some(&chat.token)), addr);
            sender.ready().await?;
            let response = sender.send_request(req).await?;
            let retry_after = response.headers().contains_key("retry-after");
            Ok::<_, anyhow::Error>((response.status(), retry_after))
        });
    }
    let mut refused = Refusals {
        busy: 0,
        admitted: 0,
        internal_errors: 0,
        other: Vec::new(),
    };
    while let Some(done) = tasks.join_next().await {
        match done.context("a refusal task panicked")? {
            Ok((StatusCode::SERVICE_UNAVAILABLE, true)) => refused.busy += 1,
            Ok((StatusCode::OK, _)) => refused.admitted += 1,
            Ok((StatusCode::INTERNAL_SERVER_ERROR, _)) => {
                refused.internal_errors += 1;
                refused.other.push("500".into());
            }
            Ok((status, retry_after)) => refused.other.push(format!(
                "{status}{}",
                if retry_after { " with Retry-After" } else { "" }
            )),
            Err(e) => refused.other.push(format!("error: {e:#}")),
        }
    }
    Ok(refused)
}
