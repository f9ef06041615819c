//! Long-polling: answer as soon as something arrives after the cursor, or
//! with an empty page when `wait` runs out.
//!
//! A Spin component cannot be woken by the store, so it polls it: first one
//! full read (which also passes stale gaps, see [`crate::seqlog`]), then, until
//! the deadline, a cheap probe every [`PROBE_INTERVAL_MILLIS`] — one `exists`
//! of the entry right after the cursor, never `increment(key, 0)` (a write
//! transaction on SQLite) — and a full read only when the probe says yes.
//! A reply lands in a waiting poll within about one interval.

use crate::error::{Error, Result};
use crate::paging::{Page, decode_seq_cursor, encode_cursor};
use crate::seqlog::Log;
use crate::time::Clock;
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

/// Whole milliseconds (rounded down) of a decimal number of seconds from 0
/// to [`MAX_WAIT_SECONDS`]: the syntax of `f64`'s `FromStr` (`2`, `+0.5`,
/// `.5`, `1.`, `1e1`), computed exactly in integers. Not `str::parse::<f64>`:
/// its tables and slow path alone are ~15 KB of every long-polling component.
fn decimal_seconds_to_millis(text: &str) -> Option<i64> {
    let (negative, text) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // The value is `digits` × 10^`scale`.
    let mut scale = -(fraction.len() as i64);
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
        // Saturating: only whether it is far out of range matters.
        let magnitude = digits.bytes().fold(0i64, |n, b| {
            (n * 10 + i64::from(b - b'0')).min(1_000_000_000)
        });
        scale += if exponent.starts_with('-') {
            -magnitude
        } else {
            magnitude
        };
    }
    let digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    let significant = match digits.iter().position(|&d| d != b'0') {
        None => return Some(0), // zero, whatever its sign and exponent
        Some(first) => &digits[first..],
    };
    if negative {
        return None;
    }
    // Digits before the decimal point once scaled to milliseconds.
    let whole_millis_digits = significant.len() as i64 + scale + 3;
    if whole_millis_digits > 5 {
        return None; // at least 100 seconds
    }
    let taken = whole_millis_digits.max(0) as usize;
    let mut millis = 0i64;
    for i in 0..taken {
        let digit = significant.get(i).map_or(0, |d| i64::from(d - b'0'));
        millis = millis * 10 + digit;
    }
    let exact = significant.iter().skip(taken).all(|&d| d == b'0');
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

/// A page of `log` after `cursor` (a sequence cursor of `kind`); with
/// `wait_millis > 0` it long-polls until an entry arrives. The body of every
/// endpoint that pages a whole log: events, a conversation's messages.
pub fn page_of_log<T: DeserializeOwned>(
    log: &Log<'_>,
    clock: &dyn Clock,
    kind: &str,
    cursor: Option<&str>,
    limit: usize,
    wait_millis: i64,
    sleep: &dyn Fn(),
) -> Result<Page<T>> {
    let after = decode_seq_cursor(kind, cursor)?;
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
    use crate::time::{ManualClock, Timestamp};
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
    fn wait_reads_decimals_like_a_float_would() {
        let cases = [
            ("1.5", Some(1_500)),
            (" 0.25 ", Some(250)),
            ("+2", Some(2_000)),
            (".5", Some(500)),
            ("3.", Some(3_000)),
            ("1e1", Some(10_000)),
            ("3E+1", Some(30_000)),
            ("2500e-2", Some(25_000)),
            ("0.0009", Some(0)),
            ("0.0019", Some(1)),
            ("30.000", Some(30_000)),
            ("030", Some(30_000)),
            ("-0", Some(0)),
            ("0e999999999999999999999", Some(0)),
            ("1e-999999999999999999999", Some(0)),
            ("30.001", None),
            ("1e2", None),
            ("1e999999999999999999999", None),
            ("-0.5", None),
            (".", None),
            ("", Some(0)),
            ("1e", None),
            ("e1", None),
            ("1.2.3", None),
            ("0x10", None),
            ("1_0", None),
            ("++1", None),
            ("infinity", None),
        ];
        for (text, millis) in cases {
            assert_eq!(parse_wait(Some(text)).ok(), millis, "{text:?}");
            if let Ok(seconds) = text.trim().parse::<f64>() {
                let float = (seconds.is_finite() && (0.0..=30.0).contains(&seconds))
                    .then(|| (seconds * 1_000.0) as i64);
                if !text.trim().is_empty() {
                    assert_eq!(float, millis, "{text:?} as f64");
                }
            }
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
