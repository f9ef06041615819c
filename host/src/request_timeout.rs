//! `--request-timeout`: how long one request may keep its component running.
//!
//! Spin (3.6, 4.0) has the flag, with no default (no limit), and applies it
//! only to WASIp3 components: a WASIp2 guest that loops forever keeps one of
//! its worker threads busy for good. The local runtime takes the same flag,
//! with the same syntax and the same default, and applies it to the WASIp2
//! components it runs, with the meaning Spin gives it for WASIp3: wall-clock
//! time from the moment the request reaches the component until the
//! component has finished, whether it is computing or waiting on I/O.
//!
//! Two mechanisms enforce it, because a guest is either running wasm or
//! suspended in the host. Epoch interruption (a ticker thread advancing the
//! engine's epoch, as Spin's does, every 10 ms) stops a guest that computes:
//! at each tick the guest yields to the executor, and past its deadline it
//! traps. A timer on the request's task stops a guest that waits (a
//! long-poll, a slow outbound call), which runs no wasm for an epoch check
//! to catch. The yields also keep a spinning guest from holding a runtime
//! worker thread to itself while other requests wait, with or without a
//! timeout: it runs at most two ticks between yields.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{Engine, Store, UpdateDeadline};

/// How often the epoch advances (Spin's `DEFAULT_EPOCH_TICK_INTERVAL`). A
/// spinning guest overruns its deadline by at most about this much.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The value of `--request-timeout`: one duration, or a range from which
/// each request draws its own (as Spin draws one per instance, and a WASIp2
/// instance serves one request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestTimeout {
    Fixed(Duration),
    Between(Duration, Duration),
}

impl RequestTimeout {
    /// The timeout for one request.
    pub fn pick(&self) -> Duration {
        match *self {
            RequestTimeout::Fixed(timeout) => timeout,
            RequestTimeout::Between(low, high) => {
                // Jitter, not secrecy: std's randomly keyed hasher is random enough.
                let random = RandomState::new().build_hasher().finish();
                let span = (high - low).as_millis().max(1) as u64;
                low + Duration::from_millis(random % span)
            }
        }
    }
}

impl fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestTimeout::Fixed(timeout) => write!(f, "{}s", timeout.as_secs()),
            RequestTimeout::Between(low, high) => {
                write!(f, "{}s..{}s", low.as_secs(), high.as_secs())
            }
        }
    }
}

impl FromStr for RequestTimeout {
    type Err = String;

    /// Spin's syntax, `30`, `30s` or a range `10..30s`. Spin's help also
    /// names `ms`, `us` and `ns` suffixes, but its parser strips the `s`
    /// first and then fails on the number (3.6.3 and 4.0.2 refuse `500ms`),
    /// so only whole seconds work there: only whole seconds are accepted
    /// here, or a command line that starts this runtime would not start Spin.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once("..") {
            None => Ok(RequestTimeout::Fixed(whole_seconds(text)?)),
            Some((low, high)) => {
                let (low, high) = (whole_seconds(low)?, whole_seconds(high)?);
                // Spin would accept an empty range here and then panic on
                // every request that draws from it.
                if low >= high {
                    return Err(format!(
                        "the range {text:?} is empty: its start must be below its end"
                    ));
                }
                Ok(RequestTimeout::Between(low, high))
            }
        }
    }
}

fn whole_seconds(text: &str) -> Result<Duration, String> {
    let digits = text.strip_suffix('s').unwrap_or(text);
    digits.parse::<u64>().map(Duration::from_secs).map_err(|_| {
        format!("expected whole seconds such as `30` or `30s` (as Spin accepts); got {text:?}")
    })
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] for as long as the engine
/// lives.
pub fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the epoch ticker thread");
}

/// Makes the guest in `store` yield at every epoch tick, and trap at the
/// first tick past `deadline`. The returned flag tells afterwards whether it
/// was stopped for that reason.
pub fn arm<T: 'static>(store: &mut Store<T>, deadline: Option<Instant>) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    store.set_epoch_deadline(1);
    let mut previous_check: Option<Instant> = None;
    store.epoch_deadline_callback(move |_| {
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            flag.store(true, Ordering::Relaxed);
            return Ok(UpdateDeadline::Interrupt);
        }
        // A guest that was waiting (a long-poll between its probes) meets
        // this check as soon as it runs again, since ticks passed while it
        // ran no wasm; yielding then would only put a task that has just
        // been woken back in the queue, once per probe. Only a guest that
        // also met the previous tick's check has been computing: that one
        // yields (tokio's own yield lets the worker run other tasks first).
        let computing = previous_check.is_some_and(|at| now - at < EPOCH_TICK * 2);
        previous_check = Some(now);
        Ok(if computing {
            UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
        } else {
            UpdateDeadline::Continue(1)
        })
    });
    interrupted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_parse_as_spin_parses_them() {
        let secs = |s| RequestTimeout::Fixed(Duration::from_secs(s));
        assert_eq!("30".parse(), Ok(secs(30)));
        assert_eq!("30s".parse(), Ok(secs(30)));
        assert_eq!("0".parse(), Ok(secs(0)));
        assert_eq!(
            "1..8s".parse(),
            Ok(RequestTimeout::Between(
                Duration::from_secs(1),
                Duration::from_secs(8)
            ))
        );
    }

    #[test]
    fn what_spin_refuses_is_refused() {
        for text in [
            "500ms", "10us", "10μs", "5ns", "1.5", "-1", "", "s", "8..1", "3..3",
        ] {
            assert!(
                text.parse::<RequestTimeout>().is_err(),
                "{text:?} should be refused"
            );
        }
    }

    #[test]
    fn a_range_draws_within_its_bounds() {
        let range: RequestTimeout = "2..4".parse().unwrap();
        for _ in 0..1_000 {
            let picked = range.pick();
            assert!(picked >= Duration::from_secs(2) && picked < Duration::from_secs(4));
        }
    }
}
