//! The integration API: what the business's own systems drive.
//!
//! - [`accounts`]: accounts and their public site keys (admin);
//!   [`tokens`]: API tokens; [`auth`]: who a request is.
//! - [`agents`]: the synced agent list and presence.
//! - [`customers`]: tagged customers and their lookups.
//! - [`audit`]: the audit trail of every change and security event.
//! - [`idempotency`]: `Idempotency-Key` on POSTs.

pub mod accounts;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod idempotency;
pub mod tokens;
