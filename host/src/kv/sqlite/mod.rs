//! SQLite key-value storage in Spin's layout: one table `spin_key_value
//! (store, key, value)`, counters as 8-byte little-endian integers.
//!
//! One writer and a pool of readers per file. Every write goes to the
//! file's writer thread ([`writer`]), which commits queued writes in
//! groups, one transaction for many requests' writes, and answers each
//! only once it is committed. Reads take a connection of their own from
//! the pool, so that in WAL mode a read never waits for a write or for
//! another read (each read sees the last committed state, so a request
//! reads back what it wrote). Several host processes may share one file:
//! the writer's transactions are `BEGIN IMMEDIATE` (the write lock is
//! taken up front, so two processes never deadlock upgrading), and a busy
//! timeout makes a contended writer wait instead of failing.

mod writer;

use self::writer::{Write, Writer, Written};
use super::{KvError, KvResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Idle reader connections kept open for the next reads; more are opened
/// while more reads run at once, and closed when they are done.
const IDLE_READERS: usize = 16;

/// How long a connection waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A `get_many` of at most this many keys runs in place (see
/// [`SqliteDb::get_many`]).
const IN_PLACE_KEYS: usize = 32;

/// One SQLite database file.
pub struct SqliteDb {
    writer: Writer,
    readers: Arc<Readers>,
}

/// The file's reading connections.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
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
        let readers = Arc::new(Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        });
        // Fail at start-up, not on the first read, if readers cannot open.
        let reader = readers.open()?;
        readers.idle().push(reader);
        Ok(SqliteDb {
            writer: Writer::start(conn)?,
            readers,
        })
    }

    async fn write(&self, store: &str, write: Write) -> KvResult<Written> {
        self.writer.write(store, write).await
    }

    pub async fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        // A point read takes a few microseconds from the page cache: it
        // runs in place, on the request's worker. Handing it to another
        // thread (`block_in_place`, `spawn_blocking`) costs more than the
        // read. In WAL mode it waits for nobody, bar SQLite's rare busy
        // moments (a WAL being reset by another process), which the busy
        // timeout rides out.
        self.readers.read(|c| get(c, store, key))
    }

    pub async fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        let write = Write::Set {
            key: key.to_string(),
            value: value.to_vec(),
        };
        self.write(store, write).await.map(drop)
    }

    pub async fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        let write = Write::Delete {
            key: key.to_string(),
        };
        self.write(store, write).await.map(drop)
    }

    pub async fn exists(&self, store: &str, key: &str) -> KvResult<bool> {
        // In place, as `get`.
        self.readers.read(|c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
    }

    pub async fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        // A whole store may be large: read it off the async workers.
        let store = store.to_string();
        self.readers
            .read_aside(move |c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                    .query_map(params![&store], |row| row.get(0))?
                    .collect()
            })
            .await
    }

    pub async fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        let write = Write::Increment {
            key: key.to_string(),
            delta,
        };
        match self.write(store, write).await? {
            Written::Counter(n) => Ok(n),
            other => unreachable!("an increment answered {other:?}"),
        }
    }

    pub async fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        let write = Write::CompareAndSwap {
            key: key.to_string(),
            expected: expected.map(<[u8]>::to_vec),
            new: new.to_vec(),
        };
        match self.write(store, write).await? {
            Written::Swapped(swapped) => Ok(swapped),
            other => unreachable!("a compare-and-swap answered {other:?}"),
        }
    }

    /// The keys of `keys` that exist, with their values, in no particular
    /// order: as Spin's SQLite backend answers (3.6.3, 4.0.2: one `SELECT …
    /// WHERE key IN (…)`), missing keys are left out rather than `None`, so
    /// a component that relies on order or on `None` entries fails here as
    /// it would there. A few keys are read in place, like `get`; more, off
    /// the async workers.
    pub async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        if keys.len() <= IN_PLACE_KEYS {
            return self.readers.read(|c| get_many(c, store, keys));
        }
        let store = store.to_string();
        self.readers
            .read_aside(move |c| get_many(c, &store, keys))
            .await
    }

    /// Writes every entry or none.
    pub async fn set_many(&self, store: &str, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.write(store, Write::SetMany { entries })
            .await
            .map(drop)
    }

    /// Removes every key or none.
    pub async fn delete_many(&self, store: &str, keys: Vec<String>) -> KvResult<()> {
        self.write(store, Write::DeleteMany { keys })
            .await
            .map(drop)
    }
}

impl Readers {
    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // A reader never writes: make a slip an error, not a second writer.
        conn.pragma_update(None, "query_only", true)?;
        // Reads of a big store (100k conversations) land on pages scattered
        // over the file: map it (the OS page cache, shared by every reader)
        // and give each reader a 32 MiB cache instead of SQLite's 2 MiB, so
        // a read costs the same at 100k as at 1k (the bench's poll-first-big
        // against poll-first-1k). Both are upper bounds, not allocations.
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        conn.pragma_update(None, "cache_size", -32 * 1024)?;
        Ok(conn)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A poisoned lock means a panic mid-call; the connections are still
        // consistent (SQLite rolled back), so keep using them.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on an idle reader (or a new one), on this thread.
    fn read<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        let idle = self.idle().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(KvError::other)?,
        };
        let result = f(&mut conn).map_err(KvError::other);
        // A failed read rolled back (statements and transactions end
        // with the closure), so the connection is fit to reuse.
        let mut idle = self.idle();
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    /// Runs `f` as [`Readers::read`], on tokio's blocking pool when there is
    /// a runtime: for reads too long to hold an async worker with.
    async fn read_aside<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> KvResult<T> {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.read(f);
        }
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.read(f))
            .await
            .map_err(|e| KvError::Other(format!("a SQLite read failed: {e}")))?
    }
}

fn get(c: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
}

fn get_many(
    c: &mut Connection,
    store: &str,
    keys: Vec<String>,
) -> rusqlite::Result<Vec<(String, Option<Vec<u8>>)>> {
    // One read transaction: every value from the same committed state.
    let tx = c.transaction()?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = get(&tx, store, &key)? {
            out.push((key, Some(value)));
        }
    }
    tx.commit()?;
    // Spin's `IN (…)` answers in the index's order, not the asking order.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::Ordering;

    fn db() -> (tempfile::TempDir, SqliteDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(&dir.path().join("kv.db")).unwrap();
        (dir, db)
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Another process's connection to the same file.
    fn other_process(dir: &tempfile::TempDir) -> Connection {
        Connection::open(dir.path().join("kv.db")).unwrap()
    }

    #[test]
    fn values_round_trip_per_store() {
        let (_dir, db) = db();
        block_on(async {
            db.set("a", "k", b"one").await.unwrap();
            db.set("b", "k", b"two").await.unwrap();
            assert_eq!(db.get("a", "k").await.unwrap(), Some(b"one".to_vec()));
            assert_eq!(db.get("b", "k").await.unwrap(), Some(b"two".to_vec()));
            db.delete("a", "k").await.unwrap();
            assert!(!db.exists("a", "k").await.unwrap());
            assert!(db.exists("b", "k").await.unwrap());
            assert_eq!(db.keys("b").await.unwrap(), vec!["k".to_string()]);
        });
    }

    #[test]
    fn counters_are_little_endian_like_spin() {
        let (_dir, db) = db();
        block_on(async {
            assert_eq!(db.increment("s", "c", 2).await.unwrap(), 2);
            assert_eq!(db.increment("s", "c", 3).await.unwrap(), 5);
            assert_eq!(
                db.get("s", "c").await.unwrap(),
                Some(5i64.to_le_bytes().to_vec())
            );
            db.set("s", "text", b"hello").await.unwrap();
            let refused = db.increment("s", "text", 1).await.unwrap_err();
            assert_eq!(
                refused,
                KvError::Other("the value at 'text' is not a counter".into())
            );
            assert_eq!(db.get("s", "text").await.unwrap(), Some(b"hello".to_vec()));
        });
    }

    #[test]
    fn compare_and_swap_refuses_a_changed_value() {
        let (_dir, db) = db();
        block_on(async {
            assert!(db.compare_and_swap("s", "k", None, b"1").await.unwrap());
            assert!(!db.compare_and_swap("s", "k", None, b"2").await.unwrap());
            assert!(
                !db.compare_and_swap("s", "k", Some(b"0"), b"2")
                    .await
                    .unwrap()
            );
            assert!(
                db.compare_and_swap("s", "k", Some(b"1"), b"2")
                    .await
                    .unwrap()
            );
            assert_eq!(db.get("s", "k").await.unwrap(), Some(b"2".to_vec()));
        });
    }

    /// Runs `f` on another thread; panics if it has not finished within a
    /// generous deadline (it waits on a lock it must not wait on).
    fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the read waited behind the write")
    }

    /// Waits until the writer has been handed `n` writes in all.
    fn until_queued(db: &SqliteDb, n: u64) {
        while db.writer.counts().queued.load(Ordering::SeqCst) < n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn reads_do_not_wait_for_the_writer() {
        let (dir, db) = db();
        block_on(db.set("s", "k", b"old")).unwrap();
        let db = Arc::new(db);
        // Another process holds the file's write lock mid-write ...
        let mut other = other_process(&dir);
        let tx = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        writer::upsert(&tx, "s", "k", b"uncommitted").unwrap();
        // ... so this process's writer waits for it, with a write queued.
        let waiting = std::thread::spawn({
            let db = db.clone();
            move || block_on(db.set("s", "mine", b"queued"))
        });
        until_queued(&db, 2);
        let reader = db.clone();
        let (value, many, exists, keys) = within_deadline(move || {
            block_on(async {
                (
                    reader.get("s", "k").await.unwrap(),
                    reader.get_many("s", vec!["k".into()]).await.unwrap(),
                    reader.exists("s", "k").await.unwrap(),
                    reader.keys("s").await.unwrap(),
                )
            })
        });
        // Reads see the last committed state, never the write in progress.
        assert_eq!(value, Some(b"old".to_vec()));
        assert_eq!(many, vec![("k".into(), Some(b"old".to_vec()))]);
        assert!(exists);
        assert_eq!(keys, vec!["k".to_string()]);
        tx.commit().unwrap();
        waiting.join().unwrap().unwrap();
        block_on(async {
            assert_eq!(
                db.get("s", "k").await.unwrap(),
                Some(b"uncommitted".to_vec())
            );
            assert_eq!(db.get("s", "mine").await.unwrap(), Some(b"queued".to_vec()));
        });
    }

    #[test]
    fn concurrent_reads_and_increments_see_every_committed_write() {
        let (_dir, db) = db();
        let db = Arc::new(db);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|t| {
                    let db = db.clone();
                    tokio::spawn(async move {
                        let mut last = 0;
                        for _ in 0..200 {
                            let n = db.increment("s", "c", 1).await.unwrap();
                            assert!(n > last);
                            last = n;
                            // A read after an acknowledged write sees it (or a later one).
                            let seen = db.get("s", "c").await.unwrap().unwrap();
                            let seen = i64::from_le_bytes(seen.try_into().unwrap());
                            assert!(seen >= n, "task {t} read {seen} after writing {n}");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(db.increment("s", "c", 0).await.unwrap(), 1_600);
        });
        assert!(db.readers.idle().len() <= IDLE_READERS);
    }

    #[test]
    fn writes_queued_together_commit_together_and_fail_alone() {
        let (dir, db) = db();
        block_on(db.set("s", "text", b"hello")).unwrap();
        let db = Arc::new(db);
        let commits_before = db.writer.counts().commits.load(Ordering::SeqCst);
        let queued_before = db.writer.counts().queued.load(Ordering::SeqCst);
        // Another process holds the write lock, and sets a counter, while
        // four writes queue up behind it.
        let mut other = other_process(&dir);
        let tx = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        writer::upsert(&tx, "s", "c", &10i64.to_le_bytes()).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let counted = runtime.spawn({
            let db = db.clone();
            async move { db.increment("s", "c", 1).await }
        });
        let refused = runtime.spawn({
            let db = db.clone();
            async move { db.increment("s", "text", 1).await }
        });
        let set = runtime.spawn({
            let db = db.clone();
            async move { db.set("s", "k", b"v").await }
        });
        let many = runtime.spawn({
            let db = db.clone();
            async move {
                let entries = vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())];
                db.set_many("s", entries).await
            }
        });
        until_queued(&db, queued_before + 4);
        tx.commit().unwrap();
        runtime.block_on(async {
            // Each write sees the one committed before it (the other
            // process's 10), and the failing one fails alone.
            assert_eq!(counted.await.unwrap(), Ok(11));
            assert_eq!(
                refused.await.unwrap(),
                Err(KvError::Other(
                    "the value at 'text' is not a counter".into()
                ))
            );
            assert_eq!(set.await.unwrap(), Ok(()));
            assert_eq!(many.await.unwrap(), Ok(()));
            assert_eq!(db.get("s", "text").await.unwrap(), Some(b"hello".to_vec()));
            assert_eq!(db.get("s", "k").await.unwrap(), Some(b"v".to_vec()));
            let both = db
                .get_many("s", vec!["a".into(), "b".into()])
                .await
                .unwrap();
            assert_eq!(both.len(), 2);
        });
        // All four were queued before the lock came: one transaction.
        assert_eq!(
            db.writer.counts().commits.load(Ordering::SeqCst),
            commits_before + 1
        );
    }

    /// Makes SQLite refuse, from another connection, writes of `key`: with
    /// `ABORT` the statement fails and the transaction goes on, with
    /// `ROLLBACK` SQLite rolls back the whole transaction by itself (as it
    /// does on a full disk or an I/O error).
    fn refuse_writes_of(dir: &tempfile::TempDir, key: &str, how: &str) {
        other_process(dir)
            .execute_batch(&format!(
                "CREATE TRIGGER refuse_{key} BEFORE INSERT ON spin_key_value
                 WHEN NEW.key = '{key}' BEGIN SELECT RAISE({how}, 'refused {key}'); END;"
            ))
            .unwrap();
    }

    #[test]
    fn a_batch_that_fails_midway_leaves_nothing_half_written() {
        let (dir, db) = db();
        refuse_writes_of(&dir, "bad", "ABORT");
        block_on(async {
            let entries = vec![("a".into(), b"1".to_vec()), ("bad".into(), b"2".to_vec())];
            let refused = db.set_many("s", entries).await.unwrap_err();
            assert!(
                format!("{refused:?}").contains("refused bad"),
                "{refused:?}"
            );
            assert_eq!(db.get("s", "a").await.unwrap(), None);
            db.set("s", "after", b"fine").await.unwrap();
            assert_eq!(db.get("s", "after").await.unwrap(), Some(b"fine".to_vec()));
        });
    }

    /// Queues `keys` as sets while another process holds the write lock,
    /// so that they form one group; their answers.
    fn set_in_one_group(
        dir: &tempfile::TempDir,
        db: &Arc<SqliteDb>,
        keys: &[&str],
    ) -> Vec<KvResult<()>> {
        let queued_before = db.writer.counts().queued.load(Ordering::SeqCst);
        let mut other = other_process(dir);
        let lock = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let sets: Vec<_> = keys
            .iter()
            .map(|key| {
                let (db, key) = (db.clone(), key.to_string());
                runtime.spawn(async move { db.set("s", &key, b"v").await })
            })
            .collect();
        until_queued(db, queued_before + keys.len() as u64);
        lock.commit().unwrap();
        runtime.block_on(async {
            let mut answers = Vec::new();
            for set in sets {
                answers.push(set.await.unwrap());
            }
            answers
        })
    }

    #[test]
    fn a_write_refused_in_a_group_does_not_fail_its_neighbours() {
        let (dir, db) = db();
        refuse_writes_of(&dir, "bad", "ABORT");
        let db = Arc::new(db);
        let answers = set_in_one_group(&dir, &db, &["one", "bad", "two"]);
        assert!(answers[0].is_ok() && answers[2].is_ok(), "{answers:?}");
        assert!(answers[1].is_err(), "{answers:?}");
        block_on(async {
            assert_eq!(db.get("s", "one").await.unwrap(), Some(b"v".to_vec()));
            assert_eq!(db.get("s", "bad").await.unwrap(), None);
            assert_eq!(db.get("s", "two").await.unwrap(), Some(b"v".to_vec()));
        });
    }

    #[test]
    fn a_group_whose_transaction_is_lost_fails_every_write_and_keeps_none() {
        let (dir, db) = db();
        refuse_writes_of(&dir, "doom", "ROLLBACK");
        let db = Arc::new(db);
        let answers = set_in_one_group(&dir, &db, &["one", "doom", "two"]);
        // Nothing acknowledged, nothing written: not even the writes that
        // ran before the failure, nor those after it outside a transaction.
        assert!(answers.iter().all(Result::is_err), "{answers:?}");
        block_on(async {
            assert!(db.keys("s").await.unwrap().is_empty());
            // The writer goes on with the next group.
            db.set("s", "after", b"fine").await.unwrap();
            assert_eq!(db.keys("s").await.unwrap(), vec!["after".to_string()]);
        });
    }

    #[test]
    fn a_reader_refuses_to_write() {
        let (_dir, db) = db();
        let refused = db.readers.read(|c| writer::upsert(c, "s", "k", b"v"));
        assert!(refused.is_err());
        assert_eq!(block_on(db.get("s", "k")).unwrap(), None);
    }

    #[test]
    fn batches_leave_absent_keys_out_as_spin_does() {
        let (_dir, db) = db();
        block_on(async {
            db.set_many(
                "s",
                vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())],
            )
            .await
            .unwrap();
            let got = db
                .get_many("s", vec!["x".into(), "b".into(), "a".into()])
                .await
                .unwrap();
            let expected: Vec<(String, Option<Vec<u8>>)> = vec![
                ("a".into(), Some(b"1".to_vec())),
                ("b".into(), Some(b"2".to_vec())),
            ];
            assert_eq!(got, expected);
            // More keys than are read in place: the same answer.
            let mut many: Vec<String> = (0..IN_PLACE_KEYS * 2).map(|i| format!("x{i}")).collect();
            many.extend(["b".to_string(), "a".to_string()]);
            assert_eq!(db.get_many("s", many).await.unwrap(), expected);
            db.delete_many("s", vec!["a".into(), "b".into()])
                .await
                .unwrap();
            assert!(db.keys("s").await.unwrap().is_empty());
        });
    }
}
