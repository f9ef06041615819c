//! RFC 9457 problem details: every error edgechat returns has this shape.
//!
//! Client errors carry a `detail` that tells the caller what to fix (and, for
//! validation, the offending `errors[].field`); server errors never carry
//! internals — the cause goes to the log, the client gets a generic detail.

use serde::Serialize;

/// The media type of every error body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field in a validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The JSON path of the field, e.g. `email` or `agents[2].id`.
    pub field: String,
    /// What is wrong with it, in words a developer can act on.
    pub message: String,
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened on this request.
    pub detail: String,
    /// Per-field validation errors, present only for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra response headers (`Allow`, `WWW-Authenticate`); not part of the body.
    #[serde(skip)]
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem with the given status; the title comes from the status.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        let title = title_for(status);
        Problem {
            kind: format!("https://edgechat.dev/problems/{}", slug(title)),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 400 for a request whose fields are invalid; names each field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Problem {
            errors,
            ..Problem::new(400, detail)
        }
    }

    /// 400 for one invalid field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 404 for something that does not exist (or belongs to someone else:
    /// the answer is the same so that nothing leaks).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(404, detail)
    }

    /// 405 with the `Allow` header listing the methods the path accepts.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        Problem::new(405, format!("this path accepts {allow}")).with_header("allow", allow)
    }

    /// 503 when a dependency (the key-value store) is unavailable. The cause
    /// is for the log, not for the client.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(503, detail)
    }

    /// 500 without internals: log the cause before answering with this.
    pub fn internal() -> Self {
        Problem::new(500, "an internal error occurred; it has been logged")
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn title_for(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ if status >= 500 => "Internal Server Error",
        _ => "Bad Request",
    }
}

fn slug(title: &str) -> String {
    title.to_ascii_lowercase().replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problems_name_the_field() {
        let problem = Problem::invalid_field("email", "is not an email address");
        let body: serde_json::Value = serde_json::from_slice(&problem.body()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["errors"][0]["field"], "email");
        assert!(body["detail"].as_str().unwrap().contains("email"));
    }

    #[test]
    fn method_not_allowed_carries_the_allow_header() {
        let problem = Problem::method_not_allowed(&["GET", "PUT"]);
        assert_eq!(problem.status, 405);
        assert_eq!(problem.headers, vec![("allow", "GET, PUT".to_string())]);
    }

    #[test]
    fn internal_errors_say_nothing_about_the_cause() {
        let body = String::from_utf8(Problem::internal().body()).unwrap();
        assert!(!body.contains("errors"));
        assert!(body.contains("\"status\":500"));
    }
}
