//! The vocabulary every other area speaks: identifiers, time and time zones,
//! cryptography, input parsing, paging cursors, and errors.
//!
//! - [`ids`]: typed identifiers (accounts, conversations, customers, …).
//! - [`time`]: RFC 3339 timestamps and the clock every operation takes;
//!   [`tz`]: IANA time zones, small enough for a component.
//! - [`crypto`]: SHA-256, HMAC, sealing, random tokens (RustCrypto inside).
//! - [`input`]: request bodies and query values, validated field by field;
//!   [`strict_json`]: the body parser that refuses duplicate keys and NUL.
//! - [`paging`]: opaque cursors and `{items, next_cursor}` pages.
//! - [`error`]: the domain's error enum; [`problem`]: the RFC 9457
//!   `application/problem+json` documents it maps onto.

pub mod crypto;
pub mod error;
pub mod ids;
pub mod input;
pub mod paging;
pub mod problem;
pub mod strict_json;
pub mod time;
pub mod tz;
