//! Key-value backends behind Spin's key-value interfaces.
//!
//! Each store label maps to one backend: SQLite (Spin's default, at
//! `<state-dir>/sqlite_key_value.db`, Spin's table layout) or Redis (from the
//! runtime config). Both give atomic `increment` across concurrent requests
//! and across processes sharing the backend. Compare-and-swap works on
//! SQLite only: on Redis it is refused, because Spin's own Redis backend
//! (3.6.x, 4.0.x) breaks it (and so is `get-many`, which that backend sends
//! to `KEYS`), and a component that relies on it there must
//! fail here as it would under Spin, not pass.

mod fault;
mod redis;
mod sqlite;

pub use self::redis::RedisStore;
pub use self::sqlite::SqliteDb;

use std::sync::Arc;

/// What a compare-and-swap on Redis answers.
pub const REDIS_CAS_REFUSED: &str = "compare-and-swap is not supported on a Redis key-value \
    store: Spin's Redis backend (3.6.x, 4.0.x) reports a swap that wrote as cas-failed and a \
    conflict as success";

/// What a get-many on Redis answers.
pub const REDIS_GET_MANY_REFUSED: &str = "get-many is not supported on a Redis key-value \
    store: Spin's Redis backend (3.6.x, 4.0.x) sends the keys to KEYS (a pattern match) \
    instead of MGET, so the call fails there";

/// Why a key-value call failed. Mirrors the WIT `error` variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// The label has no backend.
    NoSuchStore,
    /// The component did not declare the label in `key_value_stores`.
    AccessDenied,
    /// The backend failed.
    Other(String),
}

impl KvError {
    fn other(e: impl std::fmt::Display) -> Self {
        KvError::Other(e.to_string())
    }
}

/// Result of a key-value call.
pub type KvResult<T> = Result<T, KvError>;

/// One store label's backend.
pub enum Backend {
    /// A label in a SQLite database file.
    Sqlite {
        /// The database, shared by every label that lives in it.
        db: Arc<SqliteDb>,
        /// The label: the `store` column of Spin's table.
        label: String,
    },
    /// A Redis server.
    Redis(RedisStore),
}

impl Backend {
    /// The value at `key`.
    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        match self {
            Backend::Sqlite { db, label } => db.get(label, key).await,
            Backend::Redis(r) => r.get(key).await,
        }
    }

    /// Writes `value` at `key`.
    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        let written = match self {
            Backend::Sqlite { db, label } => db.set(label, key, value).await,
            Backend::Redis(r) => r.set(key, value).await,
        };
        fault::after_write();
        written
    }

    /// Removes `key`.
    pub async fn delete(&self, key: &str) -> KvResult<()> {
        let deleted = match self {
            Backend::Sqlite { db, label } => db.delete(label, key).await,
            Backend::Redis(r) => r.delete(key).await,
        };
        fault::after_write();
        deleted
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        match self {
            Backend::Sqlite { db, label } => db.exists(label, key).await,
            Backend::Redis(r) => r.exists(key).await,
        }
    }

    /// Every key of the store.
    pub async fn keys(&self) -> KvResult<Vec<String>> {
        match self {
            Backend::Sqlite { db, label } => db.keys(label).await,
            Backend::Redis(r) => r.keys().await,
        }
    }

    /// Atomically adds `delta` to the counter at `key`; returns the new value.
    pub async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        let counted = match self {
            Backend::Sqlite { db, label } => db.increment(label, key, delta).await,
            Backend::Redis(r) => r.increment(key, delta).await,
        };
        if delta != 0 {
            fault::after_write();
        }
        counted
    }

    /// Writes `new` only if `key` still holds `expected` (`None`: absent).
    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        let swapped = match self {
            Backend::Sqlite { db, label } => db.compare_and_swap(label, key, expected, new).await,
            Backend::Redis(_) => Err(KvError::Other(REDIS_CAS_REFUSED.into())),
        };
        fault::after_write();
        swapped
    }

    /// The values of several keys, in order, absent ones included as `None`.
    pub async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        match self {
            Backend::Sqlite { db, label } => db.get_many(label, keys).await,
            Backend::Redis(_) => Err(KvError::Other(REDIS_GET_MANY_REFUSED.into())),
        }
    }

    /// Writes several keys at once (atomically on both backends).
    pub async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        let written = match self {
            Backend::Sqlite { db, label } => db.set_many(label, entries).await,
            Backend::Redis(r) => r.set_many(entries).await,
        };
        fault::after_write();
        written
    }

    /// Removes several keys at once.
    pub async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        let deleted = match self {
            Backend::Sqlite { db, label } => db.delete_many(label, keys).await,
            Backend::Redis(r) => r.delete_many(keys).await,
        };
        fault::after_write();
        deleted
    }
}

/// The backend of every store label the app may open.
#[derive(Default)]
pub struct KvStores {
    backends: std::collections::HashMap<String, Arc<Backend>>,
}

impl KvStores {
    /// Registers the backend for `label`.
    pub fn insert(&mut self, label: &str, backend: Backend) {
        self.backends.insert(label.to_string(), Arc::new(backend));
    }

    /// The backend for `label`, if one is configured.
    pub fn get(&self, label: &str) -> Option<Arc<Backend>> {
        self.backends.get(label).cloned()
    }
}
