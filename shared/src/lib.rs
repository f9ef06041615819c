//! edgechat's domain library: everything the Spin components share.
//!
//! The components under `functions/` are thin: they parse a request, call into
//! this crate, and turn the result into a response. This crate holds the rules
//! and knows nothing about Spin except through [`store::KeyValue`], whose Spin
//! implementation lives behind the `spin` feature ([`spin_store`]).
//!
//! - [`problem`]: RFC 9457 `application/problem+json` errors; [`error`]: the
//!   domain's error enum that maps onto them.
//! - [`store`]: the key-value trait, an in-memory store for unit tests;
//!   [`doc`]: versioned JSON documents and compare-and-swap updates;
//!   [`seqlog`]: append-only logs over an atomic sequence.
//! - [`keys`]: every key the application writes, built in one place.
//! - [`ids`], [`time`], [`crypto`], [`input`], [`paging`]: the vocabulary.
//! - The integration API, one module per resource: [`accounts`], [`tokens`]
//!   (with [`auth`]), [`agents`], [`customers`], [`audit`], and
//!   [`idempotency`] for POSTs.
//! - Chat: [`conversations`] (the visitor ↔ business flow and the change
//!   feed), [`messages`], [`events`] (the account's event log, every change
//!   exactly once), [`routing`] (manual or round robin), [`visitors`]
//!   (signed visitor tokens) and [`longpoll`].
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

pub mod accounts;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod conversations;
pub mod crypto;
pub mod customers;
pub mod doc;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod input;
pub mod keys;
pub mod longpoll;
pub mod messages;
pub mod paging;
pub mod problem;
pub mod route_table;
pub mod routing;
pub mod rules;
pub mod seqlog;
pub mod store;
pub mod time;
pub mod tokens;
pub mod tz;
pub mod visibility;
pub mod visitors;
pub mod widget;

#[cfg(test)]
mod testing;

#[cfg(feature = "spin")]
pub mod spin_http;
#[cfg(feature = "spin")]
pub mod spin_store;

/// The version reported by `/healthz` and the OpenAPI document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
