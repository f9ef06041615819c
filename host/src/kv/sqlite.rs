//! SQLite key-value storage in Spin's layout: one table `spin_key_value
//! (store, key, value)`, counters as 8-byte little-endian integers.
//!
//! Several host processes may share one file: WAL mode lets readers run beside
//! a writer, read-modify-write runs in `BEGIN IMMEDIATE` transactions (the
//! write lock is taken up front, so two processes never deadlock upgrading),
//! and a busy timeout makes a contended writer wait instead of failing.

use super::{KvError, KvResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One SQLite database file.
pub struct SqliteDb {
    conn: Mutex<Connection>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<SqliteDb> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // WAL for concurrent readers and cheap commits; NORMAL sync keeps every
        // committed write across a process crash (only an OS crash or power
        // loss can roll back the last commits).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        Ok(SqliteDb {
            conn: Mutex::new(conn),
        })
    }

    // SQLite calls block; the host runs them in place on a multi-threaded
    // runtime (see `block`), so other requests keep running meanwhile.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        block(|| {
            let mut conn = self.lock();
            f(&mut conn).map_err(KvError::other)
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock means a panic mid-call; the connection itself is
        // still consistent (SQLite rolled back), so keep using it.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.with(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.with(|c| upsert(c, store, key, value))
    }

    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.with(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
    }

    pub fn exists(&self, store: &str, key: &str) -> KvResult<bool> {
        self.with(|c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
    }

    pub fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        self.with(|c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
    }

    pub fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        let outcome = self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()?;
            let current = match current {
                None => 0,
                Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                    Ok(array) => i64::from_le_bytes(array),
                    Err(_) => return Ok(Err(())),
                },
            };
            let next = current.wrapping_add(delta);
            upsert(&tx, store, key, &next.to_le_bytes())?;
            tx.commit()?;
            Ok(Ok(next))
        })?;
        outcome.map_err(|()| KvError::Other(format!("the value at '{key}' is not a counter")))
    }

    pub fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        // Each branch is one statement, so SQLite makes it atomic by itself.
        self.with(|c| {
            let changed = match expected {
                Some(old) => c
                    .prepare_cached(
                        "UPDATE spin_key_value SET value = ?4
                         WHERE store = ?1 AND key = ?2 AND value = ?3",
                    )?
                    .execute(params![store, key, old, new])?,
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (store, key) DO NOTHING",
                    )?
                    .execute(params![store, key, new])?,
            };
            Ok(changed == 1)
        })
    }

    pub fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                )?;
                for key in keys {
                    let value = stmt
                        .query_row(params![store, key], |row| row.get(0))
                        .optional()?;
                    out.push((key, value));
                }
            }
            tx.commit()?;
            Ok(out)
        })
    }

    pub fn set_many(&self, store: &str, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (key, value) in &entries {
                upsert(&tx, store, key, value)?;
            }
            tx.commit()
        })
    }

    pub fn delete_many(&self, store: &str, keys: Vec<String>) -> KvResult<()> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt =
                    tx.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?;
                for key in &keys {
                    stmt.execute(params![store, key])?;
                }
            }
            tx.commit()
        })
    }
}

fn upsert(c: &Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![store, key, value])
    .map(drop)
}

/// Runs blocking work without stalling the async runtime's other tasks.
fn block<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, SqliteDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(&dir.path().join("kv.db")).unwrap();
        (dir, db)
    }

    #[test]
    fn values_round_trip_per_store() {
        let (_dir, db) = db();
        db.set("a", "k", b"one").unwrap();
        db.set("b", "k", b"two").unwrap();
        assert_eq!(db.get("a", "k").unwrap(), Some(b"one".to_vec()));
        assert_eq!(db.get("b", "k").unwrap(), Some(b"two".to_vec()));
        db.delete("a", "k").unwrap();
        assert!(!db.exists("a", "k").unwrap());
        assert!(db.exists("b", "k").unwrap());
    }

    #[test]
    fn counters_are_little_endian_like_spin() {
        let (_dir, db) = db();
        assert_eq!(db.increment("s", "c", 2).unwrap(), 2);
        assert_eq!(db.increment("s", "c", 3).unwrap(), 5);
        assert_eq!(db.get("s", "c").unwrap(), Some(5i64.to_le_bytes().to_vec()));
        db.set("s", "text", b"hello").unwrap();
        assert!(db.increment("s", "text", 1).is_err());
    }

    #[test]
    fn compare_and_swap_refuses_a_changed_value() {
        let (_dir, db) = db();
        assert!(db.compare_and_swap("s", "k", None, b"1").unwrap());
        assert!(!db.compare_and_swap("s", "k", None, b"2").unwrap());
        assert!(!db.compare_and_swap("s", "k", Some(b"0"), b"2").unwrap());
        assert!(db.compare_and_swap("s", "k", Some(b"1"), b"2").unwrap());
        assert_eq!(db.get("s", "k").unwrap(), Some(b"2".to_vec()));
    }

    #[test]
    fn batches_read_absent_keys_as_none() {
        let (_dir, db) = db();
        db.set_many(
            "s",
            vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())],
        )
        .unwrap();
        let got = db.get_many("s", vec!["a".into(), "x".into()]).unwrap();
        assert_eq!(
            got,
            vec![("a".into(), Some(b"1".to_vec())), ("x".into(), None)]
        );
        db.delete_many("s", vec!["a".into(), "b".into()]).unwrap();
        assert!(db.keys("s").unwrap().is_empty());
    }
}
