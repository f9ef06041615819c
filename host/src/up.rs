//! `edgechat-host up`: load, listen, serve until SIGINT or SIGTERM.

use crate::UpArgs;
use crate::kv::{Backend, KvStores, RedisStore, SqliteDb};
use crate::manifest::Manifest;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::server::{App, Listening};
use anyhow::{Context, Result, bail};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How long in-flight requests may run on after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client has to send a request's whole header block, counted
/// from when the connection opens or its previous response was sent: so it
/// is also how long an idle keep-alive connection stays open. hyper's default
/// for this timer (Spin sets no timer, so a connection that never finishes
/// its headers stays open there for good). A request being served, a
/// long-poll included, is not idle: the timer runs only while the server
/// waits for headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(args: UpArgs) -> Result<()> {
    // Before anything else: a signal that came before the serve loop first
    // waited would otherwise kill the process instead of shutting it down.
    let shutdown = ShutdownSignals::install()?;
    let mut manifest = Manifest::load(&args.manifest)?;
    for warning in &manifest.warnings {
        eprintln!("Warning: {warning}");
    }
    if args.build {
        crate::spin_build::run(&manifest)?;
    }
    let values = crate::variables::application_values(&manifest, |name| std::env::var(name).ok())?;
    let variables = crate::variables::component_values(&manifest, &values)?;
    for error in crate::variables::expand_allowed_hosts(&mut manifest, &values) {
        eprintln!("Error: {error}");
    }
    let runtime_config = match &args.runtime_config_file {
        Some(path) => RuntimeConfig::load(path)?,
        None => RuntimeConfig::default(),
    };
    let kv = key_value_stores(&manifest, &runtime_config, &args).await?;
    let app = App::load(
        &manifest,
        variables,
        kv,
        &compile_cache_dir(&args),
        args.request_timeout,
    )?;

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Serving http://{addr}");
    println!("Available Routes:");
    for trigger in &manifest.triggers {
        if let Some(route) = &trigger.route {
            let shown = match route.strip_suffix("/...") {
                Some(prefix) => format!("{prefix} (wildcard)"),
                None => route.clone(),
            };
            println!("  {}: http://{addr}{shown}", trigger.component);
        }
    }
    let listening = Listening { addr };
    for path in &args.tick {
        let bearer = values.get(&args.tick_token_variable).cloned();
        crate::tick::start(app.clone(), path.clone(), bearer, listening);
    }
    serve(listener, app, listening, shutdown).await
}

/// Compiled components are machine code for this host, not app state: they
/// live in the user's cache (like Spin's), shared by every app and state dir.
fn compile_cache_dir(args: &UpArgs) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match base {
        Some(base) => base.join("edgechat-host").join("components"),
        None => args.state_dir.join("component-cache"),
    }
}

async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    listening: Listening,
    mut shutdown: ShutdownSignals,
) -> Result<()> {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(app.handle(req, client, listening).await) }
                });
                let connection = http1::Builder::new()
                    .keep_alive(true)
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // A client that hangs up mid-request is not the host's error.
                    let _ = connection.await;
                });
            }
            signal = shutdown.recv() => {
                println!("Received {signal}, shutting down");
                break;
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => eprintln!("some requests were still running; stopping anyway"),
    }
    Ok(())
}

/// SIGINT and SIGTERM, each handled from the moment it is installed
/// (tokio registers a signal's handler when its stream is created; a signal
/// that arrives before anyone waits is kept for the first `recv`).
struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    fn install() -> Result<ShutdownSignals> {
        Ok(ShutdownSignals {
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
        })
    }

    /// The name of the next signal to arrive.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// One backend per label any component declares: `default` is SQLite in the
/// state directory unless the runtime config says otherwise; any other label
/// must be configured, as in Spin.
async fn key_value_stores(
    manifest: &Manifest,
    config: &RuntimeConfig,
    args: &UpArgs,
) -> Result<KvStores> {
    let labels: BTreeSet<&String> = manifest
        .components
        .values()
        .flat_map(|c| &c.key_value_stores)
        .collect();
    let mut stores = KvStores::default();
    let mut databases: HashMap<PathBuf, Arc<SqliteDb>> = HashMap::new();
    for label in labels {
        let store_config = match config.key_value_store.get(label.as_str()) {
            Some(store_config) => store_config.clone(),
            None if label == "default" => KvStoreConfig::Spin { path: None },
            None => bail!(
                "a component uses key-value store '{label}', which the runtime config does not define"
            ),
        };
        let backend = match store_config {
            KvStoreConfig::Spin { path } => {
                let path = path.unwrap_or_else(|| args.state_dir.join("sqlite_key_value.db"));
                let db = match databases.get(&path) {
                    Some(db) => db.clone(),
                    None => {
                        let db = Arc::new(SqliteDb::open(&path).with_context(|| {
                            format!("cannot open key-value database {}", path.display())
                        })?);
                        databases.insert(path, db.clone());
                        db
                    }
                };
                Backend::Sqlite {
                    db,
                    label: label.clone(),
                }
            }
            KvStoreConfig::Redis { url } => {
                Backend::Redis(RedisStore::connect(&url).await.with_context(|| {
                    format!("cannot connect key-value store '{label}' to {url}")
                })?)
            }
        };
        stores.insert(label, backend);
    }
    Ok(stores)
}
