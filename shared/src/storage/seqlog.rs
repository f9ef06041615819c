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
//!
//! **Entries that refer to something written after them.** An entry may be
//! the commit point of a change written next to it (the event log writes
//! `message.created` before its message, see [`crate::chat::events`]). A
//! reader resolves such an entry ([`Log::scan_resolve`]); while what it
//! refers to is not written yet ([`Found::NotYet`]), the reader stops before
//! it exactly as at a gap, and passes it once the entry itself is older than
//! the grace period. So a writer has [`WRITE_LEASE_MILLIS`] from taking its
//! number to finish its writes, and gives up (tombstoning) past it: readers
//! never pass something that is still going to be written.

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
/// How long after taking its number a writer may still write what the
/// entry commits; well inside [`GRACE_MILLIS`], so that a writer that was
/// merely slow gives up before readers pass its entry. The difference is the
/// time one write may take in the store.
pub const WRITE_LEASE_MILLIS: i64 = 2_000;

/// What a reader makes of one entry (see [`Log::scan_resolve`]).
#[derive(Debug, PartialEq)]
pub enum Found<U> {
    /// The entry shows as this item.
    Item(U),
    /// The entry is passed without showing anything.
    Skip,
    /// What the entry commits is not written yet: stop before the entry
    /// until it is older than the grace period, then pass it.
    NotYet,
    /// Like [`Found::NotYet`], for a commit that may take longer than the
    /// grace period: stop until the entry is older than this many ms.
    NotYetWithin(i64),
}

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

    /// The key of entry `n` and `entry` encoded, for a batch of writes
    /// ([`KeyValue::set_many`]) that commits it with other keys.
    pub fn encode<T: Serialize>(&self, n: u64, entry: &T) -> Result<(String, Vec<u8>)> {
        let bytes = serde_json::to_vec(entry).map_err(|e| Error::Corrupt(e.to_string()))?;
        Ok(((self.entry_key)(n), bytes))
    }

    /// Writes entry `n` over whatever is there, without a tombstone on
    /// failure: for an entry that replaces one already committed (a
    /// tombstone would then hide a change that happened).
    pub fn overwrite<T: Serialize>(&self, n: u64, entry: &T) -> Result<()> {
        let bytes = serde_json::to_vec(entry).map_err(|e| Error::Corrupt(e.to_string()))?;
        Ok(self.kv.set(&(self.entry_key)(n), &bytes)?)
    }

    /// Entry `n` as stored: `None` when it is not written, `Some(None)` for
    /// a tombstone.
    pub fn entry(&self, n: u64) -> Result<Option<Option<Value>>> {
        Ok(self
            .read(n)?
            .map(|value| (!is_tombstone(&value)).then_some(value)))
    }

    /// Marks `n` as never to be written (best effort: if even this fails,
    /// readers pass `n` after the grace period).
    pub fn tombstone(&self, n: u64) {
        let tombstone = serde_json::json!({"v": 1, "tombstone": true});
        let _ = self
            .kv
            .set(&(self.entry_key)(n), tombstone.to_string().as_bytes());
    }

    /// The probe of a long-poll waiting after a position: whether the entry
    /// after it (or its tombstone) is written, one cheap read. It keeps the
    /// key of the last position it was asked about, since a waiting poll
    /// asks about the same one probe after probe.
    pub fn next_after(&self) -> impl FnMut(u64) -> Result<bool> + '_ {
        let mut probed: Option<(u64, String)> = None;
        move |position| {
            let key = match &probed {
                Some((at, key)) if *at == position => key,
                _ => &probed.insert((position, (self.entry_key)(position + 1))).1,
            };
            Ok(self.kv.exists(key)?)
        }
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
        self.scan_resolve(after, limit, now, |entry: T| {
            Ok(map(entry)?.map_or(Found::Skip, Found::Item))
        })
    }

    /// Like [`Log::scan_map`], for entries that may commit something written
    /// after them: `resolve` may answer [`Found::NotYet`], and the scan stops
    /// before that entry until it is older than the grace period (then it
    /// passes it, as it passes an old gap).
    pub fn scan_resolve<T: DeserializeOwned, U>(
        &self,
        after: u64,
        limit: usize,
        now: Timestamp,
        mut resolve: impl FnMut(T) -> Result<Found<U>>,
    ) -> Result<Scan<U>> {
        let head = self.head()?;
        let mut items = Vec::new();
        let mut position = after;
        let mut n = after + 1;
        while n <= head && items.len() < limit && n - after <= SCAN_BUDGET {
            match self.read(n)? {
                Some(value) if is_tombstone(&value) => {}
                Some(value) => {
                    let at = self.time_of(&value);
                    let older_than =
                        |millis: i64| at.is_some_and(|at| at < now.plus_millis(-millis));
                    let entry: T = serde_json::from_value(value)
                        .map_err(|e| Error::Corrupt(format!("log entry {n}: {e}")))?;
                    match resolve(entry)? {
                        Found::Item(item) => items.push(item),
                        Found::Skip => {}
                        Found::NotYet if older_than(GRACE_MILLIS) => {}
                        Found::NotYetWithin(millis) if older_than(millis) => {}
                        Found::NotYet | Found::NotYetWithin(_) => break,
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

    fn time_of(&self, value: &Value) -> Option<Timestamp> {
        value
            .get(self.time_field)
            .and_then(Value::as_str)
            .and_then(Timestamp::parse)
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
                return Ok(self.time_of(&value).is_some_and(|at| at < cutoff));
            }
        }
        Ok(false)
    }
}

fn is_tombstone(value: &Value) -> bool {
    value.get("tombstone") == Some(&Value::Bool(true))
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
    fn the_probe_sees_the_entry_after_each_position_it_is_asked_about() {
        let kv = MemoryStore::new();
        let log = log(&kv);
        let mut next_after = log.next_after();
        assert!(!next_after(0).unwrap());
        log.append(|n| Entry { n, at: T0 }).unwrap();
        assert!(next_after(0).unwrap(), "entry 1 is written now");
        assert!(!next_after(1).unwrap(), "a new position, a new key");
        log.tombstone(2);
        assert!(next_after(1).unwrap(), "a tombstone counts as written");
        assert!(next_after(0).unwrap());
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
    fn a_reader_stops_before_an_entry_whose_change_is_not_written_yet() {
        let kv = MemoryStore::new();
        for _ in 0..3 {
            log(&kv).append(|n| Entry { n, at: T0 }).unwrap();
        }
        let resolve = |e: Entry| {
            Ok(match e.n {
                2 => Found::NotYet,
                n => Found::Item(n),
            })
        };
        let fresh = log(&kv)
            .scan_resolve(0, 10, T0.plus_millis(100), resolve)
            .unwrap();
        assert_eq!(fresh.items, [1]);
        assert_eq!(fresh.position, 1, "the cursor must stay before entry 2");
        let later = T0.plus_millis(GRACE_MILLIS + 1);
        let stale = log(&kv).scan_resolve(0, 10, later, resolve).unwrap();
        assert_eq!(stale.items, [1, 3], "past the grace period it is passed");
        assert_eq!(stale.position, 3);
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
