//! Long-polling: answer as soon as something arrives after the cursor, or
//! with an empty page when `wait` runs out.
//!
//! A Spin component cannot be woken by the store, so it polls it: first one
//! full read (which also passes stale gaps, see [`crate::storage::seqlog`]), then, until
//! the deadline, a cheap probe — one `exists` of the entry right after the
//! cursor, never `increment(key, 0)` (a write transaction on SQLite) — and a
//! full read only when the probe says yes.
//!
//! **What a waiting chat costs** is its probes. They start
//! [`FIRST_PROBE_MILLIS`] apart, since the poll that follows a message is
//! the likeliest to see the next one soon (a burst of messages, an agent
//! typing a second line), and spread out by a quarter each time to
//! [`QUIET_PROBE_MILLIS`], where a quiet chat stays, probing on the shared
//! beat of [`until_next_beat`]: about eight probes a second, and a reply
//! reaches it within [`QUIET_PROBE_MILLIS`].
//!
//! **Waiting is budgeted.** A poll that has to wait first takes a slot
//! ([`crate::chat::waiting`]); past the budget it is refused at once with a
//! retryable 503 instead of holding one more instance of the runtime's pool.

use crate::base::error::{Error, Result};
use crate::base::ids::AccountId;
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::Clock;
use crate::chat::waiting::{self, Limits};
use crate::storage::seqlog::Log;
use crate::storage::store::KeyValue;
use serde::de::DeserializeOwned;

/// The longest `wait` a client may ask for.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// The first probe interval of a waiting poll.
pub const FIRST_PROBE_MILLIS: u64 = 10;
/// The interval a quiet poll settles at: the longest a reply waits to be seen.
pub const QUIET_PROBE_MILLIS: u64 = 120;

/// The interval after `interval`: a quarter longer, up to
/// [`QUIET_PROBE_MILLIS`].
pub fn next_interval(interval: u64) -> u64 {
    (interval + interval.div_ceil(4)).min(QUIET_PROBE_MILLIS)
}

/// Milliseconds from `now` (wall-clock milliseconds) to the next beat: the
/// next multiple of [`QUIET_PROBE_MILLIS`], 1 to [`QUIET_PROBE_MILLIS`].
///
/// Quiet polls probe on the beat rather than each on its own phase, so
/// that a host with many waiting chats wakes once per beat for all of them
/// and runs their probes back to back, instead of waking for each.
pub fn until_next_beat(now: i64) -> u64 {
    let quiet = QUIET_PROBE_MILLIS as i64;
    (quiet - now.rem_euclid(quiet)) as u64
}

/// What a long-poll borrows from the component that runs it: a way to
/// sleep, and the waiting budgets.
#[derive(Clone, Copy)]
pub struct Wait<'a> {
    /// Blocks for this many milliseconds.
    pub sleep: &'a dyn Fn(u64),
    /// How many polls may wait at once.
    pub limits: Limits,
}

/// A wait that never sleeps, with the default budgets: for unit tests on
/// a manual clock.
#[cfg(test)]
pub const NO_SLEEP: Wait<'static> = Wait {
    sleep: &|_| {},
    limits: Limits {
        total: waiting::DEFAULT_SLOTS,
        per_account: waiting::DEFAULT_SLOTS_PER_ACCOUNT,
    },
};

impl Wait<'static> {
    /// A component's: [`sleep_millis`] and the given budgets.
    pub fn in_component(limits: Limits) -> Wait<'static> {
        Wait {
            sleep: &sleep_millis,
            limits,
        }
    }
}

/// Reads `?wait=`: absent or empty is 0 (answer at once); otherwise seconds
/// from 0 to [`MAX_WAIT_SECONDS`], fractions allowed. Returns milliseconds.
pub fn parse_wait(param: Option<&str>) -> Result<i64> {
    match param.map(str::trim) {
        None | Some("") => Ok(0),
        Some(text) => decimal_seconds_to_millis(text).ok_or_else(|| {
            Error::field(
                "wait",
                format!("must be a number of seconds from 0 to {MAX_WAIT_SECONDS}"),
            )
        }),
    }
}

/// Whole milliseconds (rounded down) of a plain decimal number of seconds
/// from 0 to [`MAX_WAIT_SECONDS`]: digits with an optional fraction (`2`,
/// `0.5`, `.5`, `3.`), no sign, no exponent. Computed exactly in integers,
/// not with `str::parse::<f64>` (whose tables would add ~15 KB to every
/// long-polling component, and which reads `1e1` or `inf` too).
fn decimal_seconds_to_millis(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 2 {
        return None; // at least 100 seconds
    }
    let seconds: i64 = whole.parse().unwrap_or(0);
    let mut millis = seconds * 1_000;
    for (i, digit) in fraction.bytes().take(3).enumerate() {
        millis += i64::from(digit - b'0') * [100, 10, 1][i];
    }
    let exact = fraction.bytes().skip(3).all(|d| d == b'0');
    let max_millis = MAX_WAIT_SECONDS as i64 * 1_000;
    (millis < max_millis || (millis == max_millis && exact)).then_some(millis)
}

/// Runs `read(after)` (items and the new position) until it yields items or
/// `wait_millis` have passed. When the first read finds nothing it takes a
/// waiting slot with `claim` (held until it returns), then sleeps and calls
/// `ready(position)`, a cheap probe for the entry after `position`, on the
/// schedule of [`next_interval`].
pub fn poll<T, S>(
    clock: &dyn Clock,
    after: u64,
    wait_millis: i64,
    mut read: impl FnMut(u64) -> Result<(Vec<T>, u64)>,
    mut ready: impl FnMut(u64) -> Result<bool>,
    claim: impl FnOnce() -> Result<S>,
    sleep: &dyn Fn(u64),
) -> Result<(Vec<T>, u64)> {
    let deadline = clock.now().plus_millis(wait_millis);
    let (mut items, mut position) = read(after)?;
    if !items.is_empty() || clock.now() >= deadline {
        return Ok((items, position));
    }
    let _slot = claim()?;
    let mut interval = FIRST_PROBE_MILLIS;
    while items.is_empty() {
        let now = clock.now().millis();
        let remaining = deadline.millis() - now;
        if remaining <= 0 {
            break;
        }
        let pause = if interval < QUIET_PROBE_MILLIS {
            interval
        } else {
            until_next_beat(now)
        };
        sleep(pause.min(remaining as u64));
        // An entry the probe sees may not be readable yet (it commits a
        // write still to come): then the next interval comes first.
        if ready(position)? {
            (items, position) = read(position)?;
        }
        interval = next_interval(interval);
    }
    Ok((items, position))
}

/// Takes a waiting slot for a poll of `account` ([`waiting::claim`]).
pub fn claim_slot<'a>(
    kv: &'a dyn KeyValue,
    clock: &'a dyn Clock,
    account: &'a AccountId,
    limits: Limits,
) -> impl FnOnce() -> Result<waiting::Slot<'a>> + 'a {
    move || waiting::claim(kv, clock, account, limits)
}

/// The `sleep` of [`Wait`] in a component: on `wasm32-wasip2` a WASI
/// monotonic-clock wait, which the host serves without holding a thread.
pub fn sleep_millis(millis: u64) {
    std::thread::sleep(std::time::Duration::from_millis(millis));
}

/// What a long-polling list request asks for: `?cursor=&limit=&wait=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Continue after this cursor (absent: from the start).
    pub cursor: Option<String>,
    /// At most this many items.
    pub limit: usize,
    /// Wait up to this long for the first item (0: answer at once).
    pub wait_millis: i64,
}

impl Query {
    /// The first `limit` items, without waiting.
    pub fn first(limit: usize) -> Query {
        Query {
            cursor: None,
            limit,
            wait_millis: 0,
        }
    }
}

/// A page of `log` (one of `account`'s) after `query.cursor` (a sequence
/// cursor of `kind`); with a wait it long-polls until an entry arrives. The
/// body of every endpoint that pages a whole log: events, a conversation's
/// messages.
pub fn page_of_log<T: DeserializeOwned>(
    log: &Log<'_>,
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    kind: &str,
    query: &Query,
    wait: Wait<'_>,
) -> Result<Page<T>> {
    let (limit, wait_millis) = (query.limit, query.wait_millis);
    let after = decode_seq_cursor(kind, query.cursor.as_deref())?;
    let (items, position) = poll(
        clock,
        after,
        wait_millis,
        |after| {
            let scan = log.scan(after, limit, clock.now(), |_: &T| true)?;
            Ok((scan.items, scan.position))
        },
        log.next_after(),
        claim_slot(kv, clock, account, wait.limits),
        wait.sleep,
    )?;
    Ok(Page {
        items,
        next_cursor: encode_cursor(kind, &position.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::{ManualClock, Timestamp};
    use std::cell::Cell;

    #[test]
    fn wait_accepts_seconds_up_to_thirty() {
        assert_eq!(parse_wait(None), Ok(0));
        assert_eq!(parse_wait(Some("2")), Ok(2_000));
        assert_eq!(parse_wait(Some("0.5")), Ok(500));
        assert_eq!(parse_wait(Some("30")), Ok(30_000));
        for bad in ["31", "-1", "soon", "NaN", "inf"] {
            assert!(parse_wait(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn wait_reads_plain_decimals_exactly() {
        let cases = [
            ("1.5", Some(1_500)),
            (" 0.25 ", Some(250)),
            (".5", Some(500)),
            ("3.", Some(3_000)),
            ("0.0009", Some(0)),
            ("0.0019", Some(1)),
            ("30.000", Some(30_000)),
            ("030", Some(30_000)),
            ("0", Some(0)),
            ("", Some(0)),
            ("30.001", None),
            ("100", None),
            ("1e1", None),
            ("3E+1", None),
            ("+2", None),
            ("-0", None),
            ("-0.5", None),
            (".", None),
            ("1.2.3", None),
            ("0x10", None),
            ("1_0", None),
            ("infinity", None),
        ];
        for (text, millis) in cases {
            assert_eq!(parse_wait(Some(text)).ok(), millis, "{text:?}");
        }
    }

    /// A clock-advancing sleep for [`poll`] on a manual clock.
    fn advancing(clock: &ManualClock) -> impl Fn(u64) + '_ {
        |millis| clock.advance(millis as i64)
    }

    fn no_slot_needed() -> Result<()> {
        Ok(())
    }

    #[test]
    fn a_poll_returns_as_soon_as_the_probe_sees_an_entry() {
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let arrived_at = 50;
        let reads = Cell::new(0);
        let (items, position) = poll(
            &clock,
            7,
            10_000,
            |after| {
                reads.set(reads.get() + 1);
                Ok(if clock.now().millis() >= arrived_at {
                    (vec![after + 1], after + 1)
                } else {
                    (vec![], after)
                })
            },
            |_| Ok(clock.now().millis() >= arrived_at),
            no_slot_needed,
            &advancing(&clock),
        )
        .unwrap();
        assert_eq!((items, position), (vec![8], 8));
        assert_eq!(
            reads.get(),
            2,
            "one read up front, one when the probe fired"
        );
        assert!(
            clock.now().millis() < arrived_at + 20,
            "early probes are close together"
        );
    }

    /// When `probe` fires, over a whole quiet poll of `wait` ms that starts
    /// at `start` on a manual clock.
    fn probe_times(start: i64, wait: i64) -> Vec<i64> {
        let clock = ManualClock::at(Timestamp::from_millis(start));
        let probes = Cell::new(Vec::new());
        poll(
            &clock,
            0,
            wait,
            |after| Ok((Vec::<u64>::new(), after)),
            |_| {
                let mut at = probes.take();
                at.push(clock.now().millis());
                probes.set(at);
                Ok(false)
            },
            no_slot_needed,
            &advancing(&clock),
        )
        .unwrap();
        probes.take()
    }

    #[test]
    fn a_quiet_poll_settles_on_the_beat() {
        let at = probe_times(0, 20_000);
        assert_eq!(at[0], FIRST_PROBE_MILLIS as i64);
        let quiet = QUIET_PROBE_MILLIS as i64;
        // It speeds down (never up) to the quiet interval...
        let ramp = at.iter().position(|t| t % quiet == 0).unwrap();
        let gaps: Vec<i64> = at[..=ramp].windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.windows(2).all(|g| g[1] >= g[0]),
            "never tightens: {gaps:?}"
        );
        // ...then probes on every beat until the deadline.
        let beats = &at[ramp..at.len() - 1];
        assert!(beats.windows(2).all(|w| w[1] - w[0] == quiet), "{at:?}");
        assert_eq!(*at.last().unwrap(), 20_000, "a last probe at the deadline");
        // About 20 s / 120 ms probes, plus the faster start.
        let expected = 20_000 / QUIET_PROBE_MILLIS as usize;
        assert!(
            at.len() > expected && at.len() < expected + 15,
            "{} probes",
            at.len()
        );
    }

    #[test]
    fn quiet_polls_that_started_apart_probe_together() {
        let first = probe_times(1_000, 5_000);
        let second = probe_times(1_037, 5_000);
        let quiet = |at: &[i64]| -> Vec<i64> {
            at.iter()
                .copied()
                .filter(|t| t % QUIET_PROBE_MILLIS as i64 == 0)
                .collect()
        };
        let shared: Vec<i64> = quiet(&first)
            .into_iter()
            .filter(|t| quiet(&second).contains(t))
            .collect();
        assert!(shared.len() > 30, "{first:?} vs {second:?}");
    }

    #[test]
    fn the_beat_is_never_more_than_a_quiet_interval_away() {
        let quiet = QUIET_PROBE_MILLIS as i64;
        for now in [0, 1, quiet - 1, quiet, 5 * quiet + 7, 1_764_000_000_123] {
            let pause = until_next_beat(now) as i64;
            assert!(pause >= 1 && pause <= quiet, "{now}: {pause}");
            assert_eq!((now + pause) % quiet, 0, "{now}");
        }
    }

    #[test]
    fn an_idle_poll_returns_empty_at_its_deadline() {
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let (items, position) = poll(
            &clock,
            3,
            1_000,
            |after| Ok((Vec::<u64>::new(), after)),
            |_| Ok(false),
            no_slot_needed,
            &advancing(&clock),
        )
        .unwrap();
        assert!(items.is_empty());
        assert_eq!(position, 3);
        assert_eq!(clock.now().millis(), 1_000);
    }

    #[test]
    fn only_a_poll_that_waits_takes_a_slot() {
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let refuse = || -> Result<()> { Err(Error::BadRequest("no slot".into())) };
        // Something to answer at once, or no wait asked for: no slot.
        let found = poll(
            &clock,
            0,
            5_000,
            |a| Ok((vec![a + 1], a + 1)),
            |_| Ok(true),
            refuse,
            &advancing(&clock),
        );
        assert_eq!(found.unwrap().0, vec![1]);
        let at_once = poll(
            &clock,
            0,
            0,
            |a| Ok((Vec::<u64>::new(), a)),
            |_| Ok(true),
            refuse,
            &advancing(&clock),
        );
        assert!(at_once.unwrap().0.is_empty());
        // A poll that would wait is refused before it sleeps.
        let before = clock.now();
        let refused = poll(
            &clock,
            0,
            5_000,
            |a| Ok((Vec::<u64>::new(), a)),
            |_| Ok(false),
            refuse,
            &advancing(&clock),
        );
        assert!(refused.is_err());
        assert_eq!(clock.now(), before);
    }
}
