//! The widget's appearance: colours, texts and position, set through
//! `PUT /api/v1/widget/config` and read by the widget from
//! `GET /v1/widget/config?site=`.
//!
//! A PUT replaces the whole configuration; a field left out takes its
//! default, so `{}` resets everything. Unknown fields are refused (a typo
//! such as `colours` would otherwise be silently ignored). Texts are plain
//! text: the widget inserts them with `textContent`, never as HTML.

use crate::api::audit;
use crate::api::auth::Caller;
use crate::base::error::Result;
use crate::base::ids::AccountId;
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Colours, as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colors {
    /// Launcher, header and the visitor's bubbles.
    pub primary: String,
    /// Text on the primary colour.
    pub text: String,
}

/// The widget's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Texts {
    /// The panel's heading.
    pub title: String,
    /// The first line the visitor sees.
    pub welcome: String,
    /// The message field's placeholder.
    pub placeholder: String,
    /// Shown when the chat is hidden while the panel is open.
    pub offline: String,
    /// The launcher button's label.
    pub launcher: String,
}

/// Which corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Bottom left.
    Left,
    /// Bottom right.
    Right,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Colours.
    pub colors: Colors,
    /// Texts.
    pub texts: Texts,
    /// Corner.
    pub position: Position,
}

/// `(field, default, longest)` for each text.
pub const TEXTS: [(&str, &str, usize); 5] = [
    ("title", "Chat with us", 60),
    ("welcome", "Hi! How can we help?", 500),
    ("placeholder", "Type your message…", 100),
    (
        "offline",
        "We are away right now. Leave a message and we will get back to you.",
        500,
    ),
    ("launcher", "Chat", 30),
];

impl Default for Config {
    fn default() -> Self {
        let text = |name: &str| {
            TEXTS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or("", |(_, d, _)| d)
                .to_string()
        };
        Config {
            colors: Colors {
                primary: "#1f6feb".into(),
                text: "#ffffff".into(),
            },
            texts: Texts {
                title: text("title"),
                welcome: text("welcome"),
                placeholder: text("placeholder"),
                offline: text("offline"),
                launcher: text("launcher"),
            },
            position: Position::Right,
        }
    }
}

/// The configuration as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigView {
    /// The configuration.
    #[serde(flatten)]
    pub config: Config,
    /// When it was last set (`null`: the defaults).
    pub updated_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    v: u32,
    #[serde(flatten)]
    view: ConfigView,
}

fn is_hex_color(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit)
}

fn unknown_fields(value: &Value, path: &str, known: &[&str], errors: &mut Errors) {
    if let Some(map) = value.as_object() {
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            errors.add(
                field,
                format!(
                    "is not a known field (expected one of: {})",
                    known.join(", ")
                ),
            );
        }
    }
}

/// Reads `PUT /api/v1/widget/config`; every invalid field is named.
pub fn parse_config(body: &Value) -> Result<Config> {
    let mut errors = Errors::new();
    let mut config = Config::default();
    if let Some(object) = Object::new(body, "", &mut errors) {
        unknown_fields(body, "", &["colors", "texts", "position"], &mut errors);
        if let Some(colors) = object.get("colors") {
            if let Some(c) = Object::new(colors, "colors", &mut errors) {
                unknown_fields(colors, "colors", &["primary", "text"], &mut errors);
                for (name, slot) in [
                    ("primary", &mut config.colors.primary),
                    ("text", &mut config.colors.text),
                ] {
                    match c.get(name) {
                        None => {}
                        Some(Value::String(s)) if is_hex_color(s) => *slot = s.to_ascii_lowercase(),
                        Some(_) => {
                            errors.add(c.path_of(name), "must be a colour #rrggbb, e.g. #1f6feb")
                        }
                    }
                }
            }
        }
        if let Some(texts) = object.get("texts") {
            if let Some(t) = Object::new(texts, "texts", &mut errors) {
                let names: Vec<&str> = TEXTS.iter().map(|(n, _, _)| *n).collect();
                unknown_fields(texts, "texts", &names, &mut errors);
                for (name, _, max) in TEXTS {
                    if let Some(Some(value)) = t.optional_str(name, max, &mut errors) {
                        let slot = match name {
                            "title" => &mut config.texts.title,
                            "welcome" => &mut config.texts.welcome,
                            "placeholder" => &mut config.texts.placeholder,
                            "offline" => &mut config.texts.offline,
                            _ => &mut config.texts.launcher,
                        };
                        *slot = value;
                    }
                }
            }
        }
        match object.get("position") {
            None => {}
            Some(Value::String(s)) if s == "left" => config.position = Position::Left,
            Some(Value::String(s)) if s == "right" => config.position = Position::Right,
            Some(_) => errors.add("position", "must be \"left\" or \"right\""),
        }
    }
    errors.finish(config)
}

/// The account's configuration (defaults if never set).
pub fn get_config(kv: &dyn KeyValue, account: &AccountId) -> Result<ConfigView> {
    Ok(doc::read::<Stored>(kv, &keys::widget_config(account))?
        .map(|s| s.view)
        .unwrap_or(ConfigView {
            config: Config::default(),
            updated_at: None,
        }))
}

/// Replaces the configuration.
pub fn put_config(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    caller: &Caller,
    config: Config,
) -> Result<ConfigView> {
    let view = ConfigView {
        config,
        updated_at: Some(clock.now()),
    };
    let stored = Stored {
        v: 1,
        view: view.clone(),
    };
    doc::write(kv, &keys::widget_config(&caller.account), &stored)?;
    audit::record(
        kv,
        clock,
        &caller.account,
        &caller.actor,
        audit::Action::WidgetConfigUpdated,
        "widget",
    )?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;
    use serde_json::json;

    #[test]
    fn an_empty_body_gives_the_defaults_and_fields_override_them() {
        assert_eq!(parse_config(&json!({})).unwrap(), Config::default());
        let config = parse_config(&json!({"colors": {"primary": "#AA0000"}, "texts": {"title": "Hello"}, "position": "left"}))
            .unwrap();
        assert_eq!(config.colors.primary, "#aa0000");
        assert_eq!(config.colors.text, "#ffffff");
        assert_eq!(config.texts.title, "Hello");
        assert_eq!(config.position, Position::Left);
    }

    #[test]
    fn invalid_configs_name_the_field() {
        let cases = [
            (json!({"colors": {"primary": "red"}}), "colors.primary"),
            (json!({"colors": {"text": "#12345"}}), "colors.text"),
            (json!({"colors": {"primary": "#gggggg"}}), "colors.primary"),
            (json!({"colors": "blue"}), "colors"),
            (json!({"texts": {"title": "x".repeat(61)}}), "texts.title"),
            (json!({"texts": {"welcome": ""}}), "texts.welcome"),
            (json!({"texts": {"launcher": 5}}), "texts.launcher"),
            (json!({"texts": {"subtitle": "x"}}), "texts.subtitle"),
            (json!({"position": "top"}), "position"),
            (json!({"colours": {}}), "colours"),
            (json!([]), "body"),
        ];
        for (body, field) in cases {
            let Err(Error::Invalid(errors)) = parse_config(&body) else {
                panic!("expected a validation error for {body}");
            };
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field} in {errors:?}"
            );
        }
    }
}
