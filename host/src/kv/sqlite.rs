//! SQLite key-value storage in Spin's layout: one table `spin_key_value
//! (store, key, value)`, counters as 8-byte little-endian integers.
//!
//! One writer and a pool of readers per file: every write goes through the
//! one writer connection, while reads take a connection of their own from
//! the pool, so that in WAL mode a read never waits for a write or for
//! another read (each read sees the last committed state). Several host
//! processes may share one file: read-modify-write runs in `BEGIN
//! IMMEDIATE` transactions (the write lock is taken up front, so two
//! processes never deadlock upgrading), and a busy timeout makes a
//! contended writer wait instead of failing.

use super::{KvError, KvResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Idle reader connections kept open for the next reads; more are opened
/// while more reads run at once, and closed when they are done.
const IDLE_READERS: usize = 16;

/// How long a connection waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One SQLite database file.
pub struct SqliteDb {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<SqliteDb> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
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
        let db = SqliteDb {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        };
        // Fail at start-up, not on the first read, if readers cannot open.
        let reader = db.open_reader()?;
        db.idle_readers().push(reader);
        Ok(db)
    }

    fn open_reader(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // A reader never writes: make a slip an error, not a second writer.
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    // SQLite calls block; the host runs them in place on a multi-threaded
    // runtime (see `block`), so other requests keep running meanwhile.
    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        block(|| {
            let mut conn = lock(&self.writer);
            f(&mut conn).map_err(KvError::other)
        })
    }

    fn read<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        block(|| {
            let idle = self.idle_readers().pop();
            let mut conn = match idle {
                Some(conn) => conn,
                None => self.open_reader().map_err(KvError::other)?,
            };
            let result = f(&mut conn).map_err(KvError::other);
            // A failed read rolled back (statements and transactions end
            // with the closure), so the connection is fit to reuse.
            let mut idle = self.idle_readers();
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
    }

    fn idle_readers(&self) -> MutexGuard<'_, Vec<Connection>> {
        lock(&self.readers)
    }

    pub fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.write(|c| upsert(c, store, key, value))
    }

    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.write(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
    }

    pub fn exists(&self, store: &str, key: &str) -> KvResult<bool> {
        self.read(|c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
    }

    pub fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        self.read(|c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
    }

    pub fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        let outcome = self.write(|c| {
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
        self.write(|c| {
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

    /// The keys of `keys` that exist, with their values, in no particular
    /// order: as Spin's SQLite backend answers (3.6.3, 4.0.2: one `SELECT …
    /// WHERE key IN (…)`), missing keys are left out rather than `None`, so
    /// a component that relies on order or on `None` entries fails here as
    /// it would there.
    pub fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        self.read(|c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                )?;
                for key in keys {
                    let value: Option<Vec<u8>> = stmt
                        .query_row(params![store, key], |row| row.get(0))
                        .optional()?;
                    if let Some(value) = value {
                        out.push((key, Some(value)));
                    }
                }
            }
            tx.commit()?;
            // Spin's `IN (…)` answers in the index's order, not the asking order.
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        })
    }

    pub fn set_many(&self, store: &str, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (key, value) in &entries {
                upsert(&tx, store, key, value)?;
            }
            tx.commit()
        })
    }

    pub fn delete_many(&self, store: &str, keys: Vec<String>) -> KvResult<()> {
        self.write(|c| {
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic mid-call; the connection itself is
    // still consistent (SQLite rolled back), so keep using it.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Runs `f` on another thread; panics if it has not finished within a
    /// generous deadline (it waits on a lock it must not wait on).
    fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the read waited behind the write")
    }

    #[test]
    fn reads_do_not_wait_for_the_writer() {
        let (dir, db) = db();
        db.set("s", "k", b"old").unwrap();
        let db = std::sync::Arc::new(db);
        // This process's writer is busy (its lock held) ...
        let writer = lock(&db.writer);
        // ... and another process holds the file's write lock mid-write.
        let mut other = Connection::open(dir.path().join("kv.db")).unwrap();
        let tx = other
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        upsert(&tx, "s", "k", b"uncommitted").unwrap();
        let reader = db.clone();
        let (value, many, exists) = within_deadline(move || {
            (
                reader.get("s", "k").unwrap(),
                reader.get_many("s", vec!["k".into()]).unwrap(),
                reader.exists("s", "k").unwrap(),
            )
        });
        // Reads see the last committed state, never the write in progress.
        assert_eq!(value, Some(b"old".to_vec()));
        assert_eq!(many, vec![("k".into(), Some(b"old".to_vec()))]);
        assert!(exists);
        drop(writer);
        tx.commit().unwrap();
        assert_eq!(db.get("s", "k").unwrap(), Some(b"uncommitted".to_vec()));
    }

    #[test]
    fn concurrent_reads_and_increments_see_every_committed_write() {
        let (_dir, db) = db();
        let db = std::sync::Arc::new(db);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..200 {
                        let n = db.increment("s", "c", 1).unwrap();
                        assert!(n > last);
                        last = n;
                        // A read after a write sees it (or a later one).
                        let seen = db.get("s", "c").unwrap().unwrap();
                        let seen = i64::from_le_bytes(seen.try_into().unwrap());
                        assert!(seen >= n, "thread {t} read {seen} after writing {n}");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(db.increment("s", "c", 0).unwrap(), 1_600);
        assert!(db.idle_readers().len() <= IDLE_READERS);
    }

    #[test]
    fn a_reader_refuses_to_write() {
        let (_dir, db) = db();
        let refused = db.read(|c| upsert(c, "s", "k", b"v"));
        assert!(refused.is_err());
        assert_eq!(db.get("s", "k").unwrap(), None);
    }

    #[test]
    fn batches_leave_absent_keys_out_as_spin_does() {
        let (_dir, db) = db();
        db.set_many(
            "s",
            vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())],
        )
        .unwrap();
        let got = db
            .get_many("s", vec!["x".into(), "b".into(), "a".into()])
            .unwrap();
        assert_eq!(
            got,
            vec![
                ("a".into(), Some(b"1".to_vec())),
                ("b".into(), Some(b"2".to_vec()))
            ]
        );
        db.delete_many("s", vec!["a".into(), "b".into()]).unwrap();
        assert!(db.keys("s").unwrap().is_empty());
    }
}
