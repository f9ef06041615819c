//! What the bench prints: the conditions, the results table, the component
//! sizes, and whether each target was met.

use crate::load::{LoadConfig, Stats};
use crate::prereqs::ComponentSize;
use crate::scenarios::{FLOOR, Scenario};
use std::path::Path;
use std::time::Duration;

/// Every component must stay at or under this (1 KB = 1000 bytes).
pub const MAX_COMPONENT_BYTES: u64 = 400_000;

pub struct Measured<'a> {
    pub scenario: &'a Scenario,
    pub stats: Stats,
}

pub fn print_header(config: &LoadConfig, host: &Path) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("edgechat-bench: components --profile wasm, host --release, bench --release");
    println!("host: {}", host.display());
    println!(
        "load: {} keep-alive HTTP/1.1 connections on loopback, {}s warm-up, then {}s measured per target",
        config.concurrency,
        config.warmup.as_secs(),
        config.duration.as_secs()
    );
    println!(
        "machine: {cores} cores, shared by the load generator and the server under test \
         (the same for every target, so ratios to the floor are fair)"
    );
    if let Some(load) = load_average() {
        println!(
            "load average before the run: {load} (other processes on these cores make numbers noisy)"
        );
    }
    println!();
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

pub fn print_results(results: &[Measured<'_>]) {
    let floor = floor_rps(results);
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}  what",
        "target", "req/s", "p50", "p99", "vs floor", "cpu/req", "load/req", "errors"
    );
    for m in results {
        let ratio = match floor {
            Some(floor) if floor > 0.0 => format!("{:.2}", m.stats.requests_per_sec() / floor),
            _ => "-".into(),
        };
        println!(
            "{:<10} {:>10.0} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}  {}",
            m.scenario.name,
            m.stats.requests_per_sec(),
            millis(m.stats.percentile(0.5)),
            millis(m.stats.percentile(0.99)),
            ratio,
            micros(m.stats.server_cpu_per_request()),
            micros(m.stats.client_cpu_per_request()),
            m.stats.errors,
            m.scenario.about
        );
    }
    println!(
        "cpu/req: the server's CPU time per request in the window (less disturbed by \
         other load than req/s); load/req: the load generator's"
    );
    for m in results {
        if let Some(error) = &m.stats.first_error {
            println!(
                "{}: {} errors, first: {}",
                m.scenario.name,
                m.stats.errors,
                error.trim()
            );
        }
    }
    println!();
}

fn floor_rps(results: &[Measured<'_>]) -> Option<f64> {
    results
        .iter()
        .find(|m| m.scenario.name == FLOOR)
        .map(|m| m.stats.requests_per_sec())
}

fn micros(cpu: Option<Duration>) -> String {
    match cpu {
        Some(cpu) => format!("{} us", cpu.as_micros()),
        None => "-".into(),
    }
}

fn millis(latency: Option<Duration>) -> String {
    match latency {
        Some(latency) => format!("{:.2} ms", latency.as_secs_f64() * 1000.0),
        None => "-".into(),
    }
}

pub fn print_sizes(sizes: &[ComponentSize]) {
    let width = sizes
        .iter()
        .map(|s| s.name.len())
        .chain(["component".len()])
        .max()
        .unwrap_or_default();
    println!(
        "{:<width$} {:>9}  (target/wasm32-wasip2/wasm, limit {} KB)",
        "component",
        "size",
        MAX_COMPONENT_BYTES / 1000
    );
    for size in sizes {
        match size.bytes {
            Some(bytes) => {
                let flag = if bytes > MAX_COMPONENT_BYTES {
                    "  OVER LIMIT"
                } else {
                    ""
                };
                println!(
                    "{:<width$} {:>6.1} KB{flag}",
                    size.name,
                    bytes as f64 / 1000.0
                );
            }
            None => println!("{:<width$} {:>9}  NOT BUILT", size.name, "-"),
        }
    }
    println!();
}

/// Prints one line per target; true when all were met and no scenario failed
/// requests.
pub fn print_verdicts(results: &[Measured<'_>], sizes: &[ComponentSize]) -> bool {
    let mut all_met = true;
    let floor = floor_rps(results);
    for m in results {
        if m.stats.errors > 0 {
            all_met = false;
            println!(
                "{}: INVALID, {} requests failed",
                m.scenario.name, m.stats.errors
            );
        }
        let Some(min) = m.scenario.min_ratio_to_floor else {
            continue;
        };
        match floor {
            Some(floor) if floor > 0.0 => {
                let ratio = m.stats.requests_per_sec() / floor;
                let met = ratio >= min;
                all_met &= met;
                println!(
                    "{}: {ratio:.2} of the floor's requests/s (target >= {min:.2}): {}",
                    m.scenario.name,
                    if met { "MET" } else { "MISSED" }
                );
            }
            _ => {
                all_met = false;
                println!(
                    "{}: no floor measured, cannot check >= {min:.2}",
                    m.scenario.name
                );
            }
        }
    }
    let over: Vec<_> = sizes
        .iter()
        .filter(|s| s.bytes.is_some_and(|b| b > MAX_COMPONENT_BYTES))
        .map(|s| s.name.as_str())
        .collect();
    let missing: Vec<_> = sizes
        .iter()
        .filter(|s| s.bytes.is_none())
        .map(|s| s.name.as_str())
        .collect();
    if !missing.is_empty() {
        all_met = false;
        println!(
            "component sizes: not built: {}: UNKNOWN",
            missing.join(", ")
        );
    }
    if over.is_empty() {
        println!(
            "component sizes: all {} built <= {} KB: MET",
            sizes.len() - missing.len(),
            MAX_COMPONENT_BYTES / 1000
        );
    } else {
        all_met = false;
        println!(
            "component sizes: over {} KB: {}: MISSED",
            MAX_COMPONENT_BYTES / 1000,
            over.join(", ")
        );
    }
    all_met
}
