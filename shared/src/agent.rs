//! The agent's side: signed one-time links that log an agent into one
//! conversation, and the cookie sessions of the agent page they open.
//!
//! - [`links`]: minting (`POST /api/v1/agent-links`), the token format, key
//!   rotation, and opening a link (`GET /agent/join`): verify, consume once,
//!   start or extend a session.
//! - [`sessions`]: the agent page's session (cookie, store, expiry, which
//!   conversations it may open) and its CSRF defence.

pub mod links;
pub mod sessions;
