//! JSON documents in the key-value store: single-writer documents, and
//! shared documents changed by read-modify-write without compare-and-swap.
//!
//! Every stored value is JSON with a schema version `v`. A document has one
//! of two kinds, and each kind has its own functions:
//!
//! - **single-writer** ([`read`], [`write()`]): replaced whole by its owner,
//!   where the last write winning is what the API means (a widget config, an
//!   override, a customer's tags).
//! - **shared** ([`read_shared`], [`update`], [`create`]): a document several
//!   requests may change at once (a list, a conversation's state). It is
//!   stored as `{"version": n, "doc": …}` and only ever replaced by
//!   [`update`]: two concurrent writers never interleave, one goes second.
//!
//! # Why not compare-and-swap
//! Spin's Redis key-value backend (3.6.3, 4.0.2, main) breaks
//! `wasi:keyvalue/atomics` compare-and-swap: a swap that wrote reports
//! `cas-failed`, and a real conflict reports success. `increment` is atomic on
//! every Spin backend, so the [`crate::storage::store::KeyValue`] trait offers it and
//! no compare-and-swap at all, and shared documents are built on it:
//!
//! 1. read the document: version `n` (0 when absent);
//! 2. compute the new value;
//! 3. **claim** version `n + 1`: `increment(claim key of n+1, 1)`; only the
//!    caller that gets 1 owns that version, once it has read that the
//!    document is still at `n`;
//! 4. the owner writes `{version: n+1, doc}`; everyone else waits until the
//!    document moves past `n`, then starts again from the newer document.
//!
//! # Failure modes
//! - A writer that dies between claiming and writing leaves version `n + 1`
//!   claimed and unwritten. Waiters give it [`Timing::grace`]; after that they
//!   claim the next *generation* of the same version (a new claim key), so
//!   one crash costs the waiting requests one grace period, never a stuck
//!   document.
//! - For that to be safe, an owner writes only within [`Timing::lease`] of
//!   its claim (monotonic clock); past it, it gives the claim up and starts
//!   again. The lease is well inside the grace
//!   period, so an owner that was merely slow never writes after waiters
//!   moved on. What remains: a `set` that itself takes longer than
//!   `grace - lease` (3 s) in the store could still land after a newer
//!   generation's write and undo it.
//! - Claim keys are 8-byte counters, one per version; the owner of version
//!   `n` deletes the claim of version `n - KEPT_CLAIMS` (best effort), so a
//!   document keeps a few dozen. A writer that read long ago may claim a
//!   version whose claim was deleted; its second read of the version (step
//!   3) tells it that the document moved on. A crash leaves its
//!   later-generation claims behind.
//! - A shared document is never deleted: its version would start again
//!   below claims that still exist. Write a value that means "gone" instead.

use crate::base::error::{Error, Result};
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How often [`update`] starts again (after losing a claim) before giving up
/// with 409. Losers back off for a random few milliseconds, growing with each
/// attempt, so that a crowd of writers spreads out instead of colliding again.
const MAX_ATTEMPTS: u32 = 256;
/// Claims of this many recent versions are kept; older ones are deleted.
const KEPT_CLAIMS: u64 = 32;
/// Generations of one version tried before giving up (each costs a grace
/// period, so this is only reached when the store keeps failing writers).
const MAX_GENERATIONS: u32 = 8;

/// The lease and grace periods of shared-document writes. The lease must be
/// well inside the grace period: the difference is the time one `set` may
/// take in the store without ever undoing a newer write.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// An owner writes only within this time of its read.
    pub lease: Duration,
    /// Waiters wait this long for an owner before claiming past it.
    pub grace: Duration,
}

impl Timing {
    /// What the components use.
    pub const DEFAULT: Timing = Timing {
        lease: Duration::from_secs(2),
        grace: Duration::from_secs(5),
    };
}

/// Reads and parses the single-writer document at `key`.
pub fn read<T: DeserializeOwned>(kv: &dyn KeyValue, key: &str) -> Result<Option<T>> {
    match kv.get(key)? {
        None => Ok(None),
        Some(bytes) => parse(key, &bytes).map(Some),
    }
}

/// Writes the single-writer document `value` at `key`.
pub fn write<T: Serialize>(kv: &dyn KeyValue, key: &str, value: &T) -> Result<()> {
    kv.set(key, &encode(value)?)?;
    Ok(())
}

/// Reads the shared document at `key` (written by [`update`] or [`create`]).
pub fn read_shared<T: DeserializeOwned>(kv: &dyn KeyValue, key: &str) -> Result<Option<T>> {
    let (_, doc) = read_versioned(kv, key)?;
    doc.map(|doc| T::deserialize(doc).map_err(|e| corrupt(key, e)))
        .transpose()
}

/// Creates the shared document `value` at `key` only if it is absent;
/// `Ok(false)` if it exists.
pub fn create<T: Serialize>(kv: &dyn KeyValue, key: &str, value: &T) -> Result<bool> {
    let value = serde_json::to_value(value).map_err(unencodable)?;
    update_value(kv, key, Timing::DEFAULT, &mut |current| {
        Ok(match current {
            Some(_) => Step::Keep(false),
            None => Step::Write(value.clone(), true),
        })
    })
}

/// What an [`update`] step decided.
pub enum Step<T, R> {
    /// Replace the document with this value, then return `R`.
    Write(T, R),
    /// Leave the document as it is and return `R`.
    Keep(R),
}

/// Read-modify-write of the shared document at `key`.
///
/// `change` sees the current document (or `None`) and decides; when another
/// writer got in between, it runs again on the newer document (so it must
/// have no effects of its own). An `Err` from `change` aborts without writing.
pub fn update<T, R>(
    kv: &dyn KeyValue,
    key: &str,
    change: impl FnMut(Option<T>) -> Result<Step<T, R>>,
) -> Result<R>
where
    T: Serialize + DeserializeOwned,
{
    update_with(kv, key, Timing::DEFAULT, change)
}

/// [`update`] with explicit lease and grace periods (tests use short ones).
pub fn update_with<T, R>(
    kv: &dyn KeyValue,
    key: &str,
    timing: Timing,
    mut change: impl FnMut(Option<T>) -> Result<Step<T, R>>,
) -> Result<R>
where
    T: Serialize + DeserializeOwned,
{
    update_value(kv, key, timing, &mut |current| {
        let current = current
            .map(|doc| T::deserialize(doc).map_err(|e| corrupt(key, e)))
            .transpose()?;
        Ok(match change(current)? {
            Step::Keep(result) => Step::Keep(result),
            Step::Write(new, result) => {
                Step::Write(serde_json::to_value(&new).map_err(unencodable)?, result)
            }
        })
    })
}

/// The protocol itself, on JSON values: one copy for every document type.
#[inline(never)]
fn update_value<R>(
    kv: &dyn KeyValue,
    key: &str,
    timing: Timing,
    change: &mut dyn FnMut(Option<Value>) -> Result<Step<Value, R>>,
) -> Result<R> {
    assert!(
        timing.lease < timing.grace,
        "the lease must end before the grace period"
    );
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt);
        }
        let (version, current) = read_versioned(kv, key)?;
        let (new, result) = match change(current)? {
            Step::Keep(result) => return Ok(result),
            Step::Write(new, result) => (new, result),
        };
        let target = version + 1;
        let Some(claimed_at) = claim(kv, key, target, timing)? else {
            continue; // someone else wrote `target`: start again from it
        };
        if claimed_at.elapsed() > timing.lease {
            // Too late: waiters may already have moved past our claim.
            continue;
        }
        let stored = serde_json::json!({"version": target, "doc": new});
        kv.set(key, &encode(&stored)?)?;
        if let Some(old) = target.checked_sub(KEPT_CLAIMS) {
            forget_claim(kv, key, old);
        }
        return Ok(result);
    }
    Err(Error::Conflict(
        "too many concurrent changes to the same resource; retry the request".into(),
    ))
}

/// Claims version `target` of the document at `key`. `Some(t)`: this caller
/// owns it, and must write it within the lease from `t`; `None`: another
/// owner has written it.
///
/// The owner reads the version once more after claiming: it must still be
/// `target - 1`. That catches a caller that read long ago and claimed a
/// version whose claim was already deleted. Nobody else can write `target`
/// until the grace period after the claim, so the owner's read of the
/// document is still the current one.
fn claim(kv: &dyn KeyValue, key: &str, target: u64, timing: Timing) -> Result<Option<Instant>> {
    for generation in 0..MAX_GENERATIONS {
        let asked_at = Instant::now();
        if kv.increment(&keys::version_claim(key, target, generation), 1)? == 1 {
            if read_version(kv, key)? != target - 1 {
                // Not ours after all: the document moved on while this caller
                // was away, and the claim it got was one already deleted (or
                // a late owner of an earlier generation wrote). Start again.
                return Ok(None);
            }
            return Ok(Some(asked_at));
        }
        // Someone owns this generation: wait for their write, at most the
        // grace period.
        let lost_at = Instant::now();
        let mut pause = Duration::from_millis(1);
        while lost_at.elapsed() < timing.grace {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
            if read_version(kv, key)? >= target {
                return Ok(None);
            }
        }
    }
    Err(Error::Conflict(
        "a concurrent change to this resource did not complete; retry the request".into(),
    ))
}

/// Sleeps a random time up to `attempt` ms (at most 25 ms): full jitter.
fn back_off(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // A cheap spread of the clock's low bits; this is jitter, not security.
    let spread = u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let ceiling_micros = u64::from(attempt.min(25)) * 1_000;
    std::thread::sleep(Duration::from_micros(spread % ceiling_micros.max(1)));
}

/// Deletes the claim of `version` (best effort: a leftover claim is only a
/// few bytes). Claims of later generations exist only after a crash and are
/// left behind.
fn forget_claim(kv: &dyn KeyValue, key: &str, version: u64) {
    let _ = kv.delete(&keys::version_claim(key, version, 0));
}

fn read_version(kv: &dyn KeyValue, key: &str) -> Result<u64> {
    Ok(read_versioned(kv, key)?.0)
}

/// The version and document stored at a shared document's key.
fn read_versioned(kv: &dyn KeyValue, key: &str) -> Result<(u64, Option<Value>)> {
    let Some(bytes) = kv.get(key)? else {
        return Ok((0, None));
    };
    let mut stored: Value = parse_value(&bytes).map_err(|e| corrupt(key, e))?;
    let version = stored.get("version").and_then(Value::as_u64);
    match (version, stored.get_mut("doc")) {
        (Some(version), Some(doc)) => Ok((version, Some(doc.take()))),
        _ => Err(Error::Corrupt(format!("{key}: not a shared document"))),
    }
}

fn parse<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    from_json(bytes).map_err(|e| corrupt(key, e))
}

// The error paths are not generic: one copy for every document type.
#[inline(never)]
fn corrupt(key: &str, e: serde_json::Error) -> Error {
    Error::Corrupt(format!("{key}: {e}"))
}

#[inline(never)]
fn unencodable(e: serde_json::Error) -> Error {
    Error::Corrupt(format!("encoding: {e}"))
}

/// Parses JSON into `T` in two steps: the bytes into a [`serde_json::Value`]
/// (one parser for every type), then the `Value` into `T`.
///
/// Why not `serde_json::from_slice::<T>`: that instantiates the whole byte
/// parser once per stored type, and request bodies already go through
/// `Value` (see [`crate::base::input`]), so every type had two deserializers. One
/// path keeps each component tens of KB smaller; the documents are small.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    T::deserialize(parse_value(bytes)?)
}

#[inline(never)]
fn parse_value(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    serde_json::from_slice(bytes)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(unencodable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;
    use std::sync::Arc;

    /// Short periods so that the crash cases run quickly; the lease stays
    /// well inside the grace period, as it must.
    const FAST: Timing = Timing {
        lease: Duration::from_millis(250),
        grace: Duration::from_secs(1),
    };

    fn bump(kv: &dyn KeyValue, key: &str) -> Result<u32> {
        update_with(kv, key, FAST, |cur: Option<u32>| {
            let next = cur.unwrap_or(0) + 1;
            Ok(Step::Write(next, next))
        })
    }

    #[test]
    fn update_creates_then_changes_a_document() {
        let kv = MemoryStore::new();
        assert_eq!(bump(&kv, "k").unwrap(), 1);
        assert_eq!(bump(&kv, "k").unwrap(), 2);
        assert_eq!(read_shared::<u32>(&kv, "k").unwrap(), Some(2));
    }

    #[test]
    fn update_runs_again_when_another_writer_got_in_between() {
        let kv = MemoryStore::new();
        bump(&kv, "k").unwrap();
        let mut calls = 0;
        update_with(&kv, "k", FAST, |cur: Option<u32>| {
            calls += 1;
            if calls == 1 {
                // Another request changes the document after we read it.
                update_with(&kv, "k", FAST, |_: Option<u32>| Ok(Step::Write(10, ()))).unwrap();
            }
            Ok(Step::Write(cur.unwrap_or(0) + 1, ()))
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(read_shared::<u32>(&kv, "k").unwrap(), Some(11));
    }

    #[test]
    fn an_aborted_update_writes_nothing() {
        let kv = MemoryStore::new();
        let result: Result<()> =
            update(&kv, "k", |_: Option<u32>| Err(Error::NotFound("x".into())));
        assert!(result.is_err());
        assert!(kv.is_empty());
    }

    #[test]
    fn create_writes_only_once() {
        let kv = MemoryStore::new();
        assert!(create(&kv, "k", &"first").unwrap());
        assert!(!create(&kv, "k", &"second").unwrap());
        assert_eq!(
            read_shared::<String>(&kv, "k").unwrap().as_deref(),
            Some("first")
        );
    }

    /// `threads` threads each bump the document `bumps` times; returns its
    /// final value.
    fn bump_concurrently<S: KeyValue + Send + Sync + 'static>(
        kv: S,
        threads: usize,
        bumps: usize,
    ) -> Option<u32> {
        let kv = Arc::new(kv);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let kv = kv.clone();
                std::thread::spawn(move || {
                    for _ in 0..bumps {
                        bump(kv.as_ref(), "k").unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        read_shared::<u32>(kv.as_ref(), "k").unwrap()
    }

    #[test]
    fn concurrent_updates_never_lose_one() {
        assert_eq!(bump_concurrently(MemoryStore::new(), 8, 50), Some(400));
    }

    /// A store whose calls take a random 0–2 ms, so that writers read long
    /// before they claim, and some claim versions whose claims were deleted.
    struct Jittery(MemoryStore, std::sync::atomic::AtomicU64);

    impl Jittery {
        fn pause(&self) {
            use std::sync::atomic::Ordering;
            let x = self.1.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            let micros = (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 53;
            std::thread::sleep(Duration::from_micros(micros % 2_000));
        }
    }

    impl KeyValue for Jittery {
        fn get(&self, key: &str) -> crate::storage::store::StoreResult<Option<Vec<u8>>> {
            self.pause();
            self.0.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> crate::storage::store::StoreResult<()> {
            self.pause();
            self.0.set(key, value)
        }
        fn delete(&self, key: &str) -> crate::storage::store::StoreResult<()> {
            self.0.delete(key)
        }
        fn exists(&self, key: &str) -> crate::storage::store::StoreResult<bool> {
            self.0.exists(key)
        }
        fn increment(&self, key: &str, delta: i64) -> crate::storage::store::StoreResult<i64> {
            self.pause();
            self.0.increment(key, delta)
        }
        fn set_many(
            &self,
            entries: &[(String, Vec<u8>)],
        ) -> crate::storage::store::StoreResult<()> {
            self.pause();
            self.0.set_many(entries)
        }
    }

    #[test]
    fn concurrent_updates_on_a_slow_store_never_lose_one() {
        let kv = Jittery(MemoryStore::new(), Default::default());
        assert_eq!(bump_concurrently(kv, 16, 40), Some(640));
    }

    #[test]
    fn a_writer_that_died_after_claiming_delays_the_next_one_but_never_blocks_it() {
        let kv = MemoryStore::new();
        bump(&kv, "k").unwrap();
        // A request claimed version 2 and died before writing it.
        kv.increment(&keys::version_claim("k", 2, 0), 1).unwrap();
        assert_eq!(bump(&kv, "k").unwrap(), 2);
        assert_eq!(bump(&kv, "k").unwrap(), 3);
    }

    #[test]
    fn an_owner_past_its_lease_never_writes() {
        let kv = MemoryStore::new();
        bump(&kv, "k").unwrap();
        let late = Timing {
            lease: Duration::ZERO,
            grace: Duration::from_millis(1),
        };
        let result = update_with(&kv, "k", late, |_: Option<u32>| Ok(Step::Write(99, ())));
        assert!(matches!(result, Err(Error::Conflict(_))), "{result:?}");
        assert_eq!(read_shared::<u32>(&kv, "k").unwrap(), Some(1));
    }

    #[test]
    fn old_claims_are_deleted() {
        let kv = MemoryStore::new();
        for _ in 0..(KEPT_CLAIMS + 10) {
            bump(&kv, "k").unwrap();
        }
        let claims = kv.keys().iter().filter(|k| k.contains("#claim:")).count();
        assert_eq!(claims as u64, KEPT_CLAIMS);
    }

    #[test]
    fn a_single_writer_document_is_not_a_shared_one() {
        let kv = MemoryStore::new();
        write(&kv, "k", &1u32).unwrap();
        assert!(matches!(
            read_shared::<u32>(&kv, "k"),
            Err(Error::Corrupt(_))
        ));
    }
}
