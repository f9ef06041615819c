//! CPU time a server process spent, from Linux's scheduler statistics. Divided
//! by the requests it served, it is the cost of one request, which other load
//! on the machine disturbs far less than requests/s.

use std::path::Path;
use std::time::Duration;

/// On-CPU time of all live threads of `pid` so far; `None` where
/// `/proc/<pid>/task/*/schedstat` is unavailable (not Linux, no schedstats).
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let tasks = Path::new("/proc").join(pid.to_string()).join("task");
    let mut nanos: u64 = 0;
    for task in std::fs::read_dir(tasks).ok()? {
        let Ok(task) = task else { continue };
        // A thread may exit between listing and reading: skip it.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}
