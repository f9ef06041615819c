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
use crate::state::{ComponentContext, HostState, KvRoundTrips};
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
use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
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
    /// Whether responses to outside requests carry [`KV_ROUND_TRIPS_HEADER`].
    count_kv_round_trips: bool,
    this: Weak<App>,
}

/// Set to `1`, the host tells in each response to an outside request how
/// many key-value calls its instance had made when the response headers
/// arrived (see [`KvRoundTrips`]), in [`KV_ROUND_TRIPS_HEADER`]: a
/// measuring aid for tests and the benchmark. Off by default, and Spin has
/// no such header. Calls made by a component reached through service
/// chaining count in that component's instance, not its caller's.
pub const KV_COUNT_VAR: &str = "EDGECHAT_HOST_KV_COUNT";

/// The response header of [`KV_COUNT_VAR`].
pub const KV_ROUND_TRIPS_HEADER: &str = "edgechat-kv-round-trips";

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

/// Aborts a spawned task when dropped, unless disarmed first.
struct AbortOnDrop(Option<tokio::task::AbortHandle>);

impl AbortOnDrop {
    fn new(handle: tokio::task::AbortHandle) -> Self {
        AbortOnDrop(Some(handle))
    }

    /// Lets the task run on by itself.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
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
        let engine = crate::pool::engine()?;
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
            count_kv_round_trips: std::env::var(KV_COUNT_VAR).is_ok_and(|v| v == "1"),
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
        self.call(route.component, req, self.count_kv_round_trips)
            .await
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
        self.call(route.component, req, false).await
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
        Ok(self.call(index, req, false).await)
    }

    /// Runs component `index` on `req`; `count_kv` adds
    /// [`KV_ROUND_TRIPS_HEADER`] to its response.
    async fn call(&self, index: usize, req: Request<Body>, count_kv: bool) -> Response<Body> {
        let component = &self.components[index];
        let id = component.context.id.clone();
        let kv_round_trips = KvRoundTrips::default();
        match self
            .instantiate_and_handle(component, req, kv_round_trips.clone())
            .await
        {
            Ok(mut response) => {
                if count_kv {
                    response.headers_mut().insert(
                        KV_ROUND_TRIPS_HEADER,
                        HeaderValue::from(kv_round_trips.so_far()),
                    );
                }
                response
            }
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
        kv_round_trips: KvRoundTrips,
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
            kv_round_trips,
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
        // Until the response headers are out, the guest lives only as long
        // as this future. hyper drops it when the client hangs up (HTTP/1
        // with half-close off, its default, reads the connection's EOF
        // while the response is pending), and then the guard aborts the
        // task: its store, and the pooled instance, go at once instead of
        // when a long-poll's wait would have ended.
        //
        // Spin 3.6.3 does not do this: its wasi-http executor (crates/
        // trigger-http/src/wasi.rs) also spawns the guest into a task, but
        // drops its handle with the request future, so a hung-up guest runs
        // to its end and holds its instance until then. Freeing the slot
        // earlier here is acceptable only because the app never relies on a
        // guest running on after its client left: on Spin, a hung-up
        // long-poll keeps its instance until its wait (at most 30 s) ends,
        // and the app's capacity must count it.
        let guard = AbortOnDrop::new(task.abort_handle());
        let answer = receiver.await;
        guard.disarm();
        match answer {
            Ok(Ok(response)) => {
                // The headers are out: from here the guest streams the body
                // detached, as in Spin (a write to a body whose client left
                // fails, and the guest ends). Report a trap or a timeout
                // that happens after the headers went out.
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
