//! Waiting slots: how many long-polls may wait at once, in all and per
//! account.
//!
//! Every waiting long-poll holds a wasm instance for its whole wait, and the
//! runtime's instance pool is finite (Spin: `SPIN_MAX_INSTANCE_COUNT`,
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
//! **Reads before writes.** A poll first reads its budget's count and is
//! refused without counting if the budget is used up; only a poll that
//! fits adds itself (and gives itself back if others got in first). So
//! refused polls never inflate the count, not even for a moment: a script
//! hammering with one account's site key is refused on that account's
//! budget, checked first, and never touches the count of the store's,
//! which every account shares.
//!
//! Per claim: two increments, eight counter reads, and once per window and
//! budget a get, a set and up to four deletes; per release, two increments;
//! a refused claim: at most eight counter reads and one increment more.
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

    /// Counts this poll into the current window, unless the budget is used
    /// up already. It reads before it writes, so that a poll refused at a
    /// full budget never counts, not even for a moment: a crowd of refused
    /// polls (a script hammering with one site key) cannot make the budget
    /// look fuller than it is to the polls that fit.
    fn enter(&self, kv: &dyn KeyValue, window: i64) -> Result<Entry> {
        let count = |w: i64| -> Result<i64> { Ok(kv.increment(&self.window_key(w), 0)?.max(0)) };
        let mut earlier = 0;
        for back in 1..WINDOWS {
            earlier += count(window - back)?;
        }
        if count(window)? + earlier >= self.limit {
            return Ok(Entry::Full);
        }
        let current = kv.increment(&self.window_key(window), 1)?;
        if current == 1 {
            self.forget_old_windows(kv, window)?;
        }
        // Polls only ever enter the current window, and leave the earlier
        // ones: this sum is at least the count.
        Ok(if current + earlier <= self.limit {
            Entry::In
        } else {
            Entry::Over
        })
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

/// What [`Budget::enter`] did.
enum Entry {
    /// Counted, within the budget.
    In,
    /// Counted, but others got in first: to be given back.
    Over,
    /// Not counted: the budget was used up.
    Full,
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
    // The account's budget first: a poll past its account's share never
    // touches the store's count, which every account shares.
    let budgets = [
        Budget {
            prefix: keys::waiting_prefix(Some(account)),
            limit: limits.per_account,
            what: "this account",
        },
        Budget {
            prefix: keys::waiting_prefix(None),
            limit: limits.total,
            what: "this server",
        },
    ];
    for budget in budgets {
        let entry = budget.enter(kv, window)?;
        let what = budget.what;
        if !matches!(entry, Entry::Full) {
            // From here on, dropping the slot gives this budget's count back.
            slot.budgets.push(budget);
        }
        if !matches!(entry, Entry::In) {
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
    use crate::storage::store::{MemoryStore, StoreResult};

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

    /// A store that records every counter change (`increment` by other
    /// than 0), to see what a claim counted, however briefly; and can run
    /// another poll's write just before its own first counter change.
    #[derive(Default)]
    struct Recording {
        inner: MemoryStore,
        changes: std::sync::Mutex<Vec<(String, i64)>>,
        interleaved: std::sync::Mutex<Option<Box<dyn FnOnce(&MemoryStore)>>>,
    }

    impl Recording {
        fn changes(&self) -> Vec<(String, i64)> {
            std::mem::take(&mut *self.changes.lock().unwrap())
        }

        fn before_first_change(&self, write: impl FnOnce(&MemoryStore) + 'static) {
            *self.interleaved.lock().unwrap() = Some(Box::new(write));
        }
    }

    impl KeyValue for Recording {
        fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> StoreResult<()> {
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> StoreResult<()> {
            self.inner.delete(key)
        }
        fn exists(&self, key: &str) -> StoreResult<bool> {
            self.inner.exists(key)
        }
        fn increment(&self, key: &str, delta: i64) -> StoreResult<i64> {
            if delta != 0 {
                if let Some(write) = self.interleaved.lock().unwrap().take() {
                    write(&self.inner);
                }
                self.changes.lock().unwrap().push((key.to_string(), delta));
            }
            self.inner.increment(key, delta)
        }
        fn set_many(&self, entries: &[(String, Vec<u8>)]) -> StoreResult<()> {
            self.inner.set_many(entries)
        }
    }

    /// The store's budget holds across accounts, and a poll refused at it
    /// never counts, not even for a moment.
    #[test]
    fn the_store_budget_holds_across_accounts_and_refusals_never_count() {
        let kv = Recording::default();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let held: Vec<_> = (0..4)
            .map(|_| claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).unwrap())
            .collect();
        kv.changes();
        for _ in 0..5 {
            assert!(claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).is_err());
        }
        let store_wide = keys::waiting_prefix(None);
        let touched: Vec<_> = kv
            .changes()
            .into_iter()
            .filter(|(key, _)| key.starts_with(&store_wide))
            .collect();
        assert_eq!(touched, [], "the store's count never moved");
        drop(held);
        assert!(claim(&kv, &clock, &AccountId::generate(), limits(4, 10)).is_ok());
    }

    #[test]
    fn a_poll_past_its_accounts_share_never_touches_the_store_count() {
        let kv = Recording::default();
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let hammering = AccountId::generate();
        let _held = claim(&kv, &clock, &hammering, limits(100, 1)).unwrap();
        kv.changes();
        for _ in 0..5 {
            assert!(claim(&kv, &clock, &hammering, limits(100, 1)).is_err());
        }
        assert_eq!(kv.changes(), [], "nothing counted anywhere");
    }

    #[test]
    fn a_poll_that_loses_the_race_for_the_last_slot_gives_it_back() {
        // Two polls both read one free slot; the second to count is over.
        let kv = Recording::default();
        let budget = Budget {
            prefix: keys::waiting_prefix(None),
            limit: 1,
            what: "this server",
        };
        let window = 0;
        // The first poll's count lands between the second's read and write.
        let key = budget.window_key(window);
        let first = key.clone();
        kv.before_first_change(move |store| {
            store.increment(&first, 1).unwrap();
        });
        assert!(matches!(budget.enter(&kv, window), Ok(Entry::Over)));
        assert_eq!(kv.inner.increment(&key, 0).unwrap(), 2);
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
