//! edgechat's domain library: everything the Spin components share.
//!
//! The components under `functions/` are thin: they parse a request, call into
//! this crate, and turn the result into a response. This crate holds the rules
//! and knows nothing about Spin except at its two edges, behind the `spin`
//! feature: `http::spin_http` (requests and responses) and
//! `storage::spin_store` (the key-value store).
//!
//! The areas, each a folder of `src/`:
//! - [`base`]: the vocabulary — [`ids`], [`time`], [`tz`], [`crypto`],
//!   [`input`], [`paging`], [`error`] and [`problem`].
//! - [`storage`]: [`store`] (the key-value trait), [`doc`] (single-writer and
//!   shared documents), [`seqlog`] (append-only logs), [`keys`] (every key),
//!   and `spin_store`.
//! - [`http`]: [`route_table`] and `spin_http`, the components' edge.
//! - [`api`], the integration API: [`accounts`], [`tokens`], [`auth`],
//!   [`agents`], [`customers`], [`audit`], [`idempotency`].
//! - [`chat`]: [`conversations`], [`messages`], [`events`], [`routing`],
//!   [`visitors`], [`longpoll`], [`waiting`].
//! - [`widget`]: [`widget::config`], [`rules`], [`visibility`], [`identity`].
//! - [`webhooks`]: endpoints, signed deliveries, retries, replays.
//! - [`agent`]: signed agent links ([`agent_links`]) and the agent page's
//!   sessions ([`agent_sessions`]).
//!
//! Every module is also re-exported at the crate root (`edgechat::agents`),
//! so that the components' imports stay one segment long.
//!
//! Every operation takes the store and a [`time::Clock`], so unit tests run
//! on [`store::MemoryStore`] with a manual clock:
//!
//! ```
//! use edgechat::{accounts, agents, auth, store::MemoryStore, time::SystemClock};
//!
//! let kv = MemoryStore::new();
//! let created = accounts::create(&kv, &SystemClock, "Acme").unwrap();
//! let caller = auth::authenticate(&kv, Some(&format!("Bearer {}", created.api_token))).unwrap();
//! let body = serde_json::json!({"agents": [{"id": "alice", "name": "Alice"}]});
//! let outcome = agents::sync(&kv, &SystemClock, &caller, &agents::parse_list(&body).unwrap()).unwrap();
//! assert_eq!(outcome.created.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod agent;
pub mod api;
pub mod base;
pub mod chat;
pub mod http;
pub mod storage;
pub mod webhooks;
pub mod widget;

#[cfg(test)]
mod testing;

pub use agent::{links as agent_links, sessions as agent_sessions};
pub use api::{accounts, agents, audit, auth, customers, idempotency, tokens};
pub use base::{crypto, error, ids, input, paging, problem, time, tz};
pub use chat::{conversations, events, longpoll, messages, routing, visitors, waiting};
pub use http::route_table;
#[cfg(feature = "spin")]
pub use http::spin_http;
#[cfg(feature = "spin")]
pub use storage::spin_store;
pub use storage::{doc, keys, seqlog, store};
pub use widget::{identity, rules, visibility};

/// The version reported by `/healthz` and the OpenAPI document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
