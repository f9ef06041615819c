//! What the bench prints: the conditions, the results table, the component
//! sizes, and whether each target was met.

use crate::load::{LoadConfig, Stats};
use crate::prereqs::ComponentSize;
use crate::scenarios::{Comparison, FLOOR, Findings, Goal, Options, Scenario};
use std::path::Path;
use std::time::Duration;

/// Every component must stay at or under this (1 KB = 1000 bytes).
pub const MAX_COMPONENT_BYTES: u64 = 512_000;

pub struct Measured<'a> {
    pub scenario: &'a Scenario,
    pub outcome: Outcome,
}

/// A load scenario's statistics, or what a probe found.
pub enum Outcome {
    Load(Stats),
    Probe(Findings),
}

impl Measured<'_> {
    fn stats(&self) -> Option<&Stats> {
        match &self.outcome {
            Outcome::Load(stats) => Some(stats),
            Outcome::Probe(_) => None,
        }
    }
}

/// `spin`: the Spin binary of the `-spin` rows and its version, if any.
pub fn print_header(
    config: &LoadConfig,
    host: &Path,
    spin: Option<(&Path, &str)>,
    options: &Options,
) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("edgechat-bench: components --profile wasm, host --release, bench --release");
    println!("host: {}", host.display());
    if let Some((spin, version)) = spin {
        println!("spin: {} ({version}): the -spin rows", spin.display());
    }
    println!(
        "load: {} keep-alive HTTP/1.1 connections on loopback, {}s warm-up, then {}s measured per target",
        config.concurrency,
        config.warmup.as_secs(),
        config.duration.as_secs()
    );
    println!(
        "data: conversation poll on 1000 and {} conversations (--big-conversations), \
         seeded over {} connections; {} long-poll wake-ups timed",
        options.big_conversations, options.seed_concurrency, options.longpoll_samples
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
    let width = name_width(results);
    println!(
        "{:<width$} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}  what",
        "target", "req/s", "p50", "p99", "vs floor", "cpu/req", "load/req", "errors"
    );
    for m in results {
        let Some(stats) = m.stats() else { continue };
        let ratio = match floor {
            Some(floor) if floor > 0.0 => format!("{:.2}", stats.requests_per_sec() / floor),
            _ => "-".into(),
        };
        println!(
            "{:<width$} {:>10.0} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}  {}",
            m.scenario.name,
            stats.requests_per_sec(),
            millis(stats.percentile(0.5)),
            millis(stats.percentile(0.99)),
            ratio,
            micros(stats.server_cpu_per_request()),
            micros(stats.client_cpu_per_request()),
            stats.errors,
            m.scenario.about
        );
    }
    println!(
        "cpu/req: the server's CPU time per request in the window (less disturbed by \
         other load than req/s); load/req: the load generator's"
    );
    for m in results {
        let Some(stats) = m.stats() else { continue };
        if let Some(error) = &stats.first_error {
            println!(
                "{}: {} errors, first: {}",
                m.scenario.name,
                stats.errors,
                error.trim()
            );
        }
    }
    println!();
}

/// What the probes measured, one block each.
pub fn print_findings(results: &[Measured<'_>]) {
    let mut any = false;
    for m in results {
        let Outcome::Probe(findings) = &m.outcome else {
            continue;
        };
        any = true;
        println!("{} ({}):", m.scenario.name, m.scenario.about);
        for line in &findings.lines {
            println!("  {line}");
        }
    }
    if any {
        println!();
    }
}

fn name_width(results: &[Measured<'_>]) -> usize {
    results
        .iter()
        .map(|m| m.scenario.name.len())
        .chain(["target".len()])
        .max()
        .unwrap_or_default()
}

fn floor_rps(results: &[Measured<'_>]) -> Option<f64> {
    results
        .iter()
        .find(|m| m.scenario.name == FLOOR)
        .and_then(|m| m.stats())
        .map(Stats::requests_per_sec)
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
pub fn print_verdicts(
    results: &[Measured<'_>],
    concurrency: usize,
    comparisons: &[Comparison],
    sizes: &[ComponentSize],
) -> bool {
    println!("targets:");
    let mut all_met = true;
    let floor = floor_rps(results);
    for m in results {
        let name = m.scenario.name;
        let stats = match &m.outcome {
            Outcome::Load(stats) => stats,
            Outcome::Probe(findings) => {
                for check in &findings.checks {
                    all_met &= check.met;
                    println!("{name}: {}: {}", check.what, verdict(check.met));
                }
                continue;
            }
        };
        if stats.errors > 0 {
            all_met = false;
            println!("{name}: INVALID, {} requests failed", stats.errors);
        }
        let rps = stats.requests_per_sec();
        match m.scenario.goal {
            None => {}
            Some(Goal::RequestsPerSec(min)) => {
                let met = rps >= min;
                all_met &= met;
                println!(
                    "{name}: {rps:.0} requests/s (target >= {min:.0}/s): {}",
                    verdict(met)
                );
            }
            Some(Goal::P99Below {
                latency,
                connections,
            }) => {
                let p99 = stats.percentile(0.99);
                let met = p99.is_some_and(|p99| p99 < latency) && concurrency == connections;
                all_met &= met;
                let at = if concurrency == connections {
                    format!("at {concurrency} connections")
                } else {
                    format!("at {concurrency} connections, not the target's {connections}")
                };
                println!(
                    "{name}: p99 {} {at} (target < {}): {}",
                    millis(p99),
                    millis(Some(latency)),
                    verdict(met)
                );
            }
            Some(Goal::RatioToFloor(min)) => match floor {
                Some(floor) if floor > 0.0 => {
                    let ratio = rps / floor;
                    let met = ratio >= min;
                    all_met &= met;
                    println!(
                        "{name}: {ratio:.2} of the floor's requests/s (target >= {min:.2}): {}",
                        verdict(met)
                    );
                }
                _ => {
                    all_met = false;
                    println!("{name}: no floor measured, cannot check >= {min:.2}");
                }
            },
        }
        if let Some(note) = m.scenario.note {
            println!("  ({note})");
        }
    }
    for comparison in comparisons {
        all_met &= print_comparison(results, comparison);
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

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

/// The large data set's p50 and p99 over the small one's; true when both
/// are within the target or the pair was not run (`--only`).
fn print_comparison(results: &[Measured<'_>], comparison: &Comparison) -> bool {
    let find = |name: &str| {
        results
            .iter()
            .find(|m| m.scenario.name == name)
            .and_then(|m| m.stats())
    };
    let (Some(large), Some(small)) = (find(comparison.large), find(comparison.small)) else {
        println!("{}: not run", comparison.what);
        return true;
    };
    let ratio = |q: f64| -> Option<f64> {
        let (l, s) = (large.percentile(q)?, small.percentile(q)?);
        (s.as_nanos() > 0).then(|| l.as_secs_f64() / s.as_secs_f64())
    };
    let max = comparison.max_ratio;
    match (ratio(0.5), ratio(0.99)) {
        (Some(p50), Some(p99)) => {
            let met = p50 <= max && p99 <= max;
            println!(
                "{}: p50 x{p50:.2} ({} vs {}), p99 x{p99:.2} ({} vs {}) (target <= x{max:.1}): {}",
                comparison.what,
                millis(large.percentile(0.5)),
                millis(small.percentile(0.5)),
                millis(large.percentile(0.99)),
                millis(small.percentile(0.99)),
                verdict(met)
            );
            met
        }
        _ => {
            println!("{}: nothing completed, cannot compare", comparison.what);
            false
        }
    }
}
