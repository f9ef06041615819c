//! Turning request parts (body, headers, query) into values, with errors
//! that name the offending field.
//!
//! Bodies are parsed into a `serde_json::Value` first and then read field by
//! field, so that every invalid field is reported at once, by its JSON path.

use crate::base::error::{Error, Result};
use crate::base::problem::FieldError;
use crate::base::strict_json::{self, StrictError};
use serde_json::{Map, Value};

/// Why a text holding U+0000 is refused.
pub const NUL_REFUSED: &str = "must not contain the character U+0000";

/// The largest request body accepted (64 KiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether a `Content-Type` names JSON (`application/json` or
/// `application/<something>+json`, parameters ignored).
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON request body: 413 over the limit, 400 when missing, 415
/// when it is not declared as JSON, 400 when it does not parse or names a
/// key twice or holds a U+0000 ([`strict_json`]).
pub fn json_body(content_type: Option<&str>, body: &[u8]) -> Result<Value> {
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest(
            "this request needs a JSON body (Content-Type: application/json)".into(),
        ));
    }
    match content_type {
        Some(ct) if is_json_media_type(ct) => {}
        Some(ct) => {
            return Err(Error::UnsupportedMediaType(format!(
                "the body must be application/json, not {ct}"
            )));
        }
        None => {
            return Err(Error::UnsupportedMediaType(
                "the body must be sent with Content-Type: application/json".into(),
            ));
        }
    }
    // Strict: a key given twice or a U+0000 is a 400 naming the field.
    strict_json::parse(body).map_err(|e| match e {
        StrictError::Refused(found) => Error::field(found.field, found.message),
        StrictError::Syntax(e) => Error::BadRequest(format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )),
    })
}

/// Checks the body of a request that takes none (`POST …/close`): nothing,
/// or `{}`. Anything else is refused rather than ignored, so that a client
/// that thinks it is sending options learns that they do nothing; a body
/// that is there is held to [`json_body`]'s rules (413, 415, 400).
pub fn no_body(content_type: Option<&str>, body: &[u8]) -> Result<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match json_body(content_type, body)? {
        Value::Object(map) if map.is_empty() => Ok(()),
        Value::Object(map) => Err(Error::Invalid(
            map.keys()
                .map(|name| FieldError {
                    field: name.clone(),
                    message: "is not a field of this request, which takes no body".into(),
                })
                .collect(),
        )),
        _ => Err(Error::field("body", "must be absent or {}")),
    }
}

/// The 413 error for a body over [`MAX_BODY_BYTES`].
pub fn too_large() -> Error {
    Error::TooLarge(format!(
        "the body is larger than the limit of {MAX_BODY_BYTES} bytes"
    ))
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// The first value of query parameter `name`, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Decodes `%XX` escapes in a path segment (invalid escapes are kept as
/// they are, so that they fail id validation visibly).
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Field errors collected while reading a body.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Whether nothing was wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` if nothing was wrong and a value was read, otherwise a
    /// 400 naming every field.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            None if self.0.is_empty() => Err(Error::BadRequest("the body is invalid".into())),
            _ => Err(Error::Invalid(self.0)),
        }
    }

    /// `Ok(value)` if nothing was wrong, otherwise a 400 naming every field.
    pub fn finish<T>(self, value: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A JSON object being read field by field; `path` prefixes field names in
/// errors (`agents[2]` gives `agents[2].email`).
pub struct Object<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Object<'a> {
    /// Reads `value` as an object, or records why it is not one.
    pub fn new(value: &'a Value, path: &str, errors: &mut Errors) -> Option<Self> {
        match value.as_object() {
            Some(map) => Some(Object {
                map,
                path: path.to_string(),
            }),
            None => {
                let field = if path.is_empty() { "body" } else { path };
                errors.add(field, "must be a JSON object");
                None
            }
        }
    }

    /// The JSON path of field `name`.
    pub fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The raw value of `name`, if present and not null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A required string of `min..=max` characters (trimmed).
    pub fn required_str(&self, name: &str, max: usize, errors: &mut Errors) -> Option<String> {
        match self.optional_str(name, max, errors) {
            Some(Some(s)) => Some(s),
            Some(None) => {
                errors.add(self.path_of(name), "is required");
                None
            }
            None => None,
        }
    }

    /// A required string turned into a typed value by `parse` (an id's
    /// constructor); `missing` is the message when the field is absent.
    pub fn required_parsed<T>(
        &self,
        name: &str,
        missing: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
        errors: &mut Errors,
    ) -> Option<T> {
        match self.get(name) {
            Some(Value::String(s)) => parse(s)
                .map_err(|message| errors.add(self.path_of(name), message))
                .ok(),
            Some(_) => {
                errors.add(self.path_of(name), "must be a string");
                None
            }
            None => {
                errors.add(self.path_of(name), missing);
                None
            }
        }
    }

    /// An optional string of 1..=max characters (trimmed); `Some(None)` when
    /// absent or null, `None` when invalid (the error is recorded).
    pub fn optional_str(
        &self,
        name: &str,
        max: usize,
        errors: &mut Errors,
    ) -> Option<Option<String>> {
        match self.get(name) {
            None => Some(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                let len = s.chars().count();
                if s.contains('\0') {
                    // Breaks C-string consumers downstream (logs, CRMs).
                    errors.add(self.path_of(name), NUL_REFUSED);
                    None
                } else if len == 0 {
                    errors.add(self.path_of(name), "must not be empty");
                    None
                } else if len > max {
                    errors.add(
                        self.path_of(name),
                        format!("must be at most {max} characters"),
                    );
                    None
                } else {
                    Some(Some(s.to_string()))
                }
            }
            Some(_) => {
                errors.add(self.path_of(name), "must be a string");
                None
            }
        }
    }

    /// An optional boolean; `Some(None)` when absent, `None` when invalid.
    pub fn optional_bool(&self, name: &str, errors: &mut Errors) -> Option<Option<bool>> {
        match self.get(name) {
            None => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                errors.add(self.path_of(name), "must be true or false");
                None
            }
        }
    }

    /// A required boolean.
    pub fn required_bool(&self, name: &str, errors: &mut Errors) -> Option<bool> {
        match self.optional_bool(name, errors) {
            Some(Some(b)) => Some(b),
            Some(None) => {
                errors.add(self.path_of(name), "is required (true or false)");
                None
            }
            None => None,
        }
    }
}

/// Whether `email` looks like an address: one `@`, a non-empty local part,
/// a dotted domain, no spaces, at most 254 characters. (Deliverability is
/// the business's concern; this catches typos and wrong fields.)
pub fn is_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

/// `?limit=`: absent gives `default`, otherwise 1..=max.
pub fn limit(param: Option<&str>, default: usize, max: usize) -> Result<usize> {
    match param {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Error::field(
                "limit",
                format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised_with_parameters() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn bodies_are_checked_for_size_type_and_syntax_in_that_order() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(
            json_body(Some("text/plain"), &big),
            Err(Error::TooLarge(_))
        ));
        assert!(matches!(
            json_body(Some("text/plain"), b"{}"),
            Err(Error::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            json_body(None, b"{}"),
            Err(Error::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            json_body(Some("application/json"), b"{"),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            json_body(Some("application/json"), b""),
            Err(Error::BadRequest(_))
        ));
        assert_eq!(
            json_body(Some("application/json"), b"{\"a\":1}").unwrap()["a"],
            1
        );
    }

    #[test]
    fn a_request_without_a_body_takes_nothing_or_an_empty_object() {
        let json = Some("application/json");
        assert_eq!(no_body(None, b""), Ok(()));
        assert_eq!(no_body(json, b" \n"), Ok(()));
        assert_eq!(no_body(json, b"{}"), Ok(()));
        let Err(Error::Invalid(fields)) = no_body(json, br#"{"reason": "spam"}"#) else {
            panic!("a field must be refused");
        };
        assert_eq!(fields[0].field, "reason");
        assert_eq!(
            no_body(json, b"[null, null]"),
            Err(Error::field("body", "must be absent or {}"))
        );
        assert!(matches!(
            no_body(Some("text/plain"), b"{}"),
            Err(Error::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        assert_eq!(
            query_param("a=1&email=john%2Bx%40example.com", "email").as_deref(),
            Some("john+x@example.com")
        );
        assert_eq!(query_param("a=1", "b"), None);
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decode("alice%40example.com"), "alice@example.com");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("plain"), "plain");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(is_email("john.doe@example.com"));
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "john@localhost",
            "jo hn@example.com",
            "a@b@c.com",
            "john@example..com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn field_errors_carry_the_json_path() {
        let value = serde_json::json!({"agents": [{"name": 5}]});
        let mut errors = Errors::new();
        let item = Object::new(&value["agents"][0], "agents[0]", &mut errors).unwrap();
        assert_eq!(item.required_str("name", 10, &mut errors), None);
        assert_eq!(item.required_str("id", 10, &mut errors), None);
        let Err(Error::Invalid(fields)) = errors.finish(()) else {
            panic!("expected a validation error");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["agents[0].name", "agents[0].id"]);
    }

    #[test]
    fn limits_outside_the_range_name_the_limit_field() {
        assert_eq!(limit(None, 50, 200), Ok(50));
        assert_eq!(limit(Some("200"), 50, 200), Ok(200));
        assert!(limit(Some("0"), 50, 200).is_err());
        assert!(limit(Some("x"), 50, 200).is_err());
    }
}
