//! The running app: compiled components, the route table, and the HTTP server.
//!
//! Each component is compiled once (or loaded from the cache) and
//! pre-instantiated; every request gets a fresh instance from the pooling
//! allocator, as in Spin. A guest trap answers 500 and is logged; it never
//! takes the host down. A guest that runs past `--request-timeout` is
//! stopped (see `request_timeout`). Whatever the runtime answers itself is
//! problem+json (see `problem`).

use crate::bindings::SpinHost;
use crate::kv::KvStores;
use crate::manifest::Manifest;
use crate::outbound::{AllowedHost, OutboundHooks};
use crate::request_timeout::RequestTimeout;
use crate::routing::{RouteMatch, Router};
use crate::state::{ComponentContext, HostState};
use anyhow::{Context, Result, anyhow};
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::bindings::ProxyPre;
use wasmtime_wasi_http::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

/// A body going to or coming from a component.
pub type Body = HyperOutgoingBody;

struct LoadedComponent {
    context: Arc<ComponentContext>,
    allowed_hosts: Arc<Vec<AllowedHost>>,
    pre: ProxyPre<HostState>,
}

/// A loaded application, ready to serve.
pub struct App {
    components: Vec<LoadedComponent>,
    by_id: HashMap<String, usize>,
    router: Router,
    kv: Arc<KvStores>,
    request_timeout: Option<RequestTimeout>,
    this: Weak<App>,
}

/// Why a component gave no response.
enum Failure {
    /// Stopped at the request timeout.
    TimedOut,
    /// Anything else: a trap, an instantiation error, no response set.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Failed(e)
    }
}

impl From<wasmtime::Error> for Failure {
    fn from(e: wasmtime::Error) -> Self {
        Failure::Failed(e.into())
    }
}

/// Where the app listens, for Spin's URL headers.
#[derive(Clone, Copy)]
pub struct Listening {
    pub addr: SocketAddr,
}

impl App {
    /// Compiles and pre-instantiates every component of `manifest`.
    pub fn load(
        manifest: &Manifest,
        variables: HashMap<String, HashMap<String, String>>,
        kv: KvStores,
        cache_dir: &Path,
        request_timeout: Option<RequestTimeout>,
    ) -> Result<Arc<App>> {
        let engine = engine()?;
        crate::request_timeout::start_epoch_ticker(&engine);
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::add_only_http_to_linker_async(&mut linker)?;
        SpinHost::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;

        let mut components = Vec::new();
        let mut by_id = HashMap::new();
        for (id, decl) in &manifest.components {
            let path = manifest.source_path(id)?;
            if !path.exists() {
                return Err(anyhow!(
                    "component '{id}': {} does not exist (build it first, or run `up --build`)",
                    path.display()
                ));
            }
            let component = crate::cache::load_component(&engine, &path, cache_dir)
                .with_context(|| format!("component '{id}'"))?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component '{id}' imports something this host lacks"))?;
            let pre = ProxyPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component '{id}' is not an HTTP component"))?;
            let allowed_hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|entry| AllowedHost::parse(entry))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("component '{id}'"))?;
            let context = ComponentContext {
                id: id.clone(),
                key_value_stores: decl.key_value_stores.iter().cloned().collect(),
                variables: variables.get(id).cloned().unwrap_or_default(),
                environment: decl.environment.clone().into_iter().collect(),
            };
            by_id.insert(id.clone(), components.len());
            components.push(LoadedComponent {
                context: Arc::new(context),
                allowed_hosts: Arc::new(allowed_hosts),
                pre,
            });
        }
        let mut router = Router::default();
        for trigger in &manifest.triggers {
            if let Some(route) = &trigger.route {
                router.add(route, by_id[&trigger.component]);
            }
        }
        Ok(Arc::new_cyclic(|this| App {
            components,
            by_id,
            router,
            kv: Arc::new(kv),
            request_timeout,
            this: this.clone(),
        }))
    }

    /// Serves one request from outside.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        listening: Listening,
    ) -> Response<Body> {
        let path = req.uri().path().to_string();
        let Some(route) = self.router.find(&path) else {
            return crate::problem::no_route();
        };
        // Spin (3.6, 4.0) copies header values into the component as text
        // and fails the request, a 500, when one is not UTF-8: refuse it
        // the same way, before the component runs.
        if let Some((name, _)) = req
            .headers()
            .iter()
            .find(|(_, value)| std::str::from_utf8(value.as_bytes()).is_err())
        {
            eprintln!("request refused: the value of header '{name}' is not UTF-8 (as Spin does)");
            return crate::problem::component_failed();
        }
        let mut req = req.map(|body| {
            body.map_err(|e| ErrorCode::InternalError(Some(e.to_string())))
                .boxed_unsync()
        });
        set_spin_headers(&mut req, &route, client, listening);
        self.call(route.component, req).await
    }

    /// Serves a request the runtime makes itself (`--tick`), routed like
    /// one from outside.
    pub async fn handle_local(
        &self,
        mut req: Request<Body>,
        listening: Listening,
    ) -> Response<Body> {
        let path = req.uri().path().to_string();
        let Some(route) = self.router.find(&path) else {
            return crate::problem::no_route();
        };
        let client = SocketAddr::from(([127, 0, 0, 1], 0));
        set_spin_headers(&mut req, &route, client, listening);
        self.call(route.component, req).await
    }

    /// Serves a request from a component to `http://<target>.spin.internal`.
    pub async fn call_internal(
        &self,
        target: &str,
        mut req: Request<Body>,
    ) -> Result<Response<Body>> {
        let index = *self
            .by_id
            .get(target)
            .ok_or_else(|| anyhow!("no component '{target}' in this app"))?;
        let path = req.uri().path().to_string();
        let route = RouteMatch::synthetic(index, &path);
        let listening = Listening {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        set_spin_headers(&mut req, &route, listening.addr, listening);
        Ok(self.call(index, req).await)
    }

    async fn call(&self, index: usize, req: Request<Body>) -> Response<Body> {
        let component = &self.components[index];
        let id = component.context.id.clone();
        match self.instantiate_and_handle(component, req).await {
            Ok(response) => response,
            Err(Failure::TimedOut) => {
                eprintln!("{}", self.timed_out_message(&id, "before it answered"));
                crate::problem::timed_out()
            }
            Err(Failure::Failed(e)) => {
                eprintln!("component '{id}' failed: {e:#}");
                crate::problem::component_failed()
            }
        }
    }

    fn timed_out_message(&self, id: &str, when: &str) -> String {
        let timeout = self
            .request_timeout
            .map(|t| t.to_string())
            .unwrap_or_default();
        format!("component '{id}' ran past the request timeout ({timeout}) {when}; it was stopped")
    }

    async fn instantiate_and_handle(
        &self,
        component: &LoadedComponent,
        req: Request<Body>,
    ) -> Result<Response<Body>, Failure> {
        let context = component.context.clone();
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        for (key, value) in &context.environment {
            wasi.env(key, value);
        }
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundHooks {
                allowed: component.allowed_hosts.clone(),
                app: self.this.clone(),
                component: context.id.clone(),
            },
            component: context.clone(),
            kv: self.kv.clone(),
        };
        let mut store = Store::new(component.pre.engine(), state);
        // The clock starts when the request reaches the component, as
        // Spin's does when it hands a WASIp3 instance its task.
        let deadline = self.request_timeout.map(|t| Instant::now() + t.pick());
        let interrupted = crate::request_timeout::arm(&mut store, deadline);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store.data_mut().new_incoming_request(Scheme::Http, req)?;
        let outparam = store.data_mut().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        let guest = async move {
            // With every pooled instance in use, this is where a request fails.
            let proxy = pre
                .instantiate_async(&mut store)
                .await
                .map_err(anyhow::Error::from)
                .context("cannot instantiate the component")?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
                .map_err(anyhow::Error::from)
                .context("the component trapped")
        };
        // The deadline covers the whole run, streaming the body included;
        // the epoch stops a guest that computes, this timer one that waits.
        // Either way the store goes with the task, and its instance back to
        // the pool.
        let task = tokio::task::spawn(async move {
            let end = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), guest).await,
                None => Ok(guest.await),
            };
            match end {
                Ok(Err(_)) if interrupted.load(Ordering::Relaxed) => Err(Failure::TimedOut),
                Ok(result) => result.map_err(Failure::Failed),
                Err(_elapsed) => Err(Failure::TimedOut),
            }
        });
        match receiver.await {
            Ok(Ok(response)) => {
                // The guest may still be streaming the body: report a trap
                // or a timeout that happens after the headers went out.
                let id = context.id.clone();
                let app = self.this.clone();
                tokio::spawn(async move {
                    match task.await {
                        Ok(Ok(())) => {}
                        Ok(Err(Failure::TimedOut)) => {
                            if let Some(app) = app.upgrade() {
                                eprintln!("{}", app.timed_out_message(&id, "after responding"));
                            }
                        }
                        Ok(Err(Failure::Failed(e))) => {
                            eprintln!("component '{id}' failed after responding: {e:?}")
                        }
                        Err(e) => eprintln!("component '{id}' task failed: {e}"),
                    }
                });
                Ok(response)
            }
            Ok(Err(code)) => Err(anyhow!("the component answered with an error: {code:?}").into()),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(anyhow!("the component never set a response").into()),
                Ok(Err(Failure::Failed(e))) => Err(e.into()),
                Ok(Err(Failure::TimedOut)) => Err(Failure::TimedOut),
                Err(e) => Err(anyhow!("the component task failed: {e}").into()),
            },
        }
    }
}

/// The engine: async host calls, epoch interruption (as in Spin, which
/// enables it too), pooling allocation (falling back to on-demand where the
/// machine cannot reserve the pool's address space).
fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instance_count()?)
        .total_core_instances(4_000)
        .total_memories(2_000)
        .total_tables(2_000)
        .max_memories_per_component(8)
        .max_tables_per_component(8)
        .max_memory_size(256 << 20)
        // Reset the first pages of each slot with memset instead of
        // madvise: a guest touches about this much per request, and
        // madvise costs a TLB shootdown across cores plus page faults next
        // time.
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(256 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            eprintln!("pooling allocator unavailable ({e}); using on-demand allocation");
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Ok(Engine::new(&config)?)
        }
    }
}

/// How many component instances may be live at once, i.e. how many requests
/// run concurrently: Spin's `SPIN_WASMTIME_INSTANCE_COUNT`, which defaults to
/// `SPIN_MAX_INSTANCE_COUNT`, which defaults to 1,000. A request beyond it
/// fails to instantiate and answers 500, as on Spin.
fn instance_count() -> Result<u32> {
    let from_env = |name: &str| -> Result<Option<u32>> {
        match std::env::var(name) {
            Ok(value) => value
                .parse()
                .map(Some)
                .map_err(|e| anyhow!("cannot parse {name}={value:?}: {e}")),
            Err(_) => Ok(None),
        }
    };
    let max = from_env("SPIN_MAX_INSTANCE_COUNT")?.unwrap_or(1_000);
    Ok(from_env("SPIN_WASMTIME_INSTANCE_COUNT")?.unwrap_or(max))
}

/// Sets the headers Spin gives every component request.
fn set_spin_headers(
    req: &mut Request<Body>,
    route: &RouteMatch,
    client: SocketAddr,
    listening: Listening,
) {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| listening.addr.to_string());
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let full_url = format!("http://{host}{path_and_query}");
    let mut values = vec![
        ("spin-full-url".to_string(), full_url),
        ("spin-base-path".to_string(), "/".to_string()),
        ("spin-client-addr".to_string(), client.to_string()),
    ];
    // spin-path-info, spin-matched-route, spin-component-route,
    // spin-raw-component-route and one spin-path-match-<name> per `:name`.
    values.extend(route.headers());
    let headers = req.headers_mut();
    if !headers.contains_key(http::header::HOST) {
        if let Ok(value) = HeaderValue::from_str(&host) {
            headers.insert(http::header::HOST, value);
        }
    }
    for (name, value) in values {
        // Like Spin, drop a header that cannot be sent (a `:name` with
        // characters no header name may have).
        let name = http::HeaderName::from_bytes(name.as_bytes());
        let value = HeaderValue::from_bytes(value.as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.insert(name, value);
        }
    }
}
