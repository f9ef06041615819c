//! The one writer of a SQLite file: a thread of its own that commits the
//! writes queued for it in groups.
//!
//! Why a thread: a request's write used to run on the async worker inside
//! `block_in_place`, which hands the worker's core to another thread on
//! every call, and committed alone. Here a request queues its write and
//! awaits the answer, and its worker serves other requests meanwhile.
//!
//! Group commit: the thread takes the first queued write, opens a `BEGIN
//! IMMEDIATE` transaction (the file's write lock, waited for under the
//! busy timeout when another process holds it), then takes every write
//! queued by then, up to [`MAX_GROUP`], and runs them in queue order, each
//! inside a `SAVEPOINT` of its own: one write's failure (an increment of a
//! value that is not a counter) rolls back that write alone, and its
//! neighbours still commit. One `COMMIT` ends the group, and only then is
//! any write of it answered, so an acknowledged write is in the WAL and
//! survives the process being killed (synchronous=NORMAL, as before: only
//! an OS crash or power loss may lose the last commits). If the group's
//! transaction fails as a whole (the lock never came, COMMIT failed, or
//! SQLite rolled the transaction back by itself), none of its writes was
//! written and every one of them answers the error. Running a group is the
//! same as running its writes one after another in queue order: each sees
//! the writes before it, which is what a compare-and-swap or an increment
//! must see.

use crate::kv::{KvError, KvResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// The most writes one transaction commits: bounds how long the write lock
/// is held, for other processes on the same file.
const MAX_GROUP: usize = 256;

/// One write, as the key-value interfaces ask for it.
pub enum Write {
    Set {
        key: String,
        value: Vec<u8>,
    },
    Delete {
        key: String,
    },
    Increment {
        key: String,
        delta: i64,
    },
    /// Writes `new` only if the key holds `expected` (`None`: absent).
    CompareAndSwap {
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    },
    SetMany {
        entries: Vec<(String, Vec<u8>)>,
    },
    DeleteMany {
        keys: Vec<String>,
    },
}

/// What a write answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Done,
    /// An increment's new value.
    Counter(i64),
    /// Whether a compare-and-swap wrote.
    Swapped(bool),
}

struct Job {
    store: String,
    write: Write,
    answer: oneshot::Sender<KvResult<Written>>,
}

/// Counts kept for tests: how writes were grouped.
#[derive(Default)]
pub struct Counts {
    /// Writes queued so far.
    pub queued: AtomicU64,
    /// Groups whose transaction committed.
    pub commits: AtomicU64,
}

/// The handle requests queue their writes through. Dropping it ends the
/// thread once the writes queued before have been answered.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

impl Writer {
    /// Starts the writer thread on `conn`, the file's one writing connection.
    pub fn start(conn: Connection) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        let counts = Arc::new(Counts::default());
        let thread_counts = counts.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue, &thread_counts))?;
        Ok(Writer { jobs, counts })
    }

    /// Queues `write` to `store` and waits until it is committed (or failed).
    pub async fn write(&self, store: &str, write: Write) -> KvResult<Written> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            store: store.to_string(),
            write,
            answer,
        };
        self.counts.queued.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .send(job)
            .map_err(|_| KvError::Other("the SQLite writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| KvError::Other("the SQLite writer stopped before answering".into()))?
    }

    #[cfg(test)]
    pub fn counts(&self) -> &Counts {
        &self.counts
    }
}

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>, counts: &Counts) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        let outcome = commit_group(&mut conn, &queue, &mut group);
        if outcome.is_ok() {
            counts.commits.fetch_add(1, Ordering::SeqCst);
        }
        answer(group, outcome);
    }
}

/// Runs `group` (and whatever else is queued once the write lock is held)
/// in one transaction; the outcome of each write, or the error that failed
/// them all.
fn commit_group(
    conn: &mut Connection,
    queue: &mpsc::Receiver<Job>,
    group: &mut Vec<Job>,
) -> Result<Vec<KvResult<Written>>, KvError> {
    conn.prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut s| s.execute([]))
        .map_err(KvError::other)?;
    // Writes queued while this one waited for the lock join it.
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    let applied = apply_all(conn, group);
    let committed = applied.and_then(|outcomes| {
        run_statement(conn, "COMMIT").map_err(KvError::other)?;
        Ok(outcomes)
    });
    if committed.is_err() && !conn.is_autocommit() {
        // Leave the connection fit for the next group. Nothing of this
        // group is kept, so every write of it answers the error.
        let _ = run_statement(conn, "ROLLBACK");
    }
    committed
}

fn apply_all(conn: &Connection, group: &[Job]) -> Result<Vec<KvResult<Written>>, KvError> {
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        run_statement(conn, "SAVEPOINT write").map_err(KvError::other)?;
        let outcome = apply(conn, &job.store, &job.write);
        // Some errors (a full disk, an I/O error) make SQLite roll back the
        // whole transaction by itself: then the writes before this one are
        // gone too, and the rest must not run outside a transaction.
        if conn.is_autocommit() {
            return Err(match outcome {
                Err(e) => e,
                Ok(_) => KvError::Other("the SQLite transaction was rolled back".into()),
            });
        }
        let end = match outcome {
            Ok(_) => run_statement(conn, "RELEASE write"),
            // Undo this write alone.
            Err(_) => run_statement(conn, "ROLLBACK TO write")
                .and_then(|()| run_statement(conn, "RELEASE write")),
        };
        end.map_err(KvError::other)?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn answer(group: Vec<Job>, outcome: Result<Vec<KvResult<Written>>, KvError>) {
    match outcome {
        Ok(outcomes) => {
            for (job, outcome) in group.into_iter().zip(outcomes) {
                // A caller that stopped waiting (its request went) is fine.
                let _ = job.answer.send(outcome);
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.answer.send(Err(e.clone()));
            }
        }
    }
}

fn run_statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// One write, inside the group's transaction.
fn apply(c: &Connection, store: &str, write: &Write) -> KvResult<Written> {
    let done = |r: rusqlite::Result<()>| r.map(|()| Written::Done).map_err(KvError::other);
    match write {
        Write::Set { key, value } => done(upsert(c, store, key, value)),
        Write::Delete { key } => done(delete(c, store, key)),
        Write::Increment { key, delta } => increment(c, store, key, *delta),
        Write::CompareAndSwap { key, expected, new } => {
            compare_and_swap(c, store, key, expected.as_deref(), new)
                .map(Written::Swapped)
                .map_err(KvError::other)
        }
        Write::SetMany { entries } => done(
            entries
                .iter()
                .try_for_each(|(key, value)| upsert(c, store, key, value)),
        ),
        Write::DeleteMany { keys } => done(keys.iter().try_for_each(|key| delete(c, store, key))),
    }
}

pub(super) fn upsert(c: &Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![store, key, value])
    .map(drop)
}

fn delete(c: &Connection, store: &str, key: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .execute(params![store, key])
        .map(drop)
}

fn increment(c: &Connection, store: &str, key: &str, delta: i64) -> KvResult<Written> {
    let current: Option<Vec<u8>> = c
        .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")
        .and_then(|mut s| {
            s.query_row(params![store, key], |row| row.get(0))
                .optional()
        })
        .map_err(KvError::other)?;
    let current = match current {
        None => 0,
        Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
            Ok(array) => i64::from_le_bytes(array),
            Err(_) => {
                return Err(KvError::Other(format!(
                    "the value at '{key}' is not a counter"
                )));
            }
        },
    };
    let next = current.wrapping_add(delta);
    upsert(c, store, key, &next.to_le_bytes()).map_err(KvError::other)?;
    Ok(Written::Counter(next))
}

fn compare_and_swap(
    c: &Connection,
    store: &str,
    key: &str,
    expected: Option<&[u8]>,
    new: &[u8],
) -> rusqlite::Result<bool> {
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
}
