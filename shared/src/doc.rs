//! Versioned JSON documents in the key-value store, and read-modify-write
//! under compare-and-swap.
//!
//! Every stored value is JSON with a schema version `v`. A document that
//! several requests may change at once (a list, an index) is only ever
//! replaced by [`update`], which retries on conflict: two concurrent writers
//! never interleave, one of them simply goes second.

use crate::error::{Error, Result};
use crate::store::KeyValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How often [`update`] retries before giving up with 409.
const MAX_ATTEMPTS: usize = 64;

/// Reads and parses the document at `key`.
pub fn read<T: DeserializeOwned>(kv: &dyn KeyValue, key: &str) -> Result<Option<T>> {
    match kv.get(key)? {
        None => Ok(None),
        Some(bytes) => parse(key, &bytes).map(Some),
    }
}

/// Writes `value` at `key` (for documents with a single writer).
pub fn write<T: Serialize>(kv: &dyn KeyValue, key: &str, value: &T) -> Result<()> {
    kv.set(key, &encode(value)?)?;
    Ok(())
}

/// Writes `value` at `key` only if the key is absent; `Ok(false)` if it exists.
pub fn create<T: Serialize>(kv: &dyn KeyValue, key: &str, value: &T) -> Result<bool> {
    Ok(kv.compare_and_swap(key, None, &encode(value)?)?)
}

/// What an [`update`] step decided.
pub enum Step<T, R> {
    /// Replace the document with this value, then return `R`.
    Write(T, R),
    /// Leave the document as it is and return `R`.
    Keep(R),
}

/// Read-modify-write of the document at `key` under compare-and-swap.
///
/// `change` sees the current document (or `None`) and decides; when another
/// writer got in between, it runs again on the newer document. An `Err` from
/// `change` aborts without writing.
pub fn update<T, R>(
    kv: &dyn KeyValue,
    key: &str,
    mut change: impl FnMut(Option<T>) -> Result<Step<T, R>>,
) -> Result<R>
where
    T: Serialize + DeserializeOwned,
{
    for _ in 0..MAX_ATTEMPTS {
        let current_bytes = kv.get(key)?;
        let current = match &current_bytes {
            None => None,
            Some(bytes) => Some(parse(key, bytes)?),
        };
        match change(current)? {
            Step::Keep(result) => return Ok(result),
            Step::Write(new, result) => {
                let new_bytes = encode(&new)?;
                if kv.compare_and_swap(key, current_bytes.as_deref(), &new_bytes)? {
                    return Ok(result);
                }
            }
        }
    }
    Err(Error::Conflict(
        "too many concurrent changes to the same resource; retry the request".into(),
    ))
}

fn parse<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    from_json(bytes).map_err(|e| corrupt(key, e))
}

// The error paths are not generic: one copy for every document type.
#[inline(never)]
fn corrupt(key: &str, e: serde_json::Error) -> Error {
    Error::Corrupt(format!("{key}: {e}"))
}

#[inline(never)]
fn unencodable(e: serde_json::Error) -> Error {
    Error::Corrupt(format!("encoding: {e}"))
}

/// Parses JSON into `T` in two steps: the bytes into a [`serde_json::Value`]
/// (one parser for every type), then the `Value` into `T`.
///
/// Why not `serde_json::from_slice::<T>`: that instantiates the whole byte
/// parser once per stored type, and request bodies already go through
/// `Value` (see [`crate::input`]), so every type had two deserializers. One
/// path keeps each component tens of KB smaller; the documents are small.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    T::deserialize(parse_value(bytes)?)
}

#[inline(never)]
fn parse_value(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    serde_json::from_slice(bytes)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(unencodable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn update_creates_then_changes_a_document() {
        let kv = MemoryStore::new();
        let n = update(&kv, "k", |cur: Option<u32>| {
            Ok(Step::Write(cur.unwrap_or(0) + 1, ()))
        });
        assert!(n.is_ok());
        update(&kv, "k", |cur: Option<u32>| {
            Ok(Step::Write(cur.unwrap_or(0) + 1, ()))
        })
        .unwrap();
        assert_eq!(read::<u32>(&kv, "k").unwrap(), Some(2));
    }

    #[test]
    fn update_retries_when_another_writer_got_in_between() {
        let kv = MemoryStore::new();
        write(&kv, "k", &1u32).unwrap();
        let mut calls = 0;
        update(&kv, "k", |cur: Option<u32>| {
            calls += 1;
            if calls == 1 {
                // Another request changes the document after we read it.
                kv.set("k", b"10").unwrap();
            }
            Ok(Step::Write(cur.unwrap_or(0) + 1, ()))
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(read::<u32>(&kv, "k").unwrap(), Some(11));
    }

    #[test]
    fn an_aborted_update_writes_nothing() {
        let kv = MemoryStore::new();
        let result: Result<()> =
            update(&kv, "k", |_: Option<u32>| Err(Error::NotFound("x".into())));
        assert!(result.is_err());
        assert!(kv.is_empty());
    }
}
