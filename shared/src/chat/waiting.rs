//! Waiting slots: how many long-polls may wait at once, in all and per
//! account.
//!
//! Every waiting long-poll holds a wasm instance for its whole wait, and the
//! runtime's instance pool is finite (Spin: `SPIN_WASMTIME_INSTANCE_COUNT`,
//! 1,000 by default). A request beyond the pool fails with a 500 on Spin,
//! whatever route it was for, `/healthz` included. So the components keep
//! the number of *waiting* polls under a budget set below the pool
//! (`long_poll_slots`), and under a share of it per account
//! (`long_poll_slots_per_account`) so that one site key, which anyone can
//! read off a web page, cannot take every slot. A poll past either budget
//! is refused at once with a retryable 503 ([`Error::Busy`]); the widget
//! comes back after `Retry-After`.
//!
//! **Counting without leaks.** A component cannot rely on running its
//! cleanup: the runtime may stop it (request timeout, a client that hung
//! up, a crash). So slots are counted in windows of [`WINDOW_MILLIS`]: a
//! poll adds one to the counter of the window it starts in and takes it
//! back when it ends. A poll waits at most [`MAX_WAIT_SECONDS`], so every
//! poll still waiting started within the last [`WINDOWS`] windows, and their
//! sum counts it; a poll that never gave its slot back stops counting once
//! its window falls out of the sum. Counters are read with `increment(key,
//! 0)` (their byte encoding differs between Spin's backends).
//!
//! **Old windows are deleted** by the first poll of each new window: it
//! deletes the windows that fell out of the sum since the last window that
//! had a poll (recorded at the `…:waiting:last` key), so no counter is left
//! behind.
//!
//! Per claim: two increments, six counter reads, and once per window and
//! budget a get, a set and up to four deletes; per release, two increments.
//! That is per long-poll, not per probe.

use crate::base::error::{Error, Result};
use crate::base::ids::AccountId;
use crate::base::time::Clock;
use crate::chat::longpoll::MAX_WAIT_SECONDS;
use crate::storage::keys;
use crate::storage::store::KeyValue;

/// The length of one counting window.
pub const WINDOW_MILLIS: i64 = 10_000;
/// How many windows the count spans: enough to cover the longest wait
/// started in the oldest of them.
pub const WINDOWS: i64 = (MAX_WAIT_SECONDS as i64 * 1_000) / WINDOW_MILLIS + 1;
/// What a refused poll is told: come back after this many seconds.
pub const RETRY_AFTER_SECONDS: u32 = 10;

/// The default of the `long_poll_slots` variable: below Spin's default
/// instance pool (1,000), leaving room for every other route.
pub const DEFAULT_SLOTS: i64 = 800;
/// The default of `long_poll_slots_per_account`.
pub const DEFAULT_SLOTS_PER_ACCOUNT: i64 = 200;

/// How many polls may wait at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// In all, over every account of the store.
    pub total: i64,
    /// For any one account.
    pub per_account: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total: DEFAULT_SLOTS,
            per_account: DEFAULT_SLOTS_PER_ACCOUNT,
        }
    }
}

impl Limits {
    /// Reads the two variables' values (`None`: the default). A value that
    /// is not a positive whole number is an operator error, reported as
    /// such rather than silently replaced.
    pub fn parse(total: Option<&str>, per_account: Option<&str>) -> Result<Limits> {
        let read = |name: &str, value: Option<&str>, default: i64| match value {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::Corrupt(format!(
                        "variable {name}={text:?} is not a positive whole number"
                    ))
                }),
        };
        Ok(Limits {
            total: read("long_poll_slots", total, DEFAULT_SLOTS)?,
            per_account: read(
                "long_poll_slots_per_account",
                per_account,
                DEFAULT_SLOTS_PER_ACCOUNT,
            )?,
        })
    }
}

/// One budget's counters: the store's or an account's.
struct Budget {
    prefix: String,
    limit: i64,
    what: &'static str,
}

impl Budget {
    fn window_key(&self, window: i64) -> String {
        format!("{}{window}", self.prefix)
    }

    fn last_key(&self) -> String {
        format!("{}last", self.prefix)
    }

    /// Adds this poll to the current window; returns the count of waiting
    /// polls including it.
    fn enter(&self, kv: &dyn KeyValue, window: i64) -> Result<i64> {
        let current = kv.increment(&self.window_key(window), 1)?;
        if current == 1 {
            self.forget_old_windows(kv, window)?;
        }
        let mut total = current;
        for earlier in 1..WINDOWS {
            total += kv.increment(&self.window_key(window - earlier), 0)?.max(0);
        }
        Ok(total)
    }

    fn leave(&self, kv: &dyn KeyValue, window: i64) {
        if let Err(e) = kv.increment(&self.window_key(window), -1) {
            // The count falls out of the sum with its window.
            eprintln!("warning: releasing a waiting slot failed: {e}");
        }
    }

    /// Deletes the windows that have left the sum since the last window
    /// that had a poll. Deletes before recording, so a crash in between
    /// only repeats the deletes next time.
    fn forget_old_windows(&self, kv: &dyn KeyValue, window: i64) -> Result<()> {
        let last = match kv.get(&self.last_key())? {
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|text| text.parse::<i64>().ok()),
            None => None,
        };
        if last.is_some_and(|last| last >= window) {
            return Ok(()); // a poll of this window did it
        }
        // Windows up to `last - WINDOWS` went when `last` began, and no
        // window after `last` had a poll: what may be left is at most the
        // `WINDOWS` windows up to `last`.
        if let Some(last) = last {
            for stale in (last - WINDOWS + 1)..=last.min(window - WINDOWS) {
                kv.delete(&self.window_key(stale))?;
            }
        }
        kv.set(&self.last_key(), window.to_string().as_bytes())?;
        Ok(())
    }
}

/// A poll's place among the waiting: given back when dropped.
pub struct Slot<'a> {
    kv: &'a dyn KeyValue,
    window: i64,
    budgets: Vec<Budget>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        for budget in &self.budgets {
            budget.leave(self.kv, self.window);
        }
    }
}

/// Takes a waiting slot for a poll of `account`, or refuses with
/// [`Error::Busy`] when the store's or the account's budget is used up.
pub fn claim<'a>(
    kv: &'a dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    limits: Limits,
) -> Result<Slot<'a>> {
    let window = clock.now().millis().div_euclid(WINDOW_MILLIS);
    let mut slot = Slot {
        kv,
        window,
        budgets: Vec::with_capacity(2),
    };
    let budgets = [
        Budget {
            prefix: keys::waiting_prefix(None),
            limit: limits.total,
            what: "this server",
        },
        Budget {
            prefix: keys::waiting_prefix(Some(account)),
            limit: limits.per_account,
            what: "this account",
        },
    ];
    for budget in budgets {
        let waiting = budget.enter(kv, window);
        // From here on, dropping the slot gives this budget's count back.
        let (limit, what) = (budget.limit, budget.what);
        slot.budgets.push(budget);
        if waiting? > limit {
            return Err(Error::Busy {
                detail: format!(
                    "too many chats are waiting for messages on {what}; retry in \
                     {RETRY_AFTER_SECONDS} seconds"
                ),
                retry_after_seconds: RETRY_AFTER_SECONDS,
            });
        }
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::{ManualClock, Timestamp};
    use crate::storage::store::MemoryStore;

    fn limits(total: i64, per_account: i64) -> Limits {
        Limits { total, per_account }
    }

    #[test]
    fn polls_past_the_account_budget_are_refused_as_busy() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(1_000_000));
        let a = AccountId::generate();
        let held: Vec<_> = (0..3)
            .map(|_| claim(&kv, &clock, &a, limits(100, 3)).unwrap())
            .collect();
        let refused = claim(&kv, &clock, &a, limits(100, 3)).err().unwrap();
        assert!(matches!(
            refused,
            Error::Busy {
                retry_after_seconds: 10,
                ..
            }
        ));
        assert_eq!(refused.to_problem().status, 503);
        // Another account still has its own share.
        let b = AccountId::generate();
        assert!(claim(&kv, &clock, &b, limits(100, 3)).is_ok());
        drop(held);
        assert!(claim(&kv, &clock, &a, limits(100, 3)).is_ok());
    }

    #[test]
    fn the_store_budget_holds_across_accounts() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let held: Vec<_> = (0..4)
            .map(|_| claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).unwrap())
            .collect();
        assert!(claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).is_err());
        drop(held);
        assert!(claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).is_ok());
    }

    #[test]
    fn a_refused_poll_gives_back_what_it_counted() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let a = AccountId::generate();
        let _held = claim(&kv, &clock, &a, limits(10, 1)).unwrap();
        for _ in 0..20 {
            assert!(claim(&kv, &clock, &a, limits(10, 1)).is_err());
        }
        // Twenty refusals left nothing behind in the store's budget.
        for _ in 0..9 {
            std::mem::forget(claim(&kv, &clock, &AccountId::generate(), limits(10, 1)).unwrap());
        }
        assert!(claim(&kv, &clock, &AccountId::generate(), limits(10, 1)).is_err());
    }

    #[test]
    fn a_slot_never_given_back_stops_counting_after_the_longest_wait() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(5_000));
        let a = AccountId::generate();
        // A poll whose instance was stopped: its release never ran.
        std::mem::forget(claim(&kv, &clock, &a, limits(10, 1)).unwrap());
        clock.advance(MAX_WAIT_SECONDS as i64 * 1_000);
        assert!(
            claim(&kv, &clock, &a, limits(10, 1)).is_err(),
            "it may still be waiting"
        );
        clock.advance(WINDOW_MILLIS);
        assert!(claim(&kv, &clock, &a, limits(10, 1)).is_ok());
    }

    #[test]
    fn old_windows_are_deleted_even_after_a_quiet_spell() {
        let kv = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let a = AccountId::generate();
        for step in [1, 1, 1, 7, 1, 30, 2, 2, 2, 2, 2] {
            std::mem::forget(claim(&kv, &clock, &a, limits(100, 100)).unwrap());
            clock.advance(step * WINDOW_MILLIS);
        }
        let _last = claim(&kv, &clock, &a, limits(100, 100)).unwrap();
        let window = clock.now().millis() / WINDOW_MILLIS;
        let counters: Vec<i64> = kv
            .keys()
            .iter()
            .filter(|key| !key.ends_with(":last"))
            .map(|key| key.rsplit(':').next().unwrap().parse().unwrap())
            .collect();
        assert!(!counters.is_empty());
        for w in &counters {
            assert!(
                window - w < WINDOWS,
                "window {w} left behind at {window}: {counters:?}"
            );
        }
    }

    #[test]
    fn limits_come_from_variables_or_defaults() {
        assert_eq!(Limits::parse(None, None).unwrap(), Limits::default());
        assert_eq!(
            Limits::parse(Some("5000"), Some(" 900 ")).unwrap(),
            limits(5_000, 900)
        );
        for bad in ["0", "-1", "many", ""] {
            assert!(Limits::parse(Some(bad), None).is_err(), "{bad:?}");
        }
    }
}
