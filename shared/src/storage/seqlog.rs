//! Append-only logs over an atomic sequence: the storage behind the audit
//! log, the account's event log and each conversation's messages.
//!
//! Appending takes the next number with `increment`, then writes one key for
//! that entry. So a reader can see the sequence at N+1 while entry N is not
//! written yet (its writer is between the two steps). A reader therefore never
//! moves its cursor past a missing entry until the entry is provably older
//! than [`GRACE_MILLIS`]: some *later* entry exists whose time is older than
//! the grace period, and a later entry's number was taken after N's. A writer
//! that fails after taking N writes a tombstone, which readers skip at once.
//! Cursors thus never skip an entry and listing costs O(page).

use crate::base::error::{Error, Result};
use crate::base::time::Timestamp;
use crate::storage::store::KeyValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long a missing entry may be "in flight" before readers pass it.
pub const GRACE_MILLIS: i64 = 5_000;
/// At most this many entries are read per page (filters may skip many).
pub const SCAN_BUDGET: u64 = 1_000;
/// How far past a gap a reader looks for proof that the gap is old.
const LOOKAHEAD: u64 = 32;

/// Where a log lives.
pub struct Log<'a> {
    kv: &'a dyn KeyValue,
    seq_key: String,
    entry_key: Box<dyn Fn(u64) -> String + 'a>,
    time_field: &'static str,
}

/// One page read from a log.
#[derive(Debug)]
pub struct Scan<T> {
    /// Entries in order, after the filter.
    pub items: Vec<T>,
    /// The position to continue from (the last entry consumed).
    pub position: u64,
}

impl<'a> Log<'a> {
    /// The log whose sequence is at `seq_key` and whose entry `n` is at
    /// `entry_key(n)`.
    pub fn new(
        kv: &'a dyn KeyValue,
        seq_key: String,
        entry_key: impl Fn(u64) -> String + 'a,
    ) -> Self {
        Log {
            kv,
            seq_key,
            entry_key: Box::new(entry_key),
            time_field: "at",
        }
    }

    /// Reads entries' times from `field` instead of `at`.
    pub fn with_time_field(mut self, field: &'static str) -> Self {
        self.time_field = field;
        self
    }

    /// Takes the next number without writing its entry: the caller must
    /// [`Log::put`] or [`Log::tombstone`] it (readers wait at the gap for at
    /// most the grace period until it does).
    pub fn reserve(&self) -> Result<u64> {
        self.reserve_many(1)
    }

    /// Takes the next `count` numbers at once and returns the last one (the
    /// first is `last + 1 - count`); the caller puts or tombstones each.
    pub fn reserve_many(&self, count: u64) -> Result<u64> {
        let n = self.kv.increment(&self.seq_key, count as i64)?;
        u64::try_from(n).map_err(|_| Error::Corrupt(format!("{}: {n}", self.seq_key)))
    }

    /// Writes entry `n` (taken with [`Log::reserve`]); on failure writes a
    /// tombstone instead, so that readers pass it at once.
    pub fn put<T: Serialize>(&self, n: u64, entry: &T) -> Result<()> {
        let bytes = serde_json::to_vec(entry).map_err(|e| Error::Corrupt(e.to_string()));
        let written = bytes.and_then(|bytes| Ok(self.kv.set(&(self.entry_key)(n), &bytes)?));
        if written.is_err() {
            self.tombstone(n);
        }
        written
    }

    /// Marks `n` as never to be written (best effort: if even this fails,
    /// readers pass `n` after the grace period).
    pub fn tombstone(&self, n: u64) {
        let tombstone = serde_json::json!({"v": 1, "tombstone": true});
        let _ = self
            .kv
            .set(&(self.entry_key)(n), tombstone.to_string().as_bytes());
    }

    /// Whether entry `n` (or its tombstone) is written: one cheap read, for
    /// long-polls that wait for the entry after their cursor.
    pub fn has(&self, n: u64) -> Result<bool> {
        Ok(self.kv.exists(&(self.entry_key)(n))?)
    }

    /// Appends the entry `make(n)` as number `n` and returns `n`. `make` is
    /// called after the number is taken, so the entry's time is never earlier
    /// than its number.
    pub fn append<T: Serialize>(&self, make: impl FnOnce(u64) -> T) -> Result<u64> {
        let n = self.kv.increment(&self.seq_key, 1)?;
        let n = u64::try_from(n).map_err(|_| Error::Corrupt(format!("{}: {n}", self.seq_key)))?;
        let bytes = serde_json::to_vec(&make(n)).map_err(|e| Error::Corrupt(e.to_string()))?;
        if let Err(e) = self.kv.set(&(self.entry_key)(n), &bytes) {
            // Let readers pass the hole now rather than after the grace period.
            self.tombstone(n);
            return Err(e.into());
        }
        Ok(n)
    }

    /// The highest number taken so far.
    pub fn head(&self) -> Result<u64> {
        Ok(u64::try_from(self.kv.increment(&self.seq_key, 0)?).unwrap_or(0))
    }

    /// Reads up to `limit` entries after `after` that pass `keep`. Each entry
    /// must have an RFC 3339 time field (`at` unless [`Log::with_time_field`]),
    /// used for the grace period.
    pub fn scan<T: DeserializeOwned>(
        &self,
        after: u64,
        limit: usize,
        now: Timestamp,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Scan<T>> {
        self.scan_map(after, limit, now, |entry: T| {
            Ok(keep(&entry).then_some(entry))
        })
    }

    /// Like [`Log::scan`], but `map` turns each entry into an item (it may
    /// read the store) or drops it (`None`); dropped entries still move the
    /// position.
    pub fn scan_map<T: DeserializeOwned, U>(
        &self,
        after: u64,
        limit: usize,
        now: Timestamp,
        mut map: impl FnMut(T) -> Result<Option<U>>,
    ) -> Result<Scan<U>> {
        let head = self.head()?;
        let mut items = Vec::new();
        let mut position = after;
        let mut n = after + 1;
        while n <= head && items.len() < limit && n - after <= SCAN_BUDGET {
            match self.read(n)? {
                Some(value) => {
                    if value.get("tombstone") != Some(&Value::Bool(true)) {
                        let entry: T = serde_json::from_value(value)
                            .map_err(|e| Error::Corrupt(format!("log entry {n}: {e}")))?;
                        if let Some(item) = map(entry)? {
                            items.push(item);
                        }
                    }
                }
                None if self.gap_is_stale(n, head, now)? => {}
                None => break,
            }
            position = n;
            n += 1;
        }
        Ok(Scan { items, position })
    }

    fn read(&self, n: u64) -> Result<Option<Value>> {
        match self.kv.get(&(self.entry_key)(n))? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Corrupt(format!("log entry {n}: {e}"))),
        }
    }

    /// Whether missing entry `n` can be passed: a later entry exists that
    /// was written more than the grace period ago.
    fn gap_is_stale(&self, n: u64, head: u64, now: Timestamp) -> Result<bool> {
        let cutoff = now.plus_millis(-GRACE_MILLIS);
        for later in n + 1..=head.min(n + LOOKAHEAD) {
            if let Some(value) = self.read(later)? {
                let at = value
                    .get(self.time_field)
                    .and_then(Value::as_str)
                    .and_then(Timestamp::parse);
                return Ok(matches!(at, Some(at) if at < cutoff));
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Entry {
        n: u64,
        at: Timestamp,
    }

    fn log(kv: &MemoryStore) -> Log<'_> {
        Log::new(kv, "seq".into(), |n| format!("e:{n}"))
    }

    fn numbers(scan: &Scan<Entry>) -> Vec<u64> {
        scan.items.iter().map(|e| e.n).collect()
    }

    const T0: Timestamp = Timestamp::from_millis(1_000_000);

    #[test]
    fn entries_come_back_in_order_page_by_page() {
        let kv = MemoryStore::new();
        for _ in 0..5 {
            log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        }
        let first = log(&kv).scan::<Entry>(0, 3, T0, |_| true).unwrap();
        assert_eq!(numbers(&first), [1, 2, 3]);
        let second = log(&kv)
            .scan::<Entry>(first.position, 3, T0, |_| true)
            .unwrap();
        assert_eq!(numbers(&second), [4, 5]);
        let end = log(&kv)
            .scan::<Entry>(second.position, 3, T0, |_| true)
            .unwrap();
        assert!(end.items.is_empty());
        assert_eq!(end.position, 5);
    }

    #[test]
    fn a_reader_waits_at_a_fresh_gap_instead_of_skipping_it() {
        let kv = MemoryStore::new();
        log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        kv.increment("seq", 1).unwrap(); // entry 2: number taken, not yet written
        log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        let scan = log(&kv)
            .scan::<Entry>(0, 10, T0.plus_millis(100), |_| true)
            .unwrap();
        assert_eq!(numbers(&scan), [1]);
        assert_eq!(scan.position, 1, "the cursor must stay before the gap");
    }

    #[test]
    fn a_gap_older_than_the_grace_period_is_passed() {
        let kv = MemoryStore::new();
        kv.increment("seq", 1).unwrap(); // entry 1 was never written
        log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        let later = T0.plus_millis(GRACE_MILLIS + 1);
        let scan = log(&kv).scan::<Entry>(0, 10, later, |_| true).unwrap();
        assert_eq!(numbers(&scan), [2]);
        assert_eq!(scan.position, 2);
    }

    #[test]
    fn tombstones_are_passed_at_once() {
        let kv = MemoryStore::new();
        kv.increment("seq", 1).unwrap();
        kv.set("e:1", br#"{"v":1,"tombstone":true}"#).unwrap();
        log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        let scan = log(&kv).scan::<Entry>(0, 10, T0, |_| true).unwrap();
        assert_eq!(numbers(&scan), [2]);
    }

    #[test]
    fn filtered_entries_still_move_the_cursor() {
        let kv = MemoryStore::new();
        for _ in 0..4 {
            log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        }
        let scan = log(&kv).scan::<Entry>(0, 10, T0, |e| e.n % 2 == 0).unwrap();
        assert_eq!(numbers(&scan), [2, 4]);
        assert_eq!(scan.position, 4);
    }
}
