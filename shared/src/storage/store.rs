//! The key-value storage edgechat runs on, as a small trait.
//!
//! On Spin it is the `default` key-value store (`spin_store`); in unit
//! tests it is [`MemoryStore`]. Only operations that Spin implements
//! correctly on every backend are here (so no compare-and-swap, which Spin's
//! Redis backend breaks), and none lists the whole store: listings are built from
//! per-account sequences ([`KeyValue::increment`]) so that they cost O(page).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// A storage failure. Its text is for logs only, never for a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key-value store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// What edgechat needs from a key-value store.
pub trait KeyValue {
    /// The value at `key`, if any.
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Writes `value` at `key`.
    fn set(&self, key: &str, value: &[u8]) -> StoreResult<()>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> StoreResult<()>;
    /// Whether `key` holds a value.
    fn exists(&self, key: &str) -> StoreResult<bool>;
    /// Atomically adds `delta` to the counter at `key` (missing = 0) and
    /// returns the new value. Concurrent callers never see the same result.
    ///
    /// Counters must only be read through `increment(key, 0)`: their byte
    /// encoding differs between Spin's backends.
    fn increment(&self, key: &str, delta: i64) -> StoreResult<i64>;
    /// Writes every entry in one call, all or none: a request's writes
    /// that must be seen together (a message and its event) and one round
    /// trip instead of several.
    ///
    /// `wasi:keyvalue/batch` itself promises no atomicity, but Spin's two
    /// backends edgechat runs on give it: SQLite writes the batch in one
    /// transaction and Redis in one `MSET` (Spin 3.6.3 and 4.0.2 read
    /// alike). A backend without that guarantee is not supported.
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> StoreResult<()>;
    // There is deliberately no `get_many`: Spin's Redis backend (3.6.3,
    // 4.0.2) sends the keys to `KEYS` instead of `MGET`, so it fails there.
    //
    // There is deliberately no compare-and-swap: Spin's Redis backend breaks
    // it (see `crate::storage::doc`, which builds read-modify-write on `increment`).
}

/// An in-memory [`KeyValue`] for unit tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys the store holds (for tests that check nothing was written).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key, sorted (for tests only: the application never lists keys).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        // A panic while holding the lock only happens in a failing test.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KeyValue for MemoryStore {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.lock().insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> StoreResult<()> {
        self.lock().remove(key);
        Ok(())
    }

    fn exists(&self, key: &str) -> StoreResult<bool> {
        Ok(self.lock().contains_key(key))
    }

    fn increment(&self, key: &str, delta: i64) -> StoreResult<i64> {
        let mut entries = self.lock();
        let current = match entries.get(key) {
            Some(bytes) => decode_counter(bytes)?,
            None => 0,
        };
        let next = current + delta;
        entries.insert(key.to_string(), next.to_le_bytes().to_vec());
        Ok(next)
    }

    fn set_many(&self, batch: &[(String, Vec<u8>)]) -> StoreResult<()> {
        let mut entries = self.lock();
        for (key, value) in batch {
            entries.insert(key.clone(), value.clone());
        }
        Ok(())
    }
}

fn decode_counter(bytes: &[u8]) -> StoreResult<i64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError("counter is not an 8-byte integer".into()))?;
    Ok(i64::from_le_bytes(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_starts_from_zero_and_counts_up() {
        let store = MemoryStore::new();
        assert_eq!(store.increment("c", 1).unwrap(), 1);
        assert_eq!(store.increment("c", 5).unwrap(), 6);
        assert_eq!(store.increment("c", 0).unwrap(), 6);
    }
}
