//! Delivering events: the dispatcher, and the deliveries the API makes at
//! once (test, manual retry) or asks for (replay).
//!
//! Spin has no timers and no way to wake a component from the store, so
//! delivery is driven by requests: `POST /api/v1/webhook-dispatch?wait=`
//! runs [`Dispatcher::run`] for up to `wait` seconds. The local runtime
//! keeps one such request running by itself (`--tick`); under Spin a
//! scheduler calls it (a SpinKube CronJob, the cron trigger plugin). The
//! request that writes an event never waits for its delivery.
//!
//! **Durable progress.** Each endpoint has a state document (`cursor` into
//! the account's event log, the retries due, the replay being worked
//! through). It is written after every attempt, after the attempt is
//! logged; a dispatcher killed at any point therefore re-sends at most the
//! deliveries it had in flight, with the same `webhook-id`s (at least
//! once). The cursor moves past an event only once it was delivered, handed
//! to a retry, or filtered out; it never skips an event still being
//! written ([`events::scan`] waits at gaps).
//!
//! **One dispatcher per endpoint at a time.** Time is cut into
//! [`WINDOW_MILLIS`] windows; the first dispatcher to `increment` an
//! endpoint's lease key for a window (and get 1) delivers for it during that
//! window, and writes its `worker` name next to the claim so that its next
//! request takes over without waiting. It starts a delivery only if that
//! delivery's timeout ends inside a window it holds, and claims the next
//! window ahead of time, so a healthy dispatcher keeps its endpoints and a
//! dead one loses them after at most two windows. Two dispatchers (two
//! hosts on one Redis, overlapping scheduler runs) thus never deliver for
//! one endpoint at once, save for clock skew between machines.
//!
//! **Fan-out is concurrent.** Every endpoint has at most one delivery in
//! flight, and all endpoints' deliveries run at once (Spin's async
//! outbound HTTP), so a slow or dead receiver delays only itself.
//!
//! **Failures.** 2xx is success. Anything else, no answer within
//! [`TIMEOUT_MILLIS`] or a connection error is retried on the schedule
//! (`webhook_retry_schedule`), or after `Retry-After` (seconds, at most a
//! day) on 429 and 503; the schedule exhausted, the delivery is marked
//! failed and stays listed and replayable. 410 Gone disables the endpoint
//! at once; an endpoint that has failed for `webhook_disable_after` (5
//! days) without a success in between is disabled. Both are audited as
//! `webhook.disabled`. At most [`MAX_RETRIES`] retries wait per endpoint;
//! past that, new events wait in the log until retries drain.

use crate::api::audit::{self, Action};
use crate::api::auth::Caller;
use crate::base::crypto::random_bytes;
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, WebhookId};
use crate::base::paging::decode_seq_cursor;
use crate::base::time::{Clock, Timestamp};
use crate::chat::events::{self, Event};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use crate::webhooks::deliveries::{self, Attempt, Outcome, Replay, Schedule, Trigger};
use crate::webhooks::endpoints::{self, Endpoint, WEBHOOK_TEST};
use crate::webhooks::payload;
use crate::webhooks::transport::{Sent, TIMEOUT_MILLIS, Transport, send_signed};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;

/// Length of a lease window.
pub const WINDOW_MILLIS: i64 = 15_000;
/// What a delivery may take beyond its timeout (recording it).
const MARGIN_MILLIS: i64 = 1_000;
/// How often the dispatcher looks for new events.
pub const POLL_MILLIS: u64 = 20;
/// How often it looks when no account has an endpoint.
const IDLE_MILLIS: u64 = 250;
/// How often it re-reads the endpoints (new, changed, deleted ones).
const REFRESH_MILLIS: i64 = 1_000;
/// Retries waiting per endpoint before new events wait in the log.
pub const MAX_RETRIES: usize = 500;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// What delivery is configured with (Spin variables).
#[derive(Debug, Clone)]
pub struct Config {
    /// `signing_key`: opens the endpoints' sealed secrets.
    pub signing_key: Vec<u8>,
    /// `webhook_retry_schedule`.
    pub schedule: Schedule,
    /// `webhook_disable_after`: how long an endpoint may keep failing.
    pub disable_after_millis: i64,
}

/// The `webhook-id` of event `seq` to `endpoint`: the same on every
/// attempt, retry and replay.
pub fn webhook_id(endpoint: &WebhookId, seq: u64) -> String {
    let hex = endpoint.as_str().trim_start_matches(WebhookId::PREFIX);
    format!("msg_{hex}_{seq}")
}

/// An endpoint's delivery progress, written only by its lease holder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    v: u32,
    /// Every event up to this one is delivered, retrying, or not wanted.
    cursor: u64,
    /// Retries due, by event.
    #[serde(default)]
    retries: Vec<Retry>,
    /// Replay requests up to this one are taken.
    #[serde(default)]
    replay_position: u64,
    /// The replay being worked through.
    #[serde(default)]
    replay: Option<Range>,
    /// When the current run of failures started.
    #[serde(default)]
    failing_since: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Retry {
    seq: u64,
    /// Attempts made so far.
    attempt: u32,
    due: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Range {
    /// The next event to look at.
    next: u64,
    /// The last one.
    to: u64,
}

fn load_state(kv: &dyn KeyValue, account: &AccountId, endpoint: &Endpoint) -> Result<State> {
    let state: Option<State> = doc::read(kv, &keys::webhook_state(account, &endpoint.id))?;
    Ok(state.unwrap_or(State {
        v: 1,
        cursor: endpoint.start_seq,
        ..State::default()
    }))
}

fn save_state(kv: &dyn KeyValue, account: &AccountId, id: &WebhookId, state: &State) -> Result<()> {
    doc::write(kv, &keys::webhook_state(account, id), state)
}

/// Event `seq`, if it is (still) readable.
fn read_event(
    kv: &dyn KeyValue,
    account: &AccountId,
    seq: u64,
    now: Timestamp,
) -> Result<Option<Event>> {
    let scan = events::scan(kv, account, seq.saturating_sub(1), 1, now, |e| Ok(Some(e)))?;
    Ok(scan.items.into_iter().next().filter(|e| e.seq == seq))
}

/// Where a job's outcome goes in the state.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A new event; the cursor moves to `position` once it is handled.
    New { position: u64 },
    /// A due retry.
    Retry,
    /// Part of a replay.
    Replay,
}

struct Job {
    seq: u64,
    kind: String,
    attempt: u32,
    trigger: Trigger,
    source: Source,
    body: Vec<u8>,
}

/// One endpoint as the dispatcher tracks it.
struct Worker {
    account: AccountId,
    endpoint: Endpoint,
    /// The lease windows tried: whether we hold them.
    windows: BTreeMap<i64, bool>,
    /// The state, while we hold the lease without a break.
    state: Option<State>,
    /// The last window `state` is known good in.
    state_window: i64,
    busy: bool,
    /// Look at the replay log on the next chance.
    check_replays: bool,
    gone: bool,
}

/// Runs deliveries for every endpoint of every account.
pub struct Dispatcher<'a, T: Transport> {
    /// The store.
    pub kv: &'a dyn KeyValue,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// How to send.
    pub transport: &'a T,
    /// The variables.
    pub config: &'a Config,
    /// This dispatcher's name in lease claims (stable across its requests).
    pub worker: &'a str,
}

/// What one run did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Attempts made.
    pub attempts: u64,
    /// Of which succeeded.
    pub succeeded: u64,
    /// Endpoints this dispatcher held a lease for.
    pub endpoints: usize,
}

type Flight<'f> = Pin<Box<dyn Future<Output = (usize, Job, Sent)> + 'f>>;

impl<'a, T: Transport> Dispatcher<'a, T> {
    /// Delivers what is due, and what becomes due, for `budget_millis`;
    /// then waits for the deliveries in flight and returns.
    pub async fn run(&self, budget_millis: i64) -> Result<Summary> {
        let deadline = self.clock.now().plus_millis(budget_millis);
        let mut workers: Vec<Worker> = Vec::new();
        let mut index: HashMap<(AccountId, WebhookId), usize> = HashMap::new();
        let mut flights: FuturesUnordered<Flight<'_>> = FuturesUnordered::new();
        let mut summary = Summary::default();
        let mut refreshed: Option<Timestamp> = None;
        let mut first_pass = true;
        loop {
            let now = self.clock.now();
            // The first pass always runs: `wait=0` is one pass over what is due.
            let open = std::mem::take(&mut first_pass) || now < deadline;
            if !open && flights.is_empty() {
                break;
            }
            if open && refreshed.is_none_or(|at| now.millis() - at.millis() >= REFRESH_MILLIS) {
                self.refresh(&mut workers, &mut index)?;
                refreshed = Some(now);
            }
            if open {
                for (i, worker) in workers.iter_mut().enumerate() {
                    if worker.busy || worker.gone || !worker.endpoint.enabled {
                        continue;
                    }
                    match self.next_job(worker, now) {
                        Ok(Some(job)) => {
                            worker.busy = true;
                            flights.push(self.fly(i, worker, job, now));
                        }
                        Ok(None) => {}
                        Err(e) => eprintln!("webhook {}: {e}", worker.endpoint.id),
                    }
                }
            }
            let landed = if flights.is_empty() {
                if self.clock.now() >= deadline {
                    break;
                }
                // Nothing to deliver for at all: look again less often.
                let idle = if workers.is_empty() {
                    IDLE_MILLIS
                } else {
                    POLL_MILLIS
                };
                self.transport.sleep(idle).await;
                None
            } else {
                let next = flights.next();
                let tick = self.transport.sleep(POLL_MILLIS);
                match futures::future::select(next, std::pin::pin!(tick)).await {
                    futures::future::Either::Left((landed, _)) => landed,
                    futures::future::Either::Right(_) => None,
                }
            };
            if let Some((i, job, sent)) = landed {
                let worker = &mut workers[i];
                worker.busy = false;
                summary.attempts += 1;
                summary.succeeded += u64::from(sent.succeeded());
                if let Err(e) = self.land(worker, job, sent) {
                    // The state stays as it was: the delivery is made again.
                    eprintln!(
                        "webhook {}: recording a delivery failed: {e}",
                        worker.endpoint.id
                    );
                    worker.state = None;
                }
            }
        }
        summary.endpoints = workers.iter().filter(|w| w.state.is_some()).count();
        Ok(summary)
    }

    fn refresh(
        &self,
        workers: &mut Vec<Worker>,
        index: &mut HashMap<(AccountId, WebhookId), usize>,
    ) -> Result<()> {
        for worker in workers.iter_mut() {
            worker.gone = true;
        }
        for account in endpoints::accounts(self.kv)? {
            for endpoint in endpoints::all(self.kv, &account)? {
                let key = (account.clone(), endpoint.id.clone());
                match index.get(&key) {
                    Some(&i) => {
                        let worker = &mut workers[i];
                        worker.endpoint = endpoint;
                        worker.gone = false;
                        worker.check_replays = true;
                    }
                    None => {
                        index.insert(key, workers.len());
                        workers.push(Worker {
                            account: account.clone(),
                            endpoint,
                            windows: BTreeMap::new(),
                            state: None,
                            state_window: i64::MIN,
                            busy: false,
                            check_replays: true,
                            gone: false,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether we hold `window` for the worker's endpoint (claiming it if
    /// nobody has tried yet).
    fn holds(&self, worker: &mut Worker, window: i64) -> Result<bool> {
        if let Some(&held) = worker.windows.get(&window) {
            return Ok(held);
        }
        let (account, id) = (&worker.account, &worker.endpoint.id);
        let key = keys::webhook_lease(account, id, window);
        let owner_key = format!("{key}:owner");
        let held = if self.kv.increment(&key, 1)? == 1 {
            self.kv.set(&owner_key, self.worker.as_bytes())?;
            // The claims of two windows ago are nobody's business any more.
            let old = keys::webhook_lease(account, id, window - 2);
            let _ = self.kv.delete(&old);
            let _ = self.kv.delete(&format!("{old}:owner"));
            true
        } else {
            // Ours from an earlier request of this dispatcher?
            self.kv.get(&owner_key)?.as_deref() == Some(self.worker.as_bytes())
        };
        worker.windows.insert(window, held);
        worker.windows.retain(|&w, _| w >= window - 1);
        Ok(held)
    }

    /// Whether a delivery started now may run to its timeout under our lease.
    fn may_start(&self, worker: &mut Worker, now: Timestamp) -> Result<bool> {
        let window = now.millis().div_euclid(WINDOW_MILLIS);
        if !self.holds(worker, window)? {
            worker.state = None;
            return Ok(false);
        }
        let end = (window + 1) * WINDOW_MILLIS;
        let finish = now.millis() + TIMEOUT_MILLIS as i64 + MARGIN_MILLIS;
        if finish >= end && !self.holds(worker, window + 1)? {
            return Ok(false);
        }
        if worker.state.is_none() || worker.state_window < window - 1 {
            worker.state = Some(load_state(self.kv, &worker.account, &worker.endpoint)?);
            worker.check_replays = true;
        }
        worker.state_window = window;
        Ok(true)
    }

    /// The next delivery due for `worker`, if any (moves the cursor past
    /// unwanted events on the way).
    fn next_job(&self, worker: &mut Worker, now: Timestamp) -> Result<Option<Job>> {
        if !self.may_start(worker, now)? {
            return Ok(None);
        }
        let account = worker.account.clone();
        let endpoint = worker.endpoint.clone();
        let Some(state) = worker.state.as_mut() else {
            return Ok(None);
        };
        // 1. A retry that is due.
        while let Some(retry) = state
            .retries
            .iter()
            .filter(|r| r.due <= now)
            .min_by_key(|r| r.due)
            .cloned()
        {
            match read_event(self.kv, &account, retry.seq, now)? {
                Some(event) => {
                    return self.job(
                        &account,
                        &event,
                        retry.attempt + 1,
                        Trigger::Retry,
                        Source::Retry,
                    );
                }
                None => state.retries.retain(|r| r.seq != retry.seq),
            }
        }
        // 2. A replay.
        if state.replay.is_none() && worker.check_replays {
            worker.check_replays = false;
            let log = deliveries::replays(self.kv, &account, &endpoint.id);
            if let Some(entry) = log.entry(state.replay_position + 1)? {
                state.replay_position += 1;
                if let Some(value) = entry {
                    let replay: Replay = serde_json::from_value(value)
                        .map_err(|e| Error::Corrupt(format!("replay: {e}")))?;
                    state.replay = Some(Range {
                        next: replay.from,
                        to: replay.to,
                    });
                }
                worker.check_replays = true;
                save_state(self.kv, &account, &endpoint.id, state)?;
            }
        }
        if let Some(range) = state.replay {
            let after = range.next.saturating_sub(1);
            let scan = events::scan(self.kv, &account, after, 1, now, |e| {
                Ok((e.seq <= range.to && endpoint.wants(&e.kind)).then_some(e))
            })?;
            if let Some(event) = scan.items.into_iter().next() {
                state.replay = Some(Range {
                    next: event.seq,
                    to: range.to,
                });
                return self.job(&account, &event, 1, Trigger::Replay, Source::Replay);
            }
            if scan.position >= range.to {
                state.replay = None;
                save_state(self.kv, &account, &endpoint.id, state)?;
            } else if scan.position > after {
                state.replay = Some(Range {
                    next: scan.position + 1,
                    to: range.to,
                });
            }
            // Otherwise it waits at an event still being written.
        }
        // 3. New events.
        if state.retries.len() >= MAX_RETRIES {
            return Ok(None);
        }
        if !self.kv.exists(&keys::event(&account, state.cursor + 1))? {
            return Ok(None);
        }
        let cursor = state.cursor;
        let scan = events::scan(self.kv, &account, cursor, 1, now, |e| {
            Ok(endpoint.wants(&e.kind).then_some(e))
        })?;
        match scan.items.into_iter().next() {
            Some(event) => {
                let position = event.seq;
                self.job(
                    &account,
                    &event,
                    1,
                    Trigger::Event,
                    Source::New { position },
                )
            }
            None => {
                if scan.position > cursor {
                    state.cursor = scan.position;
                    save_state(self.kv, &account, &endpoint.id, state)?;
                }
                Ok(None)
            }
        }
    }

    fn job(
        &self,
        account: &AccountId,
        event: &Event,
        attempt: u32,
        trigger: Trigger,
        source: Source,
    ) -> Result<Option<Job>> {
        Ok(Some(Job {
            seq: event.seq,
            kind: event.kind.clone(),
            attempt,
            trigger,
            source,
            body: payload::for_event(self.kv, account, event)?,
        }))
    }

    fn fly(&self, i: usize, worker: &Worker, mut job: Job, now: Timestamp) -> Flight<'a> {
        let secrets =
            worker
                .endpoint
                .signing_secrets(&self.config.signing_key, &worker.account, now);
        let url = worker.endpoint.url.clone();
        let id = webhook_id(&worker.endpoint.id, job.seq);
        let (transport, clock) = (self.transport, self.clock);
        Box::pin(async move {
            let body = std::mem::take(&mut job.body);
            let sent = send_signed(transport, clock, &url, &secrets, &id, body).await;
            (i, job, sent)
        })
    }

    /// Records an attempt and moves the state on.
    fn land(&self, worker: &mut Worker, job: Job, sent: Sent) -> Result<()> {
        let account = worker.account.clone();
        let id = worker.endpoint.id.clone();
        let Some(state) = worker.state.as_mut() else {
            return Ok(());
        };
        let verdict = judge(self.config, state, &sent, job.attempt);
        let attempt = attempt_entry(
            &webhook_id(&id, job.seq),
            Some(job.seq),
            &job.kind,
            job.attempt,
            job.trigger,
            &sent,
            verdict.retry_at,
        );
        deliveries::record(self.kv, &account, &id, attempt)?;
        if sent.succeeded() {
            state.failing_since = None;
        } else {
            state.failing_since.get_or_insert(sent.at);
        }
        state.retries.retain(|r| r.seq != job.seq);
        if let Some(due) = verdict.retry_at {
            state.retries.push(Retry {
                seq: job.seq,
                attempt: job.attempt,
                due,
            });
        }
        match job.source {
            Source::New { position } => state.cursor = state.cursor.max(position),
            Source::Replay => {
                if let Some(range) = state.replay.as_mut() {
                    range.next = job.seq + 1;
                }
            }
            Source::Retry => {}
        }
        save_state(self.kv, &account, &id, state)?;
        if let Some(reason) = verdict.disable {
            worker.endpoint.enabled = false;
            endpoints::disable(self.kv, self.clock, &account, &id, &reason)?;
        }
        Ok(())
    }
}

/// What follows from one attempt.
struct Verdict {
    retry_at: Option<Timestamp>,
    disable: Option<String>,
}

fn judge(config: &Config, state: &State, sent: &Sent, attempt: u32) -> Verdict {
    if sent.succeeded() {
        return Verdict {
            retry_at: None,
            disable: None,
        };
    }
    let status = sent.answer.as_ref().ok().map(|a| a.status);
    if status == Some(410) {
        return Verdict {
            retry_at: None,
            disable: Some("the endpoint answered 410 Gone".into()),
        };
    }
    let failing_since = state.failing_since.unwrap_or(sent.at);
    if sent.at.millis() - failing_since.millis() >= config.disable_after_millis {
        return Verdict {
            retry_at: None,
            disable: Some(format!(
                "every delivery failed for {} hours",
                config.disable_after_millis / 3_600_000
            )),
        };
    }
    let retry_after = match &sent.answer {
        Ok(answer) if matches!(answer.status, 429 | 503) => answer
            .retry_after
            .as_deref()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|s| *s >= 0)
            .map(|s| sent.at.plus_millis((s * 1_000).min(MAX_RETRY_AFTER_MILLIS))),
        _ => None,
    };
    let scheduled = config
        .schedule
        .next_after(attempt, sent.at, random_bytes::<1>()[0]);
    Verdict {
        // Retry-After replaces the schedule's delay, but not its end.
        retry_at: scheduled.map(|at| retry_after.unwrap_or(at)),
        disable: None,
    }
}

fn attempt_entry(
    webhook_id: &str,
    seq: Option<u64>,
    kind: &str,
    attempt: u32,
    trigger: Trigger,
    sent: &Sent,
    next_attempt_at: Option<Timestamp>,
) -> Attempt {
    Attempt {
        id: String::new(),
        at: sent.at,
        webhook_id: webhook_id.to_string(),
        event_seq: seq,
        event_type: kind.to_string(),
        attempt,
        trigger,
        status: if sent.succeeded() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        },
        response_status: sent.answer.as_ref().ok().map(|a| a.status),
        error: sent.answer.as_ref().err().cloned(),
        duration_ms: sent.duration_ms,
        response_body: sent.body_text(),
        next_attempt_at,
    }
}

/// `POST /api/v1/webhooks/{id}/test`: sends a `webhook.test` event now
/// (whatever the endpoint's filter and enabled flag) and answers the attempt.
pub async fn test(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    transport: &impl Transport,
    config: &Config,
    caller: &Caller,
    id: &str,
) -> Result<Attempt> {
    let endpoint = endpoints::get(kv, &caller.account, id)?;
    let webhook_id = format!("test_{}", crate::base::crypto::hex(&random_bytes::<10>()));
    let body = payload::for_test(&endpoint.id, clock.now());
    let attempt = send_now(
        kv,
        clock,
        transport,
        config,
        &caller.account,
        &endpoint,
        &webhook_id,
        None,
        WEBHOOK_TEST,
        1,
        Trigger::Test,
        body,
    )
    .await?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        Action::WebhookTested,
        &format!("webhook:{}", endpoint.id),
    )?;
    Ok(attempt)
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry`: sends that
/// delivery's event again now, with the same `webhook-id`.
pub async fn retry(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    transport: &impl Transport,
    config: &Config,
    caller: &Caller,
    id: &str,
    delivery_id: &str,
) -> Result<Attempt> {
    let endpoint = endpoints::get(kv, &caller.account, id)?;
    let previous = deliveries::get(kv, &caller.account, &endpoint.id, delivery_id)?;
    let body = match previous.event_seq {
        Some(seq) => {
            let event = read_event(kv, &caller.account, seq, clock.now())?
                .ok_or_else(|| Error::Conflict(format!("event {seq} can no longer be read")))?;
            payload::for_event(kv, &caller.account, &event)?
        }
        None => payload::for_test(&endpoint.id, previous.at),
    };
    let attempt = send_now(
        kv,
        clock,
        transport,
        config,
        &caller.account,
        &endpoint,
        &previous.webhook_id,
        previous.event_seq,
        &previous.event_type,
        previous.attempt + 1,
        Trigger::Manual,
        body,
    )
    .await?;
    let target = format!("webhook:{}/delivery:{delivery_id}", endpoint.id);
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        Action::WebhookDeliveryRetried,
        &target,
    )?;
    Ok(attempt)
}

#[allow(clippy::too_many_arguments)]
async fn send_now(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    transport: &impl Transport,
    config: &Config,
    account: &AccountId,
    endpoint: &Endpoint,
    webhook_id: &str,
    seq: Option<u64>,
    kind: &str,
    attempt: u32,
    trigger: Trigger,
    body: Vec<u8>,
) -> Result<Attempt> {
    let secrets = endpoint.signing_secrets(&config.signing_key, account, clock.now());
    let sent = send_signed(transport, clock, &endpoint.url, &secrets, webhook_id, body).await;
    let entry = attempt_entry(webhook_id, seq, kind, attempt, trigger, &sent, None);
    deliveries::record(kv, account, &endpoint.id, entry)
}

/// What `POST /api/v1/webhooks/{id}/replay` asked for.
#[derive(Debug, Serialize)]
pub struct ReplayAccepted {
    /// The first event's `seq` that will be sent again.
    pub from_seq: u64,
    /// The last one (the log's head now).
    pub to_seq: u64,
}

/// Reads `{since}`: an RFC 3339 time or a cursor of `GET /api/v1/events`.
pub fn parse_since(body: &serde_json::Value) -> Result<Since> {
    let mut errors = crate::base::input::Errors::new();
    let object = crate::base::input::Object::new(body, "", &mut errors);
    if let Some(map) = body.as_object() {
        for name in map.keys().filter(|n| *n != "since") {
            errors.add(name.clone(), "is not a field of this request");
        }
    }
    let since = object.and_then(|o| o.required_str("since", 200, &mut errors));
    let parsed = since.and_then(|text| {
        if let Some(at) = Timestamp::parse(&text) {
            return Some(Since::Time(at));
        }
        match decode_seq_cursor("events", Some(&text)) {
            Ok(n) => Some(Since::After(n)),
            Err(_) => {
                errors.add(
                    "since",
                    "must be an RFC 3339 time or a next_cursor of GET /api/v1/events",
                );
                None
            }
        }
    });
    errors.finish_with(parsed)
}

/// Where a replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Events at or after this time.
    Time(Timestamp),
    /// Events after this `seq` (an events cursor).
    After(u64),
}

/// Asks the dispatcher to send again every event since `since` that the
/// endpoint subscribes to (with their original `webhook-id`s).
pub fn replay(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    id: &str,
    since: Since,
) -> Result<ReplayAccepted> {
    let endpoint = endpoints::get(kv, &caller.account, id)?;
    let account = &caller.account;
    let head = events::log(kv, account).head()?;
    let now = clock.now();
    let from = match since {
        Since::After(n) => n + 1,
        Since::Time(at) => first_at_or_after(kv, account, head, at, now)?,
    };
    if from <= head {
        deliveries::replays(kv, account, &endpoint.id).append(|_| Replay {
            v: 1,
            from,
            to: head,
            at: now,
        })?;
    }
    audit::record(
        kv,
        clock,
        account,
        &caller.actor,
        Action::WebhookReplayed,
        &format!("webhook:{}", endpoint.id),
    )?;
    Ok(ReplayAccepted {
        from_seq: from,
        to_seq: head,
    })
}

/// The first event number whose event is at or after `at` (binary search;
/// event times grow with their numbers, give or take concurrent writers).
fn first_at_or_after(
    kv: &dyn KeyValue,
    account: &AccountId,
    head: u64,
    at: Timestamp,
    now: Timestamp,
) -> Result<u64> {
    let (mut low, mut high) = (1u64, head + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        let scan = events::scan(kv, account, mid - 1, 1, now, |e| Ok(Some(e)))?;
        match scan.items.first() {
            Some(event) if event.at < at => low = event.seq + 1,
            Some(_) => high = mid,
            None => high = mid,
        }
    }
    Ok(low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::ids::ConversationId;
    use crate::chat::messages::{self, Author};
    use crate::testing::World;
    use crate::webhooks::transport::{Answer, Outgoing};
    use serde_json::json;
    use std::cell::RefCell;

    const KEY: &[u8] = b"signing-key";

    /// Receivers as a function of the URL and how often it was called;
    /// sleeping moves the manual clock.
    struct Fake<'a> {
        clock: &'a crate::base::time::ManualClock,
        sent: RefCell<Vec<Outgoing>>,
        answer: Box<dyn Fn(&str, usize) -> Result<Answer, String> + 'a>,
    }

    impl Transport for Fake<'_> {
        fn send(&self, request: Outgoing) -> impl Future<Output = Result<Answer, String>> {
            let calls = self
                .sent
                .borrow()
                .iter()
                .filter(|r| r.url == request.url)
                .count();
            let answer = (self.answer)(&request.url, calls);
            self.sent.borrow_mut().push(request);
            async move { answer }
        }
        fn sleep(&self, millis: u64) -> impl Future<Output = ()> {
            // Time passes only for a sleep that is waited on.
            let clock = self.clock;
            futures::future::lazy(move |_| clock.advance(millis as i64))
        }
    }

    fn status(code: u16) -> Result<Answer, String> {
        Ok(Answer {
            status: code,
            ..Answer::default()
        })
    }

    fn config() -> Config {
        Config {
            signing_key: KEY.to_vec(),
            schedule: Schedule(vec![1_000, 2_000]),
            disable_after_millis: 5 * 24 * 3_600_000,
        }
    }

    fn endpoint(world: &World, url: &str, events: Value) -> Endpoint {
        let input = endpoints::parse_create(&json!({"url": url, "events": events}), false).unwrap();
        endpoints::create(&world.kv, &world.clock, &world.caller, input, KEY)
            .unwrap()
            .0
    }

    use serde_json::Value;

    fn post(world: &World, text: &str) {
        let conv = ConversationId::generate();
        messages::append(
            &world.kv,
            &world.clock,
            &world.caller.account,
            &conv,
            Author::visitor(&"v"),
            text,
            crate::api::audit::Line {
                actor: &world.caller.actor,
                action: crate::api::audit::Action::MessageCreated,
                target: format!("conversation:{conv}"),
            },
        )
        .unwrap();
    }

    fn run(world: &World, fake: &Fake<'_>, worker: &str, millis: i64) -> Summary {
        let config = config();
        let dispatcher = Dispatcher {
            kv: &world.kv,
            clock: &world.clock,
            transport: fake,
            config: &config,
            worker,
        };
        futures::executor::block_on(dispatcher.run(millis)).unwrap()
    }

    fn ids_sent_to(fake: &Fake<'_>, url: &str) -> Vec<String> {
        fake.sent
            .borrow()
            .iter()
            .filter(|r| r.url == url)
            .map(|r| {
                r.headers
                    .iter()
                    .find(|(n, _)| n == "webhook-id")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect()
    }

    #[test]
    fn every_wanted_event_reaches_every_endpoint_once_with_a_stable_id() {
        let world = World::new();
        let all = endpoint(&world, "https://a.example/", Value::Null);
        let none = endpoint(&world, "https://b.example/", json!(["agent.updated"]));
        post(&world, "one");
        post(&world, "two");
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, _| status(204)),
        };
        run(&world, &fake, "w1", 2_000);
        assert_eq!(
            ids_sent_to(&fake, "https://a.example/"),
            [webhook_id(&all.id, 1), webhook_id(&all.id, 2)]
        );
        assert!(
            ids_sent_to(&fake, "https://b.example/").is_empty(),
            "{:?}",
            none.id
        );
        // Progress is durable: another request of the same worker sends nothing again.
        run(&world, &fake, "w1", 2_000);
        assert_eq!(ids_sent_to(&fake, "https://a.example/").len(), 2);
        let body: Value = serde_json::from_slice(&fake.sent.borrow()[0].body).unwrap();
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["data"]["message"]["text"], "one");
    }

    #[test]
    fn a_failed_delivery_is_retried_on_schedule_with_its_id_then_marked_failed() {
        let world = World::new();
        let e = endpoint(&world, "https://a.example/", Value::Null);
        post(&world, "one");
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, _| status(500)),
        };
        run(&world, &fake, "w1", 10_000);
        let id = webhook_id(&e.id, 1);
        assert_eq!(
            ids_sent_to(&fake, "https://a.example/"),
            [id.clone(), id.clone(), id]
        );
        let log = deliveries::page(
            &world.kv,
            &world.clock,
            &world.caller.account,
            &e.id,
            None,
            10,
            None,
        )
        .unwrap();
        let attempts: Vec<(u32, bool)> = log
            .items
            .iter()
            .map(|a| (a.attempt, a.next_attempt_at.is_some()))
            .collect();
        assert_eq!(attempts, [(1, true), (2, true), (3, false)]);
    }

    #[test]
    fn gone_disables_the_endpoint_and_audits_why() {
        let world = World::new();
        let e = endpoint(&world, "https://a.example/", Value::Null);
        post(&world, "one");
        post(&world, "two");
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, _| status(410)),
        };
        run(&world, &fake, "w1", 5_000);
        assert_eq!(fake.sent.borrow().len(), 1);
        let now = endpoints::get(&world.kv, &world.caller.account, e.id.as_str()).unwrap();
        assert!(!now.enabled);
        let audit = audit::page(
            &world.kv,
            &world.clock,
            &world.caller.account,
            None,
            10,
            Some("webhook.disabled"),
        )
        .unwrap();
        assert_eq!(audit.items.len(), 1);
        assert_eq!(audit.items[0].actor, "system");
    }

    #[test]
    fn retry_after_replaces_the_scheduled_delay() {
        let world = World::new();
        endpoint(&world, "https://a.example/", Value::Null);
        post(&world, "one");
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, calls| match calls {
                0 => Ok(Answer {
                    status: 503,
                    retry_after: Some("7".into()),
                    body_prefix: vec![],
                }),
                _ => status(200),
            }),
        };
        let start = world.clock.now();
        run(&world, &fake, "w1", 3_000);
        assert_eq!(fake.sent.borrow().len(), 1, "not before Retry-After");
        run(&world, &fake, "w1", 6_000);
        assert_eq!(fake.sent.borrow().len(), 2);
        assert!(world.clock.now().millis() - start.millis() >= 7_000);
    }

    #[test]
    fn a_second_dispatcher_leaves_a_leased_endpoint_alone() {
        let world = World::new();
        endpoint(&world, "https://a.example/", Value::Null);
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, _| status(200)),
        };
        run(&world, &fake, "w1", 100);
        post(&world, "one");
        run(&world, &fake, "w2", 1_000);
        assert!(fake.sent.borrow().is_empty(), "w1 holds the lease");
        run(&world, &fake, "w1", 1_000);
        assert_eq!(fake.sent.borrow().len(), 1);
        // Once w1 stops renewing, w2 takes over within two windows.
        post(&world, "two");
        run(&world, &fake, "w2", 3 * WINDOW_MILLIS);
        assert_eq!(fake.sent.borrow().len(), 2);
    }

    #[test]
    fn a_replay_sends_past_events_again_with_their_ids() {
        let world = World::new();
        let e = endpoint(&world, "https://a.example/", Value::Null);
        post(&world, "one");
        post(&world, "two");
        let fake = Fake {
            clock: &world.clock,
            sent: RefCell::new(Vec::new()),
            answer: Box::new(|_, _| status(200)),
        };
        run(&world, &fake, "w1", 2_000);
        let accepted = replay(
            &world.kv,
            &world.clock,
            &world.caller,
            e.id.as_str(),
            Since::After(1),
        )
        .unwrap();
        assert_eq!((accepted.from_seq, accepted.to_seq), (2, 2));
        run(&world, &fake, "w1", 3_000);
        let ids = ids_sent_to(&fake, "https://a.example/");
        assert_eq!(
            ids,
            [
                webhook_id(&e.id, 1),
                webhook_id(&e.id, 2),
                webhook_id(&e.id, 2)
            ]
        );
        let since = parse_since(&json!({"since": "2020-01-01T00:00:00Z"})).unwrap();
        assert_eq!(
            replay(&world.kv, &world.clock, &world.caller, e.id.as_str(), since)
                .unwrap()
                .from_seq,
            1
        );
        assert!(parse_since(&json!({"since": "yesterday"})).is_err());
    }
}
