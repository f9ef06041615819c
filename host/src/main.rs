//! `edgechat-host`: a local Spin-compatible runtime for machines without Spin.
//!
//! `edgechat-host up` takes `spin up`'s flags and behaves the same way on the
//! same `spin.toml`, so moving to real Spin changes nothing:
//!
//! ```text
//! edgechat-host up [--build] [--listen 127.0.0.1:3000] [--state-dir .spin]
//!                  [--runtime-config-file runtime-config.toml] [-f spin.toml]
//!                  [--request-timeout <seconds>] [--tick <path>]
//! ```

mod bindings;
mod cache;
mod kv;
mod manifest;
mod outbound;
mod pool;
mod problem;
mod request_timeout;
mod routing;
mod runtime_config;
mod server;
mod spin_build;
mod state;
mod tick;
mod up;
mod variables;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "edgechat-host",
    version,
    about = "Run a Spin app locally on wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the app, like `spin up`.
    Up(UpArgs),
}

/// The flags of `spin up` that the host supports.
#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Run each component's build command first, like `spin build`.
    #[arg(long)]
    pub build: bool,
    /// The address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Where the default SQLite key-value store and the compile cache live.
    #[arg(long, default_value = ".spin")]
    pub state_dir: PathBuf,
    /// Runtime configuration (key-value backends).
    #[arg(long)]
    pub runtime_config_file: Option<PathBuf>,
    /// The manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    pub manifest: PathBuf,
    /// How long a request may keep its component running, computing or
    /// waiting, before it is stopped and answered 500: whole seconds (`30`,
    /// `30s`) or a range (`10..30s`) each request draws from. No limit by
    /// default, as in Spin (which applies it to WASIp3 components only).
    #[arg(long, value_name = "REQUEST_TIMEOUT")]
    pub request_timeout: Option<request_timeout::RequestTimeout>,
    /// Not a `spin up` flag: keep one `POST <PATH>` running against the app
    /// at all times, as a scheduler would under Spin (edgechat's webhook
    /// delivery: `/api/v1/webhook-dispatch?wait=20`). Repeatable.
    #[arg(long, value_name = "PATH")]
    pub tick: Vec<String>,
    /// The application variable whose value `--tick` requests carry as
    /// their Bearer token.
    #[arg(long, value_name = "VARIABLE", default_value = "admin_token")]
    pub tick_token_variable: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up::run(args).await,
    };
    if let Err(e) = result {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
