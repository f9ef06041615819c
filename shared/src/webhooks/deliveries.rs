//! What happened to each delivery: the endpoint's attempt log
//! (`GET /api/v1/webhooks/{id}/deliveries`), and the replays asked for.
//!
//! Every attempt — by the dispatcher, a test, a manual retry — appends one
//! entry to the endpoint's log (an atomic sequence, one key per entry, see
//! [`crate::storage::seqlog`]), so listing costs O(page). An entry keeps
//! the first [`RESPONSE_PREFIX_BYTES`] of the receiver's answer as text;
//! it is JSON data for the API and is never rendered anywhere.

use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, WebhookId};
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::{Clock, Timestamp};
use crate::storage::keys;
use crate::storage::seqlog::Log;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};

/// How much of a receiver's response body is kept.
pub const RESPONSE_PREFIX_BYTES: usize = 1024;
/// Default page of the attempt list.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page of the attempt list.
pub const MAX_PAGE: usize = 200;
const CURSOR_KIND: &str = "deliveries";

/// Why an attempt was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The event's first attempt.
    Event,
    /// A scheduled retry.
    Retry,
    /// A replay asked for through the API.
    Replay,
    /// `POST …/deliveries/{id}/retry`.
    Manual,
    /// `POST …/test`.
    Test,
}

/// One delivery attempt, as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its number in the endpoint's log, as a string: the `delivery_id` of
    /// `POST …/deliveries/{delivery_id}/retry`.
    pub id: String,
    /// When it was sent.
    pub at: Timestamp,
    /// The `webhook-id` it carried (the same for every attempt of one
    /// event to one endpoint).
    pub webhook_id: String,
    /// The event's `seq` in the account's event log (none for tests).
    pub event_seq: Option<u64>,
    /// The event's type.
    pub event_type: String,
    /// 1 for the first attempt of this event, then 2, 3, …
    pub attempt: u32,
    /// Why it was made.
    pub trigger: Trigger,
    /// `succeeded` (a 2xx) or `failed`.
    pub status: Outcome,
    /// The receiver's status code, if it answered.
    pub response_status: Option<u16>,
    /// What went wrong when there was no answer (timeout, connection).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// The start of the receiver's answer, as text.
    pub response_body: String,
    /// When the next attempt is due; none when it succeeded, or when the
    /// schedule is exhausted or the endpoint was disabled.
    pub next_attempt_at: Option<Timestamp>,
}

/// Whether an attempt worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// Anything else.
    Failed,
}

impl Outcome {
    /// Reads `?status=`.
    pub fn parse_filter(param: Option<&str>) -> Result<Option<Outcome>> {
        match param {
            None | Some("") => Ok(None),
            Some("succeeded") => Ok(Some(Outcome::Succeeded)),
            Some("failed") => Ok(Some(Outcome::Failed)),
            Some(_) => Err(Error::field(
                "status",
                "must be \"succeeded\" or \"failed\"",
            )),
        }
    }
}

#[derive(Serialize)]
struct Stored<'a> {
    v: u32,
    #[serde(flatten)]
    attempt: &'a Attempt,
}

fn attempts<'a>(kv: &'a dyn KeyValue, account: &'a AccountId, endpoint: &'a WebhookId) -> Log<'a> {
    Log::new(kv, keys::webhook_attempt_seq(account, endpoint), move |n| {
        keys::webhook_attempt(account, endpoint, n)
    })
}

/// Appends an attempt (its `id` is set here) and returns it.
pub fn record(
    kv: &dyn KeyValue,
    account: &AccountId,
    endpoint: &WebhookId,
    mut attempt: Attempt,
) -> Result<Attempt> {
    let log = attempts(kv, account, endpoint);
    let n = log.reserve()?;
    attempt.id = n.to_string();
    log.put(
        n,
        &Stored {
            v: 1,
            attempt: &attempt,
        },
    )?;
    Ok(attempt)
}

/// A page of the endpoint's attempts, oldest first, optionally only one outcome.
pub fn page(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    endpoint: &WebhookId,
    cursor: Option<&str>,
    limit: usize,
    status: Option<Outcome>,
) -> Result<Page<Attempt>> {
    let after = decode_seq_cursor(CURSOR_KIND, cursor)?;
    let scan = attempts(kv, account, endpoint).scan(after, limit, clock.now(), |a: &Attempt| {
        status.is_none_or(|s| a.status == s)
    })?;
    Ok(Page {
        items: scan.items,
        next_cursor: encode_cursor(CURSOR_KIND, &scan.position.to_string()),
    })
}

/// One attempt by its id (404 otherwise).
pub fn get(
    kv: &dyn KeyValue,
    account: &AccountId,
    endpoint: &WebhookId,
    id: &str,
) -> Result<Attempt> {
    let not_found = || {
        Error::NotFound(format!(
            "there is no delivery {:?} of this endpoint",
            id.chars().take(40).collect::<String>()
        ))
    };
    let n: u64 = id
        .parse()
        .ok()
        .filter(|n: &u64| *n > 0 && n.to_string() == id)
        .ok_or_else(not_found)?;
    let value = attempts(kv, account, endpoint)
        .entry(n)?
        .flatten()
        .ok_or_else(not_found)?;
    serde_json::from_value(value).map_err(|e| Error::Corrupt(format!("attempt {n}: {e}")))
}

/// A replay asked for: re-send the events `from..=to` of the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// Schema version.
    pub v: u32,
    /// The first event's `seq`.
    pub from: u64,
    /// The last event's `seq` (the log's head when it was asked for).
    pub to: u64,
    /// When it was asked for.
    pub at: Timestamp,
}

pub(crate) fn replays<'a>(
    kv: &'a dyn KeyValue,
    account: &'a AccountId,
    endpoint: &'a WebhookId,
) -> Log<'a> {
    Log::new(kv, keys::webhook_replay_seq(account, endpoint), move |n| {
        keys::webhook_replay(account, endpoint, n)
    })
}

/// The retry schedule: the delays after the 1st, 2nd, … failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(pub Vec<i64>);

impl Schedule {
    /// Svix's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    pub fn standard() -> Schedule {
        Schedule(
            [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .iter()
                .map(|s| s * 1_000)
                .collect(),
        )
    }

    /// Reads the `webhook_retry_schedule` variable: delays separated by
    /// commas, each a number with `ms`, `s`, `m` or `h` (`5s,5m,30m,2h`).
    /// Empty: the standard schedule.
    pub fn parse(text: &str) -> std::result::Result<Schedule, String> {
        if text.trim().is_empty() {
            return Ok(Schedule::standard());
        }
        text.split(',')
            .map(|part| {
                let part = part.trim();
                let split = part
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(part.len());
                let (number, unit) = part.split_at(split);
                let n: i64 = number.parse().map_err(|_| format!("bad delay {part:?}"))?;
                let scale = match unit {
                    "ms" => 1,
                    "s" => 1_000,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    _ => return Err(format!("bad unit in {part:?} (ms, s, m or h)")),
                };
                Ok(n * scale)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Schedule)
    }

    /// When attempt `made + 1` is due after `made` attempts failed, with
    /// ±10 % jitter (so that a receiver coming back is not hit by every
    /// retry at once); `None` when the schedule is exhausted.
    pub fn next_after(&self, made: u32, failed_at: Timestamp, jitter: u8) -> Option<Timestamp> {
        let delay = *self.0.get(made.checked_sub(1)? as usize)?;
        let spread = delay / 10;
        let offset = spread * (i64::from(jitter) - 128) / 128;
        Some(failed_at.plus_millis(delay + offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_with_units_and_default_to_svixs() {
        assert_eq!(
            Schedule::parse("500ms, 2s,1m,1h").unwrap().0,
            [500, 2_000, 60_000, 3_600_000]
        );
        assert_eq!(Schedule::parse("").unwrap(), Schedule::standard());
        assert!(Schedule::parse("5x").is_err());
        assert!(Schedule::parse("s").is_err());
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_then_stop() {
        let schedule = Schedule(vec![10_000, 60_000]);
        let t = Timestamp::from_millis(0);
        assert_eq!(schedule.next_after(1, t, 128), Some(t.plus_millis(10_000)));
        let early = schedule.next_after(1, t, 0).unwrap().millis();
        let late = schedule.next_after(1, t, 255).unwrap().millis();
        assert!((9_000..10_000).contains(&early) && (10_000..11_000).contains(&late));
        assert_eq!(schedule.next_after(2, t, 128), Some(t.plus_millis(60_000)));
        assert_eq!(schedule.next_after(3, t, 128), None);
    }
}
