//! Identifier newtypes. Each is parsed once at the edge of the system and is
//! then known to be well-formed, so it is safe to put into a key.
//!
//! Ids edgechat mints ([`AccountId`], [`TokenId`], [`SiteKey`],
//! [`ConversationId`], [`MessageId`], [`WebhookId`], [`LinkId`]) are a prefix
//! plus random hex. Ids that come from the business's own systems
//! ([`AgentId`], [`CustomerId`]) are 1–64 characters of `A–Z a–z 0–9 - _ . @`:
//! enough for user names, emails and UUIDs, and nothing that needs escaping
//! in a URL path or a key.

use crate::base::crypto::{hex, random_bytes};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Longest external id (agent or customer id).
pub const MAX_EXTERNAL_ID_LEN: usize = 64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses an id, explaining what is wrong with it if it is not one.
            pub fn parse(text: &str) -> Result<Self, String> {
                ($parse)(text).map(|()| $name(text.to_string()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

macro_rules! minted_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $bytes:literal) => {
        id_type!($(#[$doc])* $name, |text| parse_minted(text, $prefix, $bytes));

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn generate() -> Self {
                $name(format!("{}{}", $prefix, hex(&random_bytes::<$bytes>())))
            }
        }
    };
}

fn parse_minted(text: &str, prefix: &str, bytes: usize) -> Result<(), String> {
    match text.strip_prefix(prefix) {
        Some(rest)
            if rest.len() == bytes * 2
                && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "is not an id issued by edgechat (they start with {prefix:?})"
        )),
    }
}

fn parse_external(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > MAX_EXTERNAL_ID_LEN {
        return Err(format!(
            "must be 1 to {MAX_EXTERNAL_ID_LEN} characters long"
        ));
    }
    if text == "." || text == ".." {
        return Err("must not be '.' or '..'".into());
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(format!(
            "may only contain letters, digits, '-', '_', '.' and '@' (found {bad:?})"
        ));
    }
    Ok(())
}

minted_id!(
    /// An account: the business that owns everything else.
    AccountId, "acc_", 10
);
minted_id!(
    /// An API token's public id (the secret itself is never stored).
    TokenId, "tok_", 10
);
minted_id!(
    /// The public key the widget uses to name its account.
    SiteKey, "site_", 12
);
minted_id!(
    /// A conversation between a visitor and the business.
    ConversationId, "conv_", 10
);
minted_id!(
    /// One message of a conversation.
    MessageId, "msg_", 10
);
minted_id!(
    /// A webhook endpoint.
    WebhookId, "wh_", 10
);
minted_id!(
    /// One signed agent link (its single use is counted under it).
    LinkId, "lnk_", 10
);
id_type!(
    /// An agent's id in the business's own directory.
    AgentId, parse_external
);
id_type!(
    /// A customer (visitor) id: the id the widget knows the visitor by, or
    /// one the business chose when tagging before any chat.
    CustomerId, parse_external
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let account = AccountId::generate();
        assert!(account.as_str().starts_with("acc_"));
        assert_eq!(AccountId::parse(account.as_str()), Ok(account));
        let token = TokenId::generate();
        assert_eq!(TokenId::parse(token.as_str()), Ok(token.clone()));
        assert!(AccountId::parse(token.as_str()).is_err());
        assert!(SiteKey::generate().as_str().starts_with("site_"));
    }

    #[test]
    fn external_ids_accept_usernames_emails_and_uuids() {
        for id in [
            "alice",
            "alice@example.com",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "a.b_c",
        ] {
            assert!(AgentId::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn external_ids_reject_empty_long_and_unsafe_text() {
        let long = "x".repeat(65);
        for id in ["", long.as_str(), "a b", "a/b", "a:b", "..", "ä"] {
            assert!(CustomerId::parse(id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn minted_ids_reject_anything_else() {
        for id in [
            "",
            "acc_",
            "acc_XYZ",
            "tok_0123",
            "acc_0123456789abcdef012z",
        ] {
            assert!(AccountId::parse(id).is_err(), "{id:?}");
        }
    }
}
