//! Chat: the visitor ↔ business flow.
//!
//! - [`conversations`]: starting, answering, assigning, closing, and the
//!   change feed; [`messages`]: a conversation's messages.
//! - [`events`]: the account's event log (every change exactly once).
//! - [`routing`]: how new conversations reach an agent (manual, round robin).
//! - [`visitors`]: signed visitor tokens.
//! - [`longpoll`]: waiting for what comes after a cursor; [`waiting`]: how
//!   many polls may wait at once.

pub mod conversations;
pub mod events;
pub mod longpoll;
pub mod messages;
pub mod routing;
pub mod visitors;
pub mod waiting;
