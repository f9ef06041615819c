//! Request bodies parsed strictly: a JSON object that names a key twice is
//! refused with a 400 naming the field.
//!
//! `serde_json` keeps the last of duplicate keys, so `{"agent_id": "a",
//! "agent_id": "b"}` would mean whatever the last one says while a proxy or
//! log in front of us may read the first: one body, two meanings. It is
//! refused before any handler reads the body, for every route at once.
//! (U+0000 in text is refused field by field, where a field is read:
//! [`crate::base::input::Object::optional_str`].)
//!
//! The parser is `serde_json`'s own, driven through a visitor that builds the
//! same `Value` and checks as it goes; the first finding is reported by its
//! JSON path (`agents[2].name`).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a body was refused: the field's JSON path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `body`, `name`, `agents[2].name`, …
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A strict parse failed: either the text is not JSON, or a [`Finding`].
#[derive(Debug)]
pub enum StrictError {
    /// Not JSON at all.
    Syntax(serde_json::Error),
    /// JSON, but a key given twice.
    Refused(Finding),
}

/// Parses `bytes` as JSON, refusing a key given twice in one object.
pub fn parse(bytes: &[u8]) -> Result<Value, StrictError> {
    let finding = RefCell::new(None);
    let seed = Node {
        path: String::new(),
        finding: &finding,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = seed
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, finding.into_inner()) {
        (_, Some(found)) => Err(StrictError::Refused(found)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(StrictError::Syntax(e)),
    }
}

/// One value being parsed at `path`.
struct Node<'f> {
    path: String,
    finding: &'f RefCell<Option<Finding>>,
}

impl Node<'_> {
    fn child(&self, path: String) -> Node<'_> {
        Node {
            path,
            finding: self.finding,
        }
    }

    /// Records the finding and stops the parse (the error text is unused).
    fn refuse<E: de::Error>(&self, field: String, message: &str) -> E {
        self.finding.borrow_mut().get_or_insert(Finding {
            field,
            message: message.to_string(),
        });
        E::custom("refused")
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text never holds a non-finite number.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if object.contains_key(&key) {
                return Err(self.refuse(path, "is given twice: send each key once"));
            }
            let value = map.next_value_seed(self.child(path))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(text: &str) -> Finding {
        match parse(text.as_bytes()) {
            Err(StrictError::Refused(finding)) => finding,
            other => panic!("{text} was not refused: {other:?}"),
        }
    }

    #[test]
    fn it_builds_the_same_value_as_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": "é\n", "d": 18446744073709551615}"#;
        let strict = parse(text.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
        assert_eq!(parse(b"\"top\"").unwrap(), json!("top"));
    }

    #[test]
    fn duplicate_keys_are_refused_by_their_path() {
        assert_eq!(refused(r#"{"name": "a", "name": "b"}"#).field, "name");
        assert_eq!(
            refused(r#"{"agents": [{"id": "x"}, {"id": "y", "id": "z"}]}"#).field,
            "agents[1].id"
        );
        assert_eq!(refused(r#"{"a": {"b": 1, "b": 1}}"#).field, "a.b");
        // The same key in two objects is fine.
        assert!(parse(br#"{"a": {"id": 1}, "b": {"id": 1}}"#).is_ok());
    }

    #[test]
    fn text_with_nul_parses_here_and_is_refused_where_it_is_read() {
        assert_eq!(
            parse(br#"{"text": "a\u0000b"}"#).unwrap(),
            json!({"text": "a\u{0}b"})
        );
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for text in ["{", "{\"a\": 1} trailing", "[1,]", ""] {
            assert!(
                matches!(parse(text.as_bytes()), Err(StrictError::Syntax(_))),
                "{text}"
            );
        }
    }
}
