//! Servers under test as child processes: the release host or real Spin
//! (`spin up`) on a manifest, or the floor (this binary with
//! `--serve-floor`). All print `Serving http://<addr>` once ready; all are
//! stopped with SIGTERM.

use crate::scenarios::{HostApp, Server};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The first start compiles every component with cranelift (later ones load
/// the compile cache).
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a server may drain after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Output lines kept to explain a failure.
const LOG_LINES: usize = 30;

/// The runtimes that serve the apps: the local one, and real Spin if given.
pub struct Runtimes {
    pub host: PathBuf,
    pub spin: Option<PathBuf>,
}

/// A running server; killed if dropped without [`ServerProcess::stop`].
pub struct ServerProcess {
    pub addr: SocketAddr,
    name: String,
    child: Child,
    /// Its pid, kept after it has been reaped.
    pid: Option<u32>,
    /// It leads a process group of its own (`spin up` serves from a child
    /// process), which is signalled as a whole.
    group: bool,
    log: Log,
    /// The host's key-value database; removed after the host stops.
    _state_dir: Option<TempDir>,
    /// The Redis its key-value store lives on, if any; killed when dropped
    /// (after the host, since fields drop in order).
    _redis: Option<Child>,
}

/// The last lines a server printed (stdout and stderr), for error messages.
/// Its output is read continuously, so a chatty server never blocks on a full
/// pipe in the middle of a measurement.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<VecDeque<String>>>);

impl Log {
    fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == LOG_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    fn render(&self) -> String {
        match self.0.lock() {
            Ok(lines) => lines.iter().map(|l| format!("  | {l}\n")).collect(),
            Err(_) => String::new(),
        }
    }

    fn follow<R: AsyncRead + Unpin + Send + 'static>(&self, mut lines: Lines<BufReader<R>>) {
        let log = self.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                log.push(line);
            }
        });
    }
}

/// Starts `server` and waits until it listens.
/// `root` is the workspace (manifests are relative to it).
pub async fn start(root: &Path, runtimes: &Runtimes, server: Server) -> Result<ServerProcess> {
    let spin = || {
        runtimes
            .spin
            .as_deref()
            .ok_or_else(|| anyhow!("{} needs --spin", server.describe()))
    };
    match server {
        Server::Floor => {
            let exe = std::env::current_exe().context("cannot find the bench's own binary")?;
            let mut command = Command::new(exe);
            command.arg("--serve-floor");
            spawn("floor".into(), command, None, false).await
        }
        Server::Host(app) => start_app(root, &runtimes.host, Runtime::Host, app, None).await,
        Server::HostOnRedis(app) => {
            let redis = start_redis().await?;
            start_app(root, &runtimes.host, Runtime::Host, app, Some(redis)).await
        }
        Server::Spin(app) => start_app(root, spin()?, Runtime::Spin, app, None).await,
        Server::SpinOnRedis(app) => {
            let redis = start_redis().await?;
            start_app(root, spin()?, Runtime::Spin, app, Some(redis)).await
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Host,
    Spin,
}

/// Serves `app` with `binary up`: both runtimes take the same flags.
async fn start_app(
    root: &Path,
    binary: &Path,
    runtime: Runtime,
    app: HostApp,
    redis: Option<(Child, String)>,
) -> Result<ServerProcess> {
    if runtime == Runtime::Spin && !app.args.is_empty() {
        bail!("spin up does not take the host's flags {:?}", app.args);
    }
    let state_dir = tempfile::Builder::new()
        .prefix("edgechat-bench-")
        .tempdir()
        .context("cannot create a state directory")?;
    let mut command = Command::new(binary);
    let group = runtime == Runtime::Spin;
    if group {
        command.process_group(0);
    }
    command
        .current_dir(root)
        .arg("up")
        .arg("-f")
        .arg(root.join(app.manifest))
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(state_dir.path())
        .args(app.args)
        .envs(app.variables.iter().copied());
    let runtime_name = match runtime {
        Runtime::Host => "host",
        Runtime::Spin => "spin up",
    };
    let mut name = format!("{runtime_name} ({})", app.manifest);
    let redis = match redis {
        None => None,
        Some((child, url)) => {
            let config = state_dir.path().join("runtime-config.toml");
            std::fs::write(
                &config,
                format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n"),
            )
            .context("cannot write the runtime config")?;
            command.arg("--runtime-config-file").arg(&config);
            name = format!("{runtime_name} ({}, key-value on Redis)", app.manifest);
            Some(child)
        }
    };
    let mut process = spawn(name, command, Some(state_dir), group).await?;
    process._redis = redis;
    Ok(process)
}

/// A throwaway `redis-server` on a free loopback port, nothing persisted.
async fn start_redis() -> Result<(Child, String)> {
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start redis-server (is it installed?)")?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break; // the port was taken meanwhile
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok((child, format!("redis://127.0.0.1:{port}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill().await;
    }
    bail!("redis-server did not start")
}

async fn spawn(
    name: String,
    mut command: Command,
    state_dir: Option<TempDir>,
    group: bool,
) -> Result<ServerProcess> {
    // stdin stays open while the child lives: the floor exits when it closes.
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start the {name}"))?;
    let log = Log::default();
    if let Some(stderr) = child.stderr.take() {
        log.follow(BufReader::new(stderr).lines());
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no stdout from the {name}"))?;
    let mut stdout = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(READY_TIMEOUT, wait_for_address(&mut stdout, &log)).await;
    let mut process = ServerProcess {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        name,
        pid: child.id(),
        child,
        group,
        log,
        _state_dir: state_dir,
        _redis: None,
    };
    let (name, child, log) = (&process.name, &mut process.child, &process.log);
    process.addr = match ready {
        Ok(Ok(addr)) => addr,
        Ok(Err(e)) => {
            // Let stderr's last lines arrive before showing them.
            let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            let status = match status {
                Ok(Ok(status)) => status.to_string(),
                _ => "still running".into(),
            };
            bail!(
                "the {name} did not start ({e:#}; {status}):\n{}",
                log.render()
            );
        }
        Err(_) => bail!(
            "the {name} printed no `Serving http://` line within {READY_TIMEOUT:?}:\n{}",
            log.render()
        ),
    };
    process.log.follow(stdout);
    Ok(process)
}

async fn wait_for_address(
    stdout: &mut Lines<BufReader<ChildStdout>>,
    log: &Log,
) -> Result<SocketAddr> {
    while let Some(line) = stdout.next_line().await? {
        if let Some(addr) = line.trim().strip_prefix("Serving http://") {
            return addr
                .parse()
                .with_context(|| format!("cannot parse the address in {line:?}"));
        }
        log.push(line);
    }
    bail!("it exited")
}

impl ServerProcess {
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// What the server printed last, indented, for error messages.
    pub fn recent_output(&self) -> String {
        format!("last output of the {}:\n{}", self.name, self.log.render())
    }

    /// SIGTERM, then a bounded wait for a graceful exit, then SIGKILL.
    pub async fn stop(mut self) {
        self.signal("TERM");
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "the {} ignored SIGTERM for {STOP_TIMEOUT:?}; killing it",
                    self.name
                );
                self.signal("KILL");
                let _ = self.child.kill().await;
            }
        }
        // What is left of its group (a trigger that outlived `spin up`).
        self.signal("KILL");
    }

    /// Sends `signal` to the server, or to its whole process group.
    fn signal(&self, signal: &str) {
        let Some(pid) = self.pid else { return };
        if !self.group && self.child.id().is_none() {
            return; // reaped: its pid may be another process's now
        }
        let target = if self.group {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        // std has no signal API; kill(1) is everywhere this bench runs.
        let _ = std::process::Command::new("kill")
            .args([&format!("-{signal}"), "--", &target])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for ServerProcess {
    /// A server dropped on an error path takes its process group with it
    /// (`kill_on_drop` stops only the leader).
    fn drop(&mut self) {
        if self.group {
            self.signal("KILL");
        }
    }
}
