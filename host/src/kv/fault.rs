//! A test-only fault: abort the whole process right after its Nth key-value
//! write, as `kill -9` would at exactly that point.
//!
//! `EDGECHAT_HOST_TEST_ABORT_AFTER_KV_WRITES=<N>` (N ≥ 1) makes the host
//! call `std::process::abort` as soon as the Nth write since start has been
//! applied by the backend, before the guest sees its result. Crash tests
//! loop N over every write of one request, so that a crash is tried between
//! every two writes, deterministically, instead of hoping a `kill -9` lands
//! somewhere interesting. Writes are what can leave state half-written:
//! `set`, `delete`, an `increment` by a non-zero delta (`increment(k, 0)`
//! only reads a counter), compare-and-swap and the batch writes, each
//! counted once. Unset (the default), nothing is counted. Real Spin has no
//! such knob; it is not for production.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the fault.
const ABORT_AFTER_WRITES_VAR: &str = "EDGECHAT_HOST_TEST_ABORT_AFTER_KV_WRITES";

static WRITES: AtomicU64 = AtomicU64::new(0);

fn armed_at() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let value = std::env::var(ABORT_AFTER_WRITES_VAR).ok()?;
        match value.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                eprintln!("warning: ignoring {ABORT_AFTER_WRITES_VAR}={value:?}: not a number ≥ 1");
                None
            }
        }
    })
}

/// Counts one applied write; aborts the process when it is the armed one.
pub fn after_write() {
    let Some(limit) = armed_at() else {
        return;
    };
    let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    if n == limit {
        eprintln!("test fault: aborting after key-value write {n} ({ABORT_AFTER_WRITES_VAR})");
        std::process::abort();
    }
}
