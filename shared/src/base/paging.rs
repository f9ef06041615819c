//! Paged lists: `{"items": [...], "next_cursor": "<opaque>"}`.
//!
//! A cursor is opaque to clients (base64url) but just names a position: the
//! list it belongs to and where to continue. Asking again with `next_cursor`
//! gives what came after; at the end `items` is empty and `next_cursor` still
//! lets the client poll for what comes later.

use crate::base::crypto::{base64url, from_base64url};
use crate::base::error::{Error, Result};
use serde::Serialize;

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items, oldest (or first) first.
    pub items: Vec<T>,
    /// Where to continue.
    pub next_cursor: String,
}

/// Encodes position `position` of list `kind` as an opaque cursor.
pub fn encode_cursor(kind: &str, position: &str) -> String {
    base64url(format!("{kind}:{position}").as_bytes())
}

/// Decodes a cursor of list `kind`; 400 naming `cursor` otherwise.
pub fn decode_cursor(kind: &str, cursor: &str) -> Result<String> {
    from_base64url(cursor)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::to_string)
        })
        .ok_or_else(|| {
            Error::field(
                "cursor",
                "is not a cursor of this list; pass back a next_cursor unchanged",
            )
        })
}

/// Decodes a numeric cursor of list `kind` (absent or empty: the start).
pub fn decode_seq_cursor(kind: &str, cursor: Option<&str>) -> Result<u64> {
    match cursor {
        None | Some("") => Ok(0),
        Some(cursor) => decode_cursor(kind, cursor)?
            .parse()
            .map_err(|_| Error::field("cursor", "is not a cursor of this list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_tied_to_their_list() {
        let cursor = encode_cursor("audit", "42");
        assert_eq!(decode_seq_cursor("audit", Some(&cursor)), Ok(42));
        assert!(decode_seq_cursor("events", Some(&cursor)).is_err());
        assert!(decode_seq_cursor("audit", Some("garbage!")).is_err());
        assert_eq!(decode_seq_cursor("audit", None), Ok(0));
    }
}
