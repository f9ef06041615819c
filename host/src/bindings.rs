//! Spin's key-value and variables interfaces, implemented for each request's
//! [`HostState`]. `fermyon:spin/key-value` and `wasi:keyvalue` (store,
//! atomics, batch) share the same backends and the same access rules.

use crate::kv::{Backend, KvError};
use crate::state::HostState;
use std::sync::Arc;
use wasmtime::component::Resource;

wasmtime::component::bindgen!({
    path: "wit",
    world: "spin-host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": OpenStore,
        "wasi:keyvalue/store.bucket": OpenStore,
        "wasi:keyvalue/atomics.cas": CasState,
    },
});

use fermyon::spin::{key_value, variables};
use wasi::keyvalue::{atomics, batch, store};

/// An opened store: the resource behind both a Spin `store` and a wasi `bucket`.
pub struct OpenStore {
    backend: Arc<Backend>,
}

/// A compare-and-swap in progress: the value seen when it began.
pub struct CasState {
    backend: Arc<Backend>,
    key: String,
    seen: Option<Vec<u8>>,
}

impl HostState {
    /// Opens `label` if this component declared it and a backend serves it.
    fn open_store(&self, label: &str) -> Result<OpenStore, KvError> {
        if !self.component.key_value_stores.contains(label) {
            return Err(KvError::AccessDenied);
        }
        let backend = self.kv.get(label).ok_or(KvError::NoSuchStore)?;
        Ok(OpenStore { backend })
    }

    /// The backend behind `store`, for one call that reaches it: every data
    /// call goes through here (but a compare-and-swap's `new` and `swap`,
    /// which keep their backend and count themselves), so this is where
    /// the request's key-value round trips are counted.
    ///
    /// Borrowed, not cloned: every instance's calls share one `Arc`, and
    /// bumping its count on each call (a long-poll probe, most often) would
    /// bounce its cache line between the cores.
    fn backend(&self, store: &Resource<OpenStore>) -> wasmtime::Result<&Backend> {
        let backend = &self.table.get(store)?.backend;
        self.kv_round_trips.count();
        Ok(backend)
    }
}

impl From<KvError> for key_value::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => key_value::Error::NoSuchStore,
            KvError::AccessDenied => key_value::Error::AccessDenied,
            KvError::Other(m) => key_value::Error::Other(m),
        }
    }
}

impl From<KvError> for store::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => store::Error::NoSuchStore,
            KvError::AccessDenied => store::Error::AccessDenied,
            KvError::Other(m) => store::Error::Other(m),
        }
    }
}

type Outcome<T, E> = wasmtime::Result<Result<T, E>>;

fn outcome<T, E: From<KvError>>(result: Result<T, KvError>) -> Outcome<T, E> {
    Ok(result.map_err(E::from))
}

impl key_value::Host for HostState {}

impl key_value::HostStore for HostState {
    async fn open(&mut self, label: String) -> Outcome<Resource<OpenStore>, key_value::Error> {
        match self.open_store(&label) {
            Ok(open) => Ok(Ok(self.table.push(open)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Outcome<Option<Vec<u8>>, key_value::Error> {
        outcome(self.backend(&store)?.get(&key).await)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Outcome<(), key_value::Error> {
        outcome(self.backend(&store)?.set(&key, &value).await)
    }

    async fn delete(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Outcome<(), key_value::Error> {
        outcome(self.backend(&store)?.delete(&key).await)
    }

    async fn exists(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Outcome<bool, key_value::Error> {
        outcome(self.backend(&store)?.exists(&key).await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<OpenStore>,
    ) -> Outcome<Vec<String>, key_value::Error> {
        outcome(self.backend(&store)?.keys().await)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl store::Host for HostState {
    async fn open(&mut self, label: String) -> Outcome<Resource<OpenStore>, store::Error> {
        match self.open_store(&label) {
            Ok(open) => Ok(Ok(self.table.push(open)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl store::HostBucket for HostState {
    async fn get(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Outcome<Option<Vec<u8>>, store::Error> {
        outcome(self.backend(&bucket)?.get(&key).await)
    }

    async fn set(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Outcome<(), store::Error> {
        outcome(self.backend(&bucket)?.set(&key, &value).await)
    }

    async fn delete(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Outcome<(), store::Error> {
        outcome(self.backend(&bucket)?.delete(&key).await)
    }

    async fn exists(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Outcome<bool, store::Error> {
        outcome(self.backend(&bucket)?.exists(&key).await)
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<OpenStore>,
        _cursor: Option<String>,
    ) -> Outcome<store::KeyResponse, store::Error> {
        // One page holds every key; a `None` cursor says there is no more.
        let keys = self.backend(&bucket)?.keys().await;
        outcome(keys.map(|keys| store::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, bucket: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for HostState {
    async fn increment(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        delta: i64,
    ) -> Outcome<i64, store::Error> {
        outcome(self.backend(&bucket)?.increment(&key, delta).await)
    }

    async fn swap(
        &mut self,
        cas: Resource<CasState>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let state = self.table.delete(cas)?;
        self.kv_round_trips.count();
        let swapped = state
            .backend
            .compare_and_swap(&state.key, state.seen.as_deref(), &value)
            .await;
        match swapped {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Hand back a fresh CAS on the value that won, so that the
                // guest can retry from it.
                let seen = match state.backend.get(&state.key).await {
                    Ok(seen) => seen,
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(e.into()))),
                };
                let retry = self.table.push(CasState { seen, ..state })?;
                Ok(Err(atomics::CasError::CasFailed(retry)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(e.into()))),
        }
    }
}

impl atomics::HostCas for HostState {
    async fn new(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Outcome<Resource<CasState>, store::Error> {
        let backend = self.table.get(&bucket)?.backend.clone();
        self.kv_round_trips.count();
        // The value seen now is the one `swap` will require to still be there.
        let seen = match backend.get(&key).await {
            Ok(seen) => seen,
            Err(e) => return Ok(Err(e.into())),
        };
        Ok(Ok(self.table.push(CasState { backend, key, seen })?))
    }

    async fn current(&mut self, cas: Resource<CasState>) -> Outcome<Option<Vec<u8>>, store::Error> {
        Ok(Ok(self.table.get(&cas)?.seen.clone()))
    }

    async fn drop(&mut self, cas: Resource<CasState>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> Outcome<Vec<(String, Option<Vec<u8>>)>, store::Error> {
        outcome(self.backend(&bucket)?.get_many(keys).await)
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenStore>,
        entries: Vec<(String, Vec<u8>)>,
    ) -> Outcome<(), store::Error> {
        outcome(self.backend(&bucket)?.set_many(entries).await)
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> Outcome<(), store::Error> {
        outcome(self.backend(&bucket)?.delete_many(keys).await)
    }
}

impl variables::Host for HostState {
    async fn get(&mut self, name: String) -> Outcome<String, variables::Error> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Ok(Err(variables::Error::InvalidName(name)));
        }
        match self.component.variables.get(&name) {
            Some(value) => Ok(Ok(value.clone())),
            None => Ok(Err(variables::Error::Undefined(format!(
                "no variable for \"{name}\""
            )))),
        }
    }
}
