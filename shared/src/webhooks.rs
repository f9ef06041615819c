//! Webhooks: every event of the account's log, signed (Standard Webhooks
//! v1), delivered at least once to each endpoint that subscribes to it,
//! retried on a schedule, visible and replayable.
//!
//! - [`endpoints`]: the endpoints and their management; [`urls`]: which
//!   URLs are allowed; [`signing`]: secrets and signatures.
//! - [`payload`]: what a delivery's body says.
//! - [`deliveries`]: the attempt log and the retry schedule.
//! - [`dispatch`]: the dispatcher (durable cursors, leases, concurrent
//!   fan-out), test, manual retry and replay; [`transport`]: sending one
//!   signed request, and `spin_transport` for Spin.

pub mod deliveries;
pub mod dispatch;
pub mod endpoints;
pub mod payload;
pub mod signing;
#[cfg(feature = "spin")]
pub mod spin_transport;
pub mod transport;
pub mod urls;
