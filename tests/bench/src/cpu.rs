//! CPU time and memory of a server, from Linux's `/proc`. Divided by the
//! requests it served, its CPU time is the cost of one request, which other
//! load on the machine disturbs far less than requests/s.
//!
//! A server is a process *and its descendants*: `spin up` serves from a
//! child process (its HTTP trigger), the local runtime from itself.

use std::path::Path;
use std::time::Duration;

/// On-CPU time so far of every live thread of `pid` and of its
/// descendants; `None` where `/proc/<pid>/task/*/schedstat` is unavailable
/// (not Linux, no schedstats).
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let mut nanos: u64 = 0;
    for process in process_tree(pid) {
        let tasks = Path::new("/proc").join(process.to_string()).join("task");
        let Ok(tasks) = std::fs::read_dir(tasks) else {
            // A child may exit between listing and reading; the root may not.
            if process == pid {
                return None;
            }
            continue;
        };
        for task in tasks {
            let Ok(task) = task else { continue };
            // A thread may exit between listing and reading: skip it.
            let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(Duration::from_nanos(nanos))
}

/// User and system time so far of `pid` and its descendants, from
/// `/proc/<pid>/stat`, which (unlike the live threads' schedstat) keeps the
/// time of threads that have exited, and of children that have exited
/// (then counted by the process that reaped them, so the sum never
/// shrinks); `None` if `pid` is not there.
pub fn user_and_system_time(pid: u32) -> Option<Duration> {
    let ticks_of = |process: u32| -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).ok()?;
        // The command may contain spaces: fields count from after its ')'.
        let (_, rest) = stat.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime, stime, cutime and cstime: fields 14 to 17, i.e. 11 to 14
        // after the command.
        (11..=14)
            .map(|i| fields.get(i)?.parse::<u64>().ok())
            .sum::<Option<u64>>()
    };
    let mut ticks = ticks_of(pid)?;
    for child in process_tree(pid).into_iter().skip(1) {
        ticks += ticks_of(child).unwrap_or(0);
    }
    Some(Duration::from_millis(
        ticks * 1_000 / CLOCK_TICKS_PER_SECOND,
    ))
}

/// Linux's USER_HZ, what `/proc/<pid>/stat` counts in.
const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// Resident memory of `pid` and its descendants, in MiB (0 if unknown).
pub fn resident_mib(pid: u32) -> u64 {
    let kib: u64 = process_tree(pid)
        .into_iter()
        .filter_map(|process| {
            let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum();
    kib / 1024
}

/// `pid` and every live descendant, from each thread's `children` list.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut tree = vec![pid];
    let mut next = 0;
    while next < tree.len() {
        let tasks = Path::new("/proc").join(tree[next].to_string()).join("task");
        next += 1;
        let Ok(tasks) = std::fs::read_dir(tasks) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            tree.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_process_counts_as_part_of_its_parent() {
        // A shell that waits on a busy child: its own CPU stays near zero.
        let mut parent = std::process::Command::new("sh")
            .args(["-c", "timeout 1 sh -c 'while :; do :; done'; exit 0"])
            .spawn()
            .unwrap();
        let pid = parent.id();
        std::thread::sleep(Duration::from_millis(600));
        let tree = process_tree(pid);
        let cpu = process_cpu_time(pid).unwrap();
        parent.wait().unwrap();
        assert!(tree.len() >= 2, "the busy child is found: {tree:?}");
        assert!(
            cpu >= Duration::from_millis(100),
            "the child's CPU is counted: {cpu:?}"
        );
        assert!(resident_mib(std::process::id()) > 0);
        assert!(user_and_system_time(std::process::id()).is_some());
    }
}
