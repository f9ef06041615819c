//! The key-value store and what edgechat builds on it.
//!
//! - [`store`]: the store trait (only what every Spin backend implements
//!   correctly) and an in-memory store for unit tests; `spin_store`: the
//!   trait over Spin's key-value store, for the components.
//! - [`doc`]: JSON documents, single-writer and shared (read-modify-write
//!   through increment claims instead of compare-and-swap).
//! - [`seqlog`]: append-only logs over an atomic sequence.
//! - [`keys`]: every key the application writes, built in one place.

pub mod doc;
pub mod keys;
pub mod seqlog;
#[cfg(feature = "spin")]
pub mod spin_store;
pub mod store;
