//! The end-to-end harness: start `edgechat-host` on a manifest, talk to it
//! over HTTP, start a throwaway Redis.
//!
//! The suites under `tests/tests/` expect the wasm components and the release
//! host to be built already; `tests/run.sh` does that before `cargo test`.
//! Every host gets a fresh state directory and a free port (`--listen
//! 127.0.0.1:0`; the host prints the address it took), so tests run in
//! parallel without sharing anything unless they ask to.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};

pub mod receiver;

/// The repository root. `cargo test` sets `CARGO_MANIFEST_DIR` when it
/// runs the suites; that value is preferred to the one compiled in, because
/// cargo reuses a test binary built in another checkout that shares the
/// target directory (its fingerprints use workspace-relative paths).
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("tests/ lives in the repository")
        .to_path_buf()
}

/// The runtime the suites start: `$EDGECHAT_RUNTIME` (any binary that takes
/// `spin up`'s flags, e.g. a real `spin`), else the local runtime's release
/// build.
pub fn host_binary() -> PathBuf {
    std::env::var_os("EDGECHAT_RUNTIME")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/release/edgechat-host"))
}

/// Whether the suites run against a runtime other than the local one (then
/// checks of the local runtime's own log lines are skipped; everything seen
/// over HTTP is still asserted).
pub fn on_real_spin() -> bool {
    std::env::var_os("EDGECHAT_RUNTIME").is_some()
}

/// Whether `EDGECHAT_TEST_KV=redis`: the app's hosts run on Redis.
pub fn kv_is_redis() -> bool {
    std::env::var("EDGECHAT_TEST_KV").is_ok_and(|v| v == "redis")
}

/// The base URL in a runtime's "Serving http://…" line (Spin may colour it).
fn serving_url(line: &str) -> Option<String> {
    if !line.contains("Serving") {
        return None;
    }
    let start = line.find("http://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
        .collect();
    Some(url.trim_end_matches('/').to_string())
}

/// The app under test: edgechat's own `spin.toml`.
pub fn app_manifest() -> PathBuf {
    repo_root().join("spin.toml")
}

/// The probe app of `tests/apps/probe`, for the host's own behaviour.
pub fn probe_manifest() -> PathBuf {
    repo_root().join("tests/apps/probe/spin.toml")
}

/// The admin token the harness gives the app.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The signing key the harness gives the app (tests that forge or check
/// signatures sign with it).
pub const SIGNING_KEY: &str = "test-signing-key-0123456789abcdef";

/// How to start a host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub manifest: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub runtime_config: Option<PathBuf>,
    pub listen: String,
    pub env: Vec<(String, String)>,
    pub extra_args: Vec<String>,
    /// Start a Redis for this host alone (unless a runtime config is given).
    pub own_redis: bool,
    /// Deliver webhooks: the local runtime's `--tick`, or on another
    /// runtime (real Spin, which has no timers) a scheduler thread of the
    /// harness calling the dispatch route, as a CronJob would.
    pub webhook_dispatch: bool,
}

impl HostOptions {
    /// edgechat's app with its required secrets set. With
    /// `EDGECHAT_TEST_KV=redis` its store is a Redis of its own instead of
    /// SQLite, so that whole suites run on the scale-out backend.
    pub fn app() -> Self {
        let mut options = Self::new(app_manifest());
        options.own_redis = kv_is_redis();
        options
            .env("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("SPIN_VARIABLE_SIGNING_KEY", SIGNING_KEY)
    }

    /// The probe app with its required variable set.
    pub fn probe() -> Self {
        Self::new(probe_manifest()).env("SPIN_VARIABLE_SECRET_WORD", "sesame")
    }

    /// Any manifest, nothing else set.
    pub fn new(manifest: PathBuf) -> Self {
        HostOptions {
            manifest,
            state_dir: None,
            runtime_config: None,
            listen: "127.0.0.1:0".into(),
            env: Vec::new(),
            extra_args: Vec::new(),
            own_redis: false,
            webhook_dispatch: false,
        }
    }

    /// The app delivering webhooks by itself, to loopback test receivers
    /// (`webhook_allow_insecure_urls`), with `schedule` as the retry
    /// schedule (`webhook_retry_schedule`).
    pub fn webhooks(schedule: &str) -> Self {
        let mut options = Self::app()
            .env("SPIN_VARIABLE_WEBHOOK_ALLOW_INSECURE_URLS", "true")
            .env("SPIN_VARIABLE_WEBHOOK_RETRY_SCHEDULE", schedule);
        options.webhook_dispatch = true;
        options
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn state_dir(mut self, dir: &Path) -> Self {
        self.state_dir = Some(dir.to_path_buf());
        self
    }

    pub fn runtime_config(mut self, file: &Path) -> Self {
        self.runtime_config = Some(file.to_path_buf());
        self
    }

    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.into();
        self
    }

    fn command(&self, state_dir: &Path) -> Command {
        let mut cmd = Command::new(host_binary());
        // Its own process group: `spin up` serves from a child process, and
        // stopping the runtime must stop that child too (see `kill_group`).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.arg("up")
            .arg("-f")
            .arg(&self.manifest)
            .arg("--listen")
            .arg(&self.listen)
            .arg("--state-dir")
            .arg(state_dir);
        if let Some(config) = &self.runtime_config {
            cmd.arg("--runtime-config-file").arg(config);
        }
        if self.webhook_dispatch && !on_real_spin() {
            cmd.args(["--tick", DISPATCH_TICK]);
        }
        cmd.args(&self.extra_args);
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Starts the host and waits until it serves.
    pub fn start(mut self) -> Host {
        let temp = tempfile::tempdir().expect("temp dir");
        let redis = (self.own_redis && self.runtime_config.is_none()).then(|| {
            let redis = Redis::start();
            self.runtime_config = Some(redis.runtime_config(temp.path()));
            redis
        });
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| temp.path().to_path_buf());
        let mut child = self
            .command(&state_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", host_binary().display()));
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let stderr_log = log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                stderr_log.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let stdout_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = serving_url(&line) {
                    let _ = tx.send(url);
                }
                stdout_log.lock().unwrap().push_str(&line);
                stdout_log.lock().unwrap().push('\n');
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => base,
            Err(_) => {
                kill_group(&child, "KILL");
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the host did not start serving; its output:\n{}",
                    log.lock().unwrap()
                );
            }
        };
        let scheduler = (self.webhook_dispatch && on_real_spin()).then(|| Scheduler::start(&base));
        Host {
            child,
            base,
            state_dir,
            log,
            _scheduler: scheduler,
            _temp: temp,
            _redis: redis,
        }
    }

    /// Starts the host and sends it SIGTERM as soon as it prints a line
    /// containing `needle` (it may not serve yet); returns its exit status
    /// and everything it printed.
    pub fn terminate_once_it_prints(self, needle: &str) -> (ExitStatus, String) {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut child = self
            .command(temp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start host");
        let mut output = String::new();
        let mut sent = false;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let Ok(line) = line else { break };
            output.push_str(&line);
            output.push('\n');
            if !sent && line.contains(needle) {
                kill_group(&child, "TERM");
                sent = true;
            }
        }
        assert!(sent, "the host never printed {needle:?}:\n{output}");
        match wait_for_exit(&mut child, Duration::from_secs(20)) {
            Some(status) => (status, output),
            None => panic!("the host ignored SIGTERM:\n{output}"),
        }
    }

    /// Runs the host expecting it to refuse to start; returns its exit
    /// status and everything it printed.
    pub fn run_expecting_failure(self) -> (ExitStatus, String) {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut child = self
            .command(temp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start host");
        let Some(status) = wait_for_exit(&mut child, Duration::from_secs(60)) else {
            panic!("the host kept running although it should have refused to start");
        };
        let mut output = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .ok();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .ok();
        (status, output)
    }
}

/// What the local runtime's `--tick` calls for webhook delivery.
pub const DISPATCH_TICK: &str = "/api/v1/webhook-dispatch?wait=20";

/// The harness's stand-in for a scheduler (a CronJob) on runtimes without
/// `--tick`: calls the dispatch route over and over until dropped.
struct Scheduler {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Scheduler {
    fn start(base: &str) -> Scheduler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = Client::new(base).with_bearer(ADMIN_TOKEN);
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let reply = client.send(
                    "POST",
                    "/api/v1/webhook-dispatch?wait=5&worker=harness",
                    &[],
                    None,
                );
                if reply.status != 200 {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        });
        Scheduler { stop }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A running host, killed when dropped.
pub struct Host {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub state_dir: PathBuf,
    log: Arc<Mutex<String>>,
    _scheduler: Option<Scheduler>,
    _temp: tempfile::TempDir,
    /// Its own Redis, in `EDGECHAT_TEST_KV=redis` runs (dropped after the
    /// host is killed: fields drop in order, after `Drop::drop`).
    _redis: Option<Redis>,
}

impl Host {
    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client for this host.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client with the operator's admin token.
    pub fn admin(&self) -> Client {
        self.client().with_bearer(ADMIN_TOKEN)
    }

    /// Creates an account named `name` through the admin API.
    pub fn tenant(&self, name: &str) -> Tenant {
        let created = self
            .admin()
            .post("/api/v1/accounts", &json!({ "name": name }))
            .expect(201)
            .json();
        let token = created["api_token"]
            .as_str()
            .expect("api_token")
            .to_string();
        Tenant {
            id: created["account"]["id"]
                .as_str()
                .expect("account.id")
                .to_string(),
            site_key: created["site_key"].as_str().expect("site_key").to_string(),
            api: self.client().with_bearer(&token),
            token,
            visitors: Default::default(),
        }
    }

    /// Everything the host printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to a generous deadline) until the host has printed
    /// `needle`: a log line is written after the response that caused it,
    /// so it may not be there yet when the reply arrives.
    pub fn wait_for_log(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        kill_group(&self.child, "TERM");
        wait_for_exit(&mut self.child, Duration::from_secs(20)).expect("the host ignored SIGTERM")
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        kill_group(&self.child, "KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `within` for `child` to exit; if it has not, kills its
/// process group and returns `None`.
fn wait_for_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(child, "KILL");
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Sends `signal` to the runtime's whole process group (the runtime and any
/// process it started, such as `spin up`'s trigger).
fn kill_group(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
}

impl Reply {
    /// A list response's `items`.
    pub fn items(&self) -> Vec<Value> {
        self.json()["items"]
            .as_array()
            .unwrap_or_else(|| panic!("expected items: {}", self.body))
            .clone()
    }

    /// A list response's `next_cursor`.
    pub fn next_cursor(&self) -> String {
        self.json()["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("expected next_cursor: {}", self.body))
            .to_string()
    }

    /// The fields named in a 400 validation problem's `errors`.
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<String> {
        let problem = self.expect_problem(400);
        problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected errors[] naming the field: {problem}"))
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// An account created through the admin API, with a client holding its API
/// token.
pub struct Tenant {
    /// The account id.
    pub id: String,
    /// Its public site key (what the widget sends).
    pub site_key: String,
    /// Its first API token.
    pub token: String,
    /// A client of the host that created it, holding `token`.
    pub api: Client,
    /// Test labels ("v1") to the visitor ids minted for them.
    visitors: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Tenant {
    /// The visitor id of the browser this test calls `label`: minted by
    /// `POST /v1/widget/visitors` on first use, as the widget does.
    pub fn visitor(&self, label: &str) -> String {
        self.visitor_via(&self.api, label)
    }

    /// [`Tenant::visitor`], minted through `client` (another host, or the
    /// same app after a restart).
    pub fn visitor_via(&self, client: &Client, label: &str) -> String {
        let mut visitors = self.visitors.lock().unwrap();
        visitors
            .entry(label.to_string())
            .or_insert_with(|| {
                let minted = client
                    .post("/v1/widget/visitors", &json!({ "site": self.site_key }))
                    .expect(201)
                    .json();
                minted["visitor"].as_str().expect("visitor").to_string()
            })
            .clone()
    }

    /// Syncs the agent list to `agents` as `(id, available)`, all online.
    pub fn sync_agents(&self, agents: &[(&str, bool)]) {
        let list: Vec<Value> = agents
            .iter()
            .map(|(id, available)| {
                json!({"id": id, "name": id, "online": true, "available": available})
            })
            .collect();
        self.api
            .put("/api/v1/agents", &json!({ "agents": list }))
            .expect(200);
    }

    /// Every event of the account, oldest first (first 500).
    pub fn events(&self) -> Vec<Value> {
        self.api.get("/api/v1/events?limit=500").expect(200).json()["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("expected JSON ({e}), got {}: {}", self.status, self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.body
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status; returns its JSON.
    #[track_caller]
    pub fn expect_problem(&self, status: u16) -> Value {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "expected a problem+json body: {}",
            self.body
        );
        let problem = self.json();
        assert_eq!(problem["status"], status, "{problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "a problem needs a detail: {problem}"
        );
        problem
    }
}

/// An HTTP client that never treats a status as an error.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    bearer: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is an answer the suites look at (agent links' 303).
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client {
            agent,
            base: base.to_string(),
            bearer: None,
        }
    }

    /// The same client, sending `Authorization: Bearer <token>`.
    pub fn with_bearer(&self, token: &str) -> Self {
        Client {
            bearer: Some(token.to_string()),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with any method, headers and body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        if let Some(token) = &self.bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = match body {
            Some(body) => self
                .agent
                .run(builder.body(body.to_vec()).expect("request")),
            None => self.agent.run(builder.body(()).expect("request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, &[], None)
    }

    /// A JSON request.
    pub fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).expect("json");
        self.send(
            method,
            path,
            &[("content-type", "application/json")],
            Some(&bytes),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.json("POST", path, body)
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.json("PUT", path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.json("PATCH", path, body)
    }
}

/// A free loopback port (the OS picks it; the listener is closed at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A throwaway `redis-server` on a free loopback port, stopped when dropped.
pub struct Redis {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        let dir = tempfile::tempdir().expect("temp dir");
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed by tests/run.sh");
            if wait_ready(&mut child, port) {
                return Redis {
                    child,
                    url: format!("redis://127.0.0.1:{port}"),
                    _dir: dir,
                };
            }
            let _ = child.kill();
        }
        panic!("redis-server did not start");
    }

    /// A runtime config that puts the `default` store on this server.
    pub fn runtime_config(&self, dir: &Path) -> PathBuf {
        let path = dir.join("runtime-config.toml");
        std::fs::write(
            &path,
            format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
                self.url
            ),
        )
        .expect("write runtime config");
        path
    }

    /// Two hosts started with `options()`, both on this server: the
    /// scale-out configuration. Declare them after the server, so that they
    /// stop first.
    pub fn two_hosts(&self, options: impl Fn() -> HostOptions) -> [Host; 2] {
        let config = self.runtime_config(self._dir.path());
        [
            options().runtime_config(&config).start(),
            options().runtime_config(&config).start(),
        ]
    }

    /// Stops the server (to test how the app copes).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false; // the port was taken meanwhile
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Runs `count` calls of `f` on `threads` threads; returns their results.
pub fn in_parallel<T: Send + 'static>(
    count: usize,
    threads: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let f = f.clone();
            let next = next.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= count {
                        return out;
                    }
                    out.push(f(i));
                }
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("worker thread"))
        .collect()
}
