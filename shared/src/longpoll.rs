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
use crate::time::Clock;

/// The longest `wait` a client may ask for.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How often a waiting poll probes the store.
pub const PROBE_INTERVAL_MILLIS: u64 = 5;

/// Reads `?wait=`: absent or empty is 0 (answer at once); otherwise seconds
/// from 0 to [`MAX_WAIT_SECONDS`], fractions allowed. Returns milliseconds.
pub fn parse_wait(param: Option<&str>) -> Result<i64> {
    match param.map(str::trim) {
        None | Some("") => Ok(0),
        Some(text) => match text.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..=MAX_WAIT_SECONDS as f64).contains(&s) => {
                Ok((s * 1_000.0) as i64)
            }
            _ => Err(Error::field(
                "wait",
                format!("must be a number of seconds from 0 to {MAX_WAIT_SECONDS}"),
            )),
        },
    }
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
