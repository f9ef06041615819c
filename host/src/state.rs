//! What each request's wasmtime `Store` holds.

use crate::kv::KvStores;
use crate::outbound::OutboundHooks;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

/// A component's permissions and configuration, fixed at start-up.
#[derive(Debug, Default)]
pub struct ComponentContext {
    /// The component id from the manifest.
    pub id: String,
    /// Key-value labels it may open.
    pub key_value_stores: HashSet<String>,
    /// Its variables, already expanded.
    pub variables: HashMap<String, String>,
    /// Its `environment` entries.
    pub environment: Vec<(String, String)>,
}

/// Per-request state: WASI, WASI HTTP and Spin's interfaces.
pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub outbound: OutboundHooks,
    pub component: Arc<ComponentContext>,
    pub kv: Arc<KvStores>,
    /// Key-value calls this request's instance made so far.
    pub kv_round_trips: KvRoundTrips,
}

/// How many key-value calls an instance made: every call that reaches a
/// store (get, set, delete, exists, listing keys, increment, the
/// compare-and-swap's read and its swap, and each batch call, once),
/// through `fermyon:spin/key-value` or `wasi:keyvalue`; opening and closing
/// a store are not counted. Shared with the server, which reads it when the
/// response headers arrive (see `KV_COUNT_VAR` in `server`).
#[derive(Clone, Default)]
pub struct KvRoundTrips(Arc<AtomicU64>);

impl KvRoundTrips {
    pub fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn so_far(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        self.outbound.send_request(request, config)
    }
}
