//! [`KeyValue`] over Spin's key-value store, for the components.
//!
//! Plain reads and writes go through `fermyon:spin/key-value`; counters
//! through `wasi:keyvalue/atomics` `increment`, which Spin implements
//! atomically on SQLite, Redis and Azure alike. Its compare-and-swap is not
//! used: Spin's Redis backend breaks it (see [`crate::storage::doc`]).
//! Batches of writes through `wasi:keyvalue/batch` `set-many`, which Spin
//! writes atomically on SQLite and Redis ([`KeyValue::set_many`]).

use crate::storage::store::{KeyValue, StoreError, StoreResult};
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi_store};
use std::cell::OnceCell;

/// A Spin key-value store opened by label (`default` unless said otherwise).
pub struct SpinStore {
    label: String,
    store: Store,
    bucket: OnceCell<wasi_store::Bucket>,
}

impl SpinStore {
    /// Opens the store with this label; fails if the component may not use it.
    pub fn open(label: &str) -> StoreResult<Self> {
        let store = Store::open(label).map_err(|e| StoreError(format!("open {label}: {e}")))?;
        Ok(SpinStore {
            label: label.to_string(),
            store,
            bucket: OnceCell::new(),
        })
    }

    /// Opens the `default` store.
    pub fn open_default() -> StoreResult<Self> {
        Self::open("default")
    }

    // The atomics interface needs its own handle; most requests never use it,
    // so it is opened on first use.
    fn bucket(&self) -> StoreResult<&wasi_store::Bucket> {
        if let Some(bucket) = self.bucket.get() {
            return Ok(bucket);
        }
        let bucket = wasi_store::open(&self.label).map_err(wasi_error)?;
        Ok(self.bucket.get_or_init(|| bucket))
    }
}

fn spin_error(e: spin_sdk::key_value::Error) -> StoreError {
    StoreError(e.to_string())
}

fn wasi_error(e: wasi_store::Error) -> StoreError {
    StoreError(format!("{e:?}"))
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.store.get(key).map_err(spin_error)
    }

    fn set(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.store.set(key, value).map_err(spin_error)
    }

    fn delete(&self, key: &str) -> StoreResult<()> {
        self.store.delete(key).map_err(spin_error)
    }

    fn exists(&self, key: &str) -> StoreResult<bool> {
        self.store.exists(key).map_err(spin_error)
    }

    fn increment(&self, key: &str, delta: i64) -> StoreResult<i64> {
        atomics::increment(self.bucket()?, key, delta).map_err(wasi_error)
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> StoreResult<()> {
        batch::set_many(self.bucket()?, entries).map_err(wasi_error)
    }
}
