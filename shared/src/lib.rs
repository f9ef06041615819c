//! edgechat's domain library: everything the Spin components share.
//!
//! The components under `functions/` are thin: they parse a request, call into
//! this crate, and turn the result into a response. This crate holds the rules
//! and knows nothing about Spin except through [`store::KeyValue`], whose Spin
//! implementation lives behind the `spin` feature ([`spin_store`]).
//!
//! - [`problem`]: RFC 9457 `application/problem+json` errors.
//! - [`store`]: the key-value trait, an in-memory store for unit tests.
//! - [`keys`]: every key the application writes, built in one place.
#![deny(missing_docs)]

pub mod keys;
pub mod problem;
pub mod store;

#[cfg(feature = "spin")]
pub mod spin_http;
#[cfg(feature = "spin")]
pub mod spin_store;

/// The version reported by `/healthz` and the OpenAPI document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
