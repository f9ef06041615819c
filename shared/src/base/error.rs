//! The one error type of the domain, and how each kind becomes a problem.

use crate::base::problem::{FieldError, Problem};
use crate::storage::store::StoreError;
use std::fmt;

/// Why a domain operation did not happen. A failed operation changes nothing
/// the caller can observe (validation runs before the first write).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Fields of the request are invalid (400, each field named).
    Invalid(Vec<FieldError>),
    /// The request cannot be understood at all, e.g. it is not JSON (400).
    BadRequest(String),
    /// No credentials, or credentials that do not grant access (401).
    Unauthorized(String),
    /// The caller is known but the request is refused, e.g. a cross-site
    /// request to a cookie-authenticated page (403).
    Forbidden(String),
    /// The thing does not exist for this caller (404). Another account's
    /// things are reported exactly like missing ones.
    NotFound(String),
    /// The request conflicts with the current state or a limit (409).
    Conflict(String),
    /// The body is larger than the limit (413).
    TooLarge(String),
    /// The body is not JSON (415).
    UnsupportedMediaType(String),
    /// An Idempotency-Key was reused with a different request (422).
    Unprocessable(String),
    /// The server is at a capacity limit right now (503 with
    /// `Retry-After`): nothing was done, and the same request later succeeds.
    Busy {
        /// What is full, for the client.
        detail: String,
        /// When to come back.
        retry_after_seconds: u32,
    },
    /// The key-value store failed; the cause is logged, not shown (503).
    Store(StoreError),
    /// A stored value could not be read back: a bug or corruption (500).
    Corrupt(String),
}

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 400 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The problem to answer with. Server-side causes are logged here and
    /// replaced by a generic detail.
    pub fn to_problem(&self) -> Problem {
        match self {
            Error::Invalid(errors) => Problem::validation(errors.clone()),
            Error::BadRequest(detail) => Problem::new(400, detail),
            Error::Unauthorized(detail) => Problem::new(401, detail)
                .with_header("www-authenticate", "Bearer realm=\"edgechat\""),
            Error::Forbidden(detail) => Problem::new(403, detail),
            Error::NotFound(detail) => Problem::not_found(detail),
            Error::Conflict(detail) => Problem::new(409, detail),
            Error::TooLarge(detail) => Problem::new(413, detail),
            Error::UnsupportedMediaType(detail) => Problem::new(415, detail),
            Error::Unprocessable(detail) => Problem::new(422, detail),
            Error::Busy {
                detail,
                retry_after_seconds,
            } => Problem::unavailable(detail.clone())
                .with_header("retry-after", retry_after_seconds.to_string()),
            Error::Store(cause) => {
                eprintln!("error: {cause}");
                Problem::unavailable("storage is temporarily unavailable; retry the request")
            }
            Error::Corrupt(cause) => {
                eprintln!("error: corrupt stored value: {cause}");
                Problem::internal()
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(errors) => {
                let fields: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                write!(f, "invalid: {}", fields.join("; "))
            }
            Error::Store(cause) => write!(f, "{cause}"),
            Error::Busy { detail, .. } => f.write_str(detail),
            Error::BadRequest(d)
            | Error::Unauthorized(d)
            | Error::Forbidden(d)
            | Error::NotFound(d)
            | Error::Conflict(d)
            | Error::TooLarge(d)
            | Error::UnsupportedMediaType(d)
            | Error::Unprocessable(d)
            | Error::Corrupt(d) => f.write_str(d),
        }
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        e.to_problem()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_answers_carry_a_bearer_challenge() {
        let problem = Error::Unauthorized("no token".into()).to_problem();
        assert_eq!(problem.status, 401);
        assert!(
            problem
                .headers
                .iter()
                .any(|(name, value)| *name == "www-authenticate" && value.starts_with("Bearer"))
        );
    }

    #[test]
    fn storage_failures_do_not_reach_the_client() {
        let problem = Error::Store(StoreError("sqlite: disk I/O at /var/db".into())).to_problem();
        assert_eq!(problem.status, 503);
        assert!(!problem.detail.contains("sqlite"));
    }
}
