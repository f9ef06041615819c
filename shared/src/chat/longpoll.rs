//! Long-polling: answer as soon as something arrives after the cursor, or
//! with an empty page when `wait` runs out.
//!
//! A Spin component cannot be woken by the store, so it polls it: first one
//! full read (which also passes stale gaps, see [`crate::storage::seqlog`]), then, until
//! the deadline, a cheap probe every [`PROBE_INTERVAL_MILLIS`] — one `exists`
//! of the entry right after the cursor, never `increment(key, 0)` (a write
//! transaction on SQLite) — and a full read only when the probe says yes.
//! A reply lands in a waiting poll within about one interval.

use crate::base::error::{Error, Result};
use crate::base::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::base::time::Clock;
use crate::storage::seqlog::Log;
use serde::de::DeserializeOwned;

/// The longest `wait` a client may ask for.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How often a waiting poll probes the store.
pub const PROBE_INTERVAL_MILLIS: u64 = 5;

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
/// `wait_millis` have passed. Between reads it calls `ready(position)`, a
/// cheap probe for the entry after `position`, and `sleep` when there is
/// nothing yet.
pub fn poll<T>(
    clock: &dyn Clock,
    after: u64,
    wait_millis: i64,
    mut read: impl FnMut(u64) -> Result<(Vec<T>, u64)>,
    mut ready: impl FnMut(u64) -> Result<bool>,
    sleep: &dyn Fn(),
) -> Result<(Vec<T>, u64)> {
    let deadline = clock.now().plus_millis(wait_millis);
    let (mut items, mut position) = read(after)?;
    while items.is_empty() && clock.now() < deadline {
        if ready(position)? {
            (items, position) = read(position)?;
            if items.is_empty() {
                // The entry is there but not yet readable (it commits a write
                // still to come): wait an interval rather than spin.
                sleep();
            }
        } else {
            sleep();
        }
    }
    Ok((items, position))
}

/// The `sleep` for [`poll`] in a component: blocks for one probe interval
/// (on `wasm32-wasip2` a WASI monotonic-clock wait, which the host serves
/// without holding a thread).
pub fn sleep_interval() {
    std::thread::sleep(std::time::Duration::from_millis(PROBE_INTERVAL_MILLIS));
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

/// A page of `log` after `query.cursor` (a sequence cursor of `kind`); with
/// a wait it long-polls until an entry arrives. The body of every endpoint
/// that pages a whole log: events, a conversation's messages.
pub fn page_of_log<T: DeserializeOwned>(
    log: &Log<'_>,
    clock: &dyn Clock,
    kind: &str,
    query: &Query,
    sleep: &dyn Fn(),
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
        |position| log.has(position + 1),
        sleep,
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
            &|| clock.advance(PROBE_INTERVAL_MILLIS as i64),
        )
        .unwrap();
        assert_eq!((items, position), (vec![8], 8));
        assert_eq!(
            reads.get(),
            2,
            "one read up front, one when the probe fired"
        );
        assert!(clock.now().millis() < arrived_at + 10);
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
            &|| clock.advance(PROBE_INTERVAL_MILLIS as i64),
        )
        .unwrap();
        assert!(items.is_empty());
        assert_eq!(position, 3);
        assert_eq!(clock.now().millis(), 1_000);
    }
}
