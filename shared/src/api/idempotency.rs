//! `Idempotency-Key` on POST: the same key with the same request gives the
//! same response and creates once; with a different request, 422.
//!
//! A key is first *reserved* (a shared document, [`crate::storage::doc::update`]), so two
//! concurrent requests with one key cannot both create; the loser gets 409
//! until the winner finishes. A successful response is then stored, sealed
//! ([`crate::base::crypto::seal`]) because it may contain a freshly minted token;
//! a failed one releases the reservation so the client can retry. Records
//! live for 24 hours; the key itself is stored only as a hash.

use crate::base::crypto::{base64url, from_base64url, hmac_sha256, open, seal, sha256_hex};
use crate::base::error::{Error, Result};
use crate::base::ids::AccountId;
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc::{self, Step};
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// How long a completed key is remembered.
pub const RETENTION_MILLIS: i64 = 24 * 3_600 * 1_000;
/// How long a reservation may stay unfinished before another request may
/// take it over (its request must have died).
pub const RESERVATION_MILLIS: i64 = 60 * 1_000;

/// Whose keys these are: keys of different accounts never collide.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The operator's admin requests.
    Admin,
    /// One account's API requests.
    Account(&'a AccountId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Pending,
    Done,
    Released,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    v: u32,
    state: State,
    fingerprint: String,
    created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

/// A stored response to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Its status.
    pub status: u16,
    /// Its JSON body.
    pub body: Vec<u8>,
}

/// A key reserved for this request; pass it to [`finish`].
#[derive(Debug)]
pub struct Reservation {
    store_key: String,
    seal_key: [u8; 32],
    fingerprint: String,
    created_at: Timestamp,
}

/// What to do with a request that carries an Idempotency-Key.
#[derive(Debug)]
pub enum Begin {
    /// First time: run the request, then [`finish`].
    Run(Reservation),
    /// Seen before with the same request: answer with this.
    Replay(Replay),
}

/// Checks the header value: 1–255 visible ASCII characters.
pub fn parse_key(value: &str) -> Result<&str> {
    if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(Error::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(value)
}

/// Reserves `key` for a request (`fingerprint`: what makes two requests the
/// same, e.g. method, path and body), or finds its earlier response.
/// `secret` is the `signing_key` variable, used to seal stored responses.
pub fn begin(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    scope: Scope<'_>,
    key: &str,
    fingerprint: &[u8],
    secret: &[u8],
) -> Result<Begin> {
    let key = parse_key(key)?;
    let (label, store_key) = match scope {
        Scope::Admin => ("admin".to_string(), None),
        Scope::Account(account) => (account.to_string(), Some(account)),
    };
    let key_hash = sha256_hex(format!("{label}\n{key}").as_bytes());
    let store_key = match store_key {
        None => keys::admin_idempotency(&key_hash),
        Some(account) => keys::idempotency(account, &key_hash),
    };
    let seal_key = hmac_sha256(
        secret,
        &[b"idempotency\n", label.as_bytes(), b"\n", key.as_bytes()],
    );
    let fingerprint = sha256_hex(fingerprint);
    let now = clock.now();
    doc::update(kv, &store_key, |current: Option<Record>| {
        if let Some(record) = current.filter(|r| !r.is_expired(now)) {
            if record.fingerprint != fingerprint {
                return Err(Error::Unprocessable(
                    "this Idempotency-Key was already used with a different request".into(),
                ));
            }
            if record.state == State::Pending {
                return Err(in_progress());
            }
            let body = record
                .sealed
                .as_deref()
                .and_then(from_base64url)
                .and_then(|sealed| open(&seal_key, &sealed))
                .ok_or_else(|| Error::Corrupt(format!("{store_key}: cannot be opened")))?;
            return Ok(Step::Keep(Begin::Replay(Replay {
                status: record.status.unwrap_or(200),
                body,
            })));
        }
        let reservation = Record {
            v: 1,
            state: State::Pending,
            fingerprint: fingerprint.clone(),
            created_at: now,
            status: None,
            sealed: None,
        };
        Ok(Step::Write(
            reservation,
            Begin::Run(Reservation {
                store_key: store_key.clone(),
                seal_key,
                fingerprint: fingerprint.clone(),
                created_at: now,
            }),
        ))
    })
}

fn in_progress() -> Error {
    Error::Conflict(
        "a request with this Idempotency-Key is still in progress; retry shortly".into(),
    )
}

impl Record {
    /// Whether the record no longer holds its key: released, or too old.
    fn is_expired(&self, now: Timestamp) -> bool {
        let age = now.millis() - self.created_at.millis();
        match self.state {
            State::Released => true,
            State::Done => age > RETENTION_MILLIS,
            State::Pending => age > RESERVATION_MILLIS,
        }
    }
}

/// Stores a successful (2xx) response for replay, or releases the key after
/// a failure so that the request can be retried.
pub fn finish(kv: &dyn KeyValue, reservation: Reservation, status: u16, body: &[u8]) -> Result<()> {
    let record = if (200..300).contains(&status) {
        Record {
            v: 1,
            state: State::Done,
            fingerprint: reservation.fingerprint.clone(),
            created_at: reservation.created_at,
            status: Some(status),
            sealed: Some(base64url(&seal(&reservation.seal_key, body))),
        }
    } else {
        // A shared document is never deleted (see `doc`): a released
        // record reads as no record.
        Record {
            v: 1,
            state: State::Released,
            fingerprint: reservation.fingerprint.clone(),
            created_at: reservation.created_at,
            status: None,
            sealed: None,
        }
    };
    doc::update(kv, &reservation.store_key, |current: Option<Record>| {
        // Only the reservation's own record is replaced: if it went stale
        // and another request took the key over, that request owns it now.
        let ours = current.as_ref().is_some_and(|r| {
            r.state == State::Pending
                && r.created_at == reservation.created_at
                && r.fingerprint == reservation.fingerprint
        });
        Ok(if ours {
            Step::Write(record.clone(), ())
        } else {
            Step::Keep(())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::ManualClock;
    use crate::storage::store::MemoryStore;
    use crate::testing::World;

    const SECRET: &[u8] = b"signing key";

    fn setup() -> (MemoryStore, ManualClock, AccountId) {
        World::new().parts()
    }

    fn run(
        kv: &MemoryStore,
        clock: &ManualClock,
        scope: Scope<'_>,
        key: &str,
        body: &[u8],
    ) -> Result<Begin> {
        begin(kv, clock, scope, key, body, SECRET)
    }

    #[test]
    fn the_same_key_and_request_replay_the_first_response() {
        let (kv, clock, account) = setup();
        let scope = Scope::Account(&account);
        let Begin::Run(reservation) = run(&kv, &clock, scope, "k1", b"{}").unwrap() else {
            panic!("the first request must run");
        };
        finish(&kv, reservation, 201, br#"{"token":"ec_secret"}"#).unwrap();
        let Begin::Replay(replay) = run(&kv, &clock, scope, "k1", b"{}").unwrap() else {
            panic!("the second request must replay");
        };
        assert_eq!(replay.status, 201);
        assert_eq!(replay.body, br#"{"token":"ec_secret"}"#);
    }

    #[test]
    fn the_stored_response_is_sealed() {
        let (kv, clock, account) = setup();
        let Begin::Run(reservation) =
            run(&kv, &clock, Scope::Account(&account), "k1", b"{}").unwrap()
        else {
            panic!("must run");
        };
        finish(&kv, reservation, 201, br#"{"token":"ec_secret"}"#).unwrap();
        for key in kv.keys() {
            let value = String::from_utf8_lossy(&kv.get(&key).unwrap().unwrap()).to_string();
            assert!(
                !value.contains("ec_secret") && !key.contains("k1"),
                "{key}: {value}"
            );
        }
    }

    #[test]
    fn the_same_key_with_another_request_is_unprocessable() {
        let (kv, clock, account) = setup();
        let scope = Scope::Account(&account);
        let Begin::Run(reservation) = run(&kv, &clock, scope, "k1", b"{\"a\":1}").unwrap() else {
            panic!("must run");
        };
        finish(&kv, reservation, 201, b"{}").unwrap();
        assert!(matches!(
            run(&kv, &clock, scope, "k1", b"{\"a\":2}"),
            Err(Error::Unprocessable(_))
        ));
    }

    #[test]
    fn a_key_in_flight_is_a_conflict_until_it_finishes_or_goes_stale() {
        let (kv, clock, account) = setup();
        let scope = Scope::Account(&account);
        assert!(matches!(
            run(&kv, &clock, scope, "k1", b"{}"),
            Ok(Begin::Run(_))
        ));
        assert!(matches!(
            run(&kv, &clock, scope, "k1", b"{}"),
            Err(Error::Conflict(_))
        ));
        clock.advance(RESERVATION_MILLIS + 1);
        assert!(matches!(
            run(&kv, &clock, scope, "k1", b"{}"),
            Ok(Begin::Run(_))
        ));
    }

    #[test]
    fn a_failed_request_releases_its_key() {
        let (kv, clock, account) = setup();
        let scope = Scope::Account(&account);
        let Begin::Run(reservation) = run(&kv, &clock, scope, "k1", b"{}").unwrap() else {
            panic!("must run");
        };
        finish(&kv, reservation, 400, b"{}").unwrap();
        assert!(matches!(
            run(&kv, &clock, scope, "k1", b"{}"),
            Ok(Begin::Run(_))
        ));
    }

    #[test]
    fn keys_of_different_accounts_are_separate() {
        let (kv, clock, account) = setup();
        let other = AccountId::generate();
        let Begin::Run(reservation) =
            run(&kv, &clock, Scope::Account(&account), "k1", b"{}").unwrap()
        else {
            panic!("must run");
        };
        finish(&kv, reservation, 201, b"{}").unwrap();
        assert!(matches!(
            run(&kv, &clock, Scope::Account(&other), "k1", b"{}"),
            Ok(Begin::Run(_))
        ));
        assert!(matches!(
            run(&kv, &clock, Scope::Admin, "k1", b"{}"),
            Ok(Begin::Run(_))
        ));
    }

    #[test]
    fn keys_must_be_short_visible_ascii() {
        assert!(parse_key("order-42").is_ok());
        assert!(parse_key("").is_err());
        assert!(parse_key(&"x".repeat(256)).is_err());
        assert!(parse_key("tab\there").is_err());
    }
}
