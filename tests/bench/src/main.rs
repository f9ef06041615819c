//! `edgechat-bench`: how fast the host serves our components, measured against
//! a native floor in the same run, and how big the components are.
//!
//! ```text
//! cargo run --release -p edgechat-bench [-- --duration-secs 5 --concurrency 32 --only static]
//! ```
//!
//! It builds the components (`--profile wasm`) and the host (`--release`) with
//! the same commands as `spin.toml` (no-ops when up to date), then for each
//! scenario starts the server it needs on a loopback port, checks one answer,
//! drives it with a closed-loop load at fixed concurrency (keep-alive HTTP/1.1)
//! for a warm-up and then a measured window, and stops the server. The floor is
//! a native hyper server answering the static body, run as a child process like
//! the host, so every target gets the same treatment; a scenario's throughput
//! is reported as a ratio to it.
//!
//! A scenario is a name, the server it runs on and either a setup function
//! that seeds what it needs and returns its request builder, or a probe that
//! takes a measurement of its own (long-poll wake-ups, widget size): see
//! [`scenarios`]. Targets from the issues are checked at the end: MET/MISSED.

mod cpu;
mod floor;
mod load;
mod prereqs;
mod report;
mod scenarios;
mod server;

use anyhow::{Result, bail};
use clap::Parser;
use report::Outcome;
use scenarios::Measure;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "edgechat-bench",
    about = "Requests/s and latency of the host vs a native floor, and component sizes"
)]
struct Args {
    /// Length of each scenario's measured window.
    #[arg(long, default_value_t = 5)]
    duration_secs: u64,
    /// Load before the measured window (instances, caches, connections warm up).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Open keep-alive connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Run only these scenarios (repeat or comma-separate); the floor always
    /// runs, since every ratio is to it.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Do not run the cargo builds first; use what is in target/.
    #[arg(long)]
    no_build: bool,
    /// Serve the apps with this host binary instead of building and using
    /// target/release/edgechat-host (to compare a variant of the host).
    #[arg(long)]
    host_binary: Option<PathBuf>,
    /// Also run the `-spin` scenarios under this `spin` binary (real Spin
    /// 3.6 or 4.0): the write path, `/healthz` and open chats, side by side
    /// with the local runtime in one run.
    #[arg(long)]
    spin: Option<PathBuf>,
    /// Exit non-zero when a target is missed or a scenario saw errors.
    #[arg(long)]
    strict: bool,
    /// Conversations in the large account of the conversation-poll
    /// comparison (the small one has 1,000); seeding 100,000 over HTTP takes
    /// minutes, so a quick run can ask for fewer.
    #[arg(long, default_value_t = 100_000)]
    big_conversations: usize,
    /// Connections that seed data (conversations, customers) before a scenario.
    #[arg(long, default_value_t = 64)]
    seed_concurrency: usize,
    /// Agent replies timed by the long-poll wake-up probe, one at a time.
    #[arg(long, default_value_t = 50)]
    longpoll_samples: usize,
    /// The steps of the open-chats probe: how many chats wait at each; the
    /// checks beside and beyond the budget run when the last is 5000.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1_000, 5_000])]
    open_chats_steps: Vec<usize>,
    /// Internal: serve the floor (the bench starts itself as a child with this).
    #[arg(long, hide = true)]
    serve_floor: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let result = if args.serve_floor {
        floor::serve().await.map(|()| true)
    } else {
        // On Ctrl-C, dropping the run stops the servers it started.
        tokio::select! {
            result = run(args) => result,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        }
    };
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

/// Runs the benchmark; `Ok(false)` when `--strict` and something was missed.
async fn run(args: Args) -> Result<bool> {
    if cfg!(debug_assertions) {
        bail!(
            "an unoptimised load generator skews every number: run `cargo run --release -p edgechat-bench`"
        );
    }
    if args.concurrency == 0 || args.duration_secs == 0 {
        bail!("--concurrency and --duration-secs must be at least 1");
    }
    let root = workspace_root();
    let crates = prereqs::component_crates(&root)?;
    if !args.no_build {
        prereqs::build(&root, &crates, args.host_binary.is_none()).await?;
    }
    let host = match args.host_binary {
        // Absolute, since the host runs in the workspace directory.
        Some(host) => std::path::absolute(&host)?,
        None => prereqs::host_binary(&root),
    };
    prereqs::check(&host)?;
    let spin = args.spin.as_deref().map(std::path::absolute).transpose()?;
    let spin_version = spin.as_deref().map(prereqs::check_spin).transpose()?;
    let selected = scenarios::select(&args.only, spin.is_some())?;
    let config = load::LoadConfig {
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs),
    };
    let options = std::sync::Arc::new(scenarios::Options {
        concurrency: args.concurrency,
        seed_concurrency: args.seed_concurrency,
        big_conversations: args.big_conversations,
        longpoll_samples: args.longpoll_samples,
        open_chats_steps: args.open_chats_steps.clone(),
    });
    report::print_header(
        &config,
        &host,
        spin.as_deref().zip(spin_version.as_deref()),
        &options,
    );
    let runtimes = server::Runtimes { host, spin };

    let mut results = Vec::new();
    // One server at a time: scenarios are grouped by the server they need,
    // which is started before the group and stopped after it.
    for group in scenarios::group_by_server(&selected) {
        let server = group.server;
        eprintln!("starting {}", server.describe());
        let process = server::start(&root, &runtimes, server).await?;
        let target = scenarios::Target::new(process.addr, process.pid(), options.clone());
        for scenario in group.scenarios {
            eprintln!("running {} ({})", scenario.name, scenario.about);
            let outcome = match scenario.measure {
                Measure::Load(setup) => async {
                    let make = setup(target.clone()).await?;
                    load::run(target.addr, make, &config, process.pid()).await
                }
                .await
                .map(Outcome::Load),
                Measure::Probe(probe) => probe(target.clone()).await.map(Outcome::Probe),
            };
            match outcome {
                Ok(outcome) => {
                    if let Outcome::Load(stats) = &outcome
                        && stats.errors > 0
                    {
                        eprintln!("{}", process.recent_output());
                    }
                    results.push(report::Measured { scenario, outcome });
                }
                Err(e) => {
                    let log = process.recent_output();
                    process.stop().await;
                    bail!("scenario {}: {e:#}\n{log}", scenario.name);
                }
            }
        }
        process.stop().await;
    }

    report::print_results(&results);
    report::print_findings(&results);
    let sizes = prereqs::component_sizes(&crates);
    report::print_sizes(&sizes);
    let comparisons = scenarios::comparisons(args.big_conversations);
    let all_met = report::print_verdicts(&results, args.concurrency, &comparisons, &sizes);
    Ok(all_met || !args.strict)
}

/// The workspace this bench belongs to (spin.toml and `target/` are relative to it).
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("..").join("..");
    root.canonicalize().unwrap_or(root)
}
