//! Signed agent links: a public URL that logs one agent into one
//! conversation, once.
//!
//! **Minting** (`POST /api/v1/agent-links`, API token): the agent must be in
//! the synced list and the conversation in the caller's account (or, given a
//! `customer_id`, that customer's most recent open conversation); unless
//! `assign: false` the conversation is routed to the agent. The answer is
//! `{url, expires_at, link_id, conversation_id, agent_id}`, the URL absolute
//! (`<origin>/agent/join?token=…`) on the request's own origin or the
//! operator's `public_base_url`.
//!
//! **The token** is `v1.<kid>.<payload>.<mac>`:
//! - `payload`: base64url (unpadded) JSON `{account, agent, conversation,
//!   link_id, expires, nonce}`, `expires` in Unix seconds, `nonce` 16 random
//!   bytes;
//! - `mac`: base64url HMAC-SHA256 (RustCrypto `hmac`) under the signing key,
//!   over `"edgechat agent-link v1\n" ‖ kid ‖ "." ‖ payload` (the context
//!   string keeps it from ever verifying as another kind of token), compared
//!   in constant time;
//! - `kid`: the first 8 hex digits of SHA-256(`"edgechat key id\0"` ‖ key),
//!   which names the key without revealing it.
//!
//! **Rotation**: `signing_key` signs; the previous key, in
//! `previous_signing_key`, still verifies links until
//! `previous_signing_key_until` (RFC 3339), and from then on a link signed
//! with it is refused as `key_retired` (410). Set the instant at least the
//! longest link lifetime (24 h) after the switch so that no link minted
//! before it is cut short. (Visitor ids and tokens are not covered: they are
//! re-minted by the widget when refused.)
//!
//! **Opening** (`GET /agent/join?token=`) checks, in this order: the
//! format and the MAC (`tampered`, 401; a known key past its grace period:
//! `key_retired`, 410), expiry (`expired`, 410; an expired link is not
//! consumed), that the conversation is the account's (`wrong_account`, 401),
//! that the agent is still in the synced list (`unknown_agent`, 401), and
//! finally single use: `increment` of the link's use counter must answer 1
//! (`used`, 410). `increment` is atomic on every Spin backend, so two
//! concurrent opens of one link give exactly one session; there is no
//! compare-and-swap (Spin's Redis backend breaks it). Every mint, join and
//! refusal is audited (`agent_link.created`, `.joined`, `.refused` with its
//! reason). A refused token's claims are unverified; the refusal is recorded
//! in the account they name if that account exists, else only logged.

use crate::agent::sessions::{self, Started};
use crate::api::accounts;
use crate::api::agents;
use crate::api::audit;
use crate::api::auth::{Actor, Caller};
use crate::base::crypto::{
    base64url, constant_time_eq, from_base64url, hex, hmac_sha256, random_bytes, sha256,
};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId, ConversationId, CustomerId, LinkId};
use crate::base::input::{Errors, Object};
use crate::base::time::{Clock, Timestamp};
use crate::chat::conversations;
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A link's lifetime when the request names none (10 minutes).
pub const DEFAULT_TTL_SECONDS: i64 = 600;
/// The longest lifetime a link may have (24 hours).
pub const MAX_TTL_SECONDS: i64 = 86_400;
const VERSION: &str = "v1";
const MAC_CONTEXT: &[u8] = b"edgechat agent-link v1\n";
const KEY_ID_CONTEXT: &[u8] = b"edgechat key id\0";
/// Longer than any token minted (a 64-character agent id included).
const MAX_TOKEN_LEN: usize = 1_024;

/// The keys a link may be verified with.
#[derive(Debug, Clone, Copy)]
pub struct SigningKeys<'a> {
    /// Signs new links and verifies them.
    pub current: &'a [u8],
    /// The key before the last rotation, with the end of its grace period.
    pub previous: Option<(&'a [u8], Timestamp)>,
}

impl<'a> SigningKeys<'a> {
    /// From the Spin variables `signing_key`, `previous_signing_key` and
    /// `previous_signing_key_until` (empty: no previous key). A previous key
    /// without a valid RFC 3339 instant is an operator error (500, logged).
    pub fn from_variables(current: &'a str, previous: &'a str, until: &'a str) -> Result<Self> {
        let previous = match (previous.is_empty(), until.trim()) {
            (true, _) => None,
            (false, until) => {
                let until = Timestamp::parse(until).ok_or_else(|| {
                    Error::Corrupt(
                        "previous_signing_key_until must be an RFC 3339 instant when previous_signing_key is set".into(),
                    )
                })?;
                Some((previous.as_bytes(), until))
            }
        };
        Ok(SigningKeys {
            current: current.as_bytes(),
            previous,
        })
    }
}

/// The id a key is named by in tokens: 8 hex digits of a hash of it.
pub fn key_id(key: &[u8]) -> String {
    hex(&sha256(&[KEY_ID_CONTEXT, key].concat())[..4])
}

/// What a link says, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account.
    pub account: AccountId,
    /// The agent it logs in.
    pub agent: AgentId,
    /// The conversation it opens.
    pub conversation: ConversationId,
    /// The link's id (its single use is counted under it).
    pub link_id: LinkId,
    /// Expiry, Unix seconds.
    pub expires: i64,
    /// 16 random bytes (base64url).
    pub nonce: String,
}

fn mac(key: &[u8], kid: &str, payload: &str) -> [u8; 32] {
    hmac_sha256(
        key,
        &[MAC_CONTEXT, kid.as_bytes(), b".", payload.as_bytes()],
    )
}

/// The token for `claims`, signed with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let kid = key_id(key);
    // A struct of strings and an integer always serialises.
    let payload = base64url(&serde_json::to_vec(claims).unwrap_or_default());
    let mac = mac(key, &kid, &payload);
    format!("{VERSION}.{kid}.{payload}.{}", base64url(&mac))
}

/// Why opening a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token we signed: malformed, altered, truncated, another key.
    Tampered,
    /// Signed with the previous key after its grace period.
    KeyRetired,
    /// Past its expiry.
    Expired,
    /// Opened before.
    Used,
    /// Its agent is no longer in the synced list.
    UnknownAgent,
    /// Its conversation is not its account's.
    WrongAccount,
}

impl Refusal {
    /// The reason as the audit log records it.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Tampered => "tampered",
            Refusal::KeyRetired => "key_retired",
            Refusal::Expired => "expired",
            Refusal::Used => "used",
            Refusal::UnknownAgent => "unknown_agent",
            Refusal::WrongAccount => "wrong_account",
        }
    }

    /// The HTTP status: 410 for a link that was good and is no more, 401
    /// for one that never was (or whose agent is gone).
    pub fn status(self) -> u16 {
        match self {
            Refusal::KeyRetired | Refusal::Expired | Refusal::Used => 410,
            Refusal::Tampered | Refusal::UnknownAgent | Refusal::WrongAccount => 401,
        }
    }

    /// What happened and what to do, for the page a person sees.
    pub fn explain(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Refusal::Tampered => (
                "This link is not valid",
                "The link was changed or cut short on its way to you, or it was not made by this service.",
                "Copy the whole link from your message and open it again. If that does not help, ask for a new link.",
            ),
            Refusal::KeyRetired => (
                "This link is no longer valid",
                "It was signed with a key that has since been replaced.",
                "Ask for a new link to this conversation.",
            ),
            Refusal::Expired => (
                "This link has expired",
                "Agent links work for a short time only, and this one's time is up.",
                "Ask for a new link to this conversation.",
            ),
            Refusal::Used => (
                "This link has already been used",
                "A link logs in once. If you opened it before, the conversation is still open in that browser tab.",
                "Otherwise ask for a new link, and tell your administrator: someone else may have opened this one.",
            ),
            Refusal::UnknownAgent => (
                "This agent is not active",
                "The agent this link was made for is no longer in the agent list.",
                "Ask your administrator to add you again, then ask for a new link.",
            ),
            Refusal::WrongAccount => (
                "This link does not fit its conversation",
                "The conversation it names does not belong to the account it was made for.",
                "Ask for a new link to this conversation.",
            ),
        }
    }
}

/// A refused token, with what it claimed (unverified unless the refusal
/// came after the MAC check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Why.
    pub refusal: Refusal,
    /// The claims, if the payload could be read at all.
    pub claimed: Option<Claims>,
}

fn decode_claims(payload: &str) -> Option<Claims> {
    from_base64url(payload).and_then(|bytes| doc::from_json(&bytes).ok())
}

/// Verifies a token's format, MAC and expiry (nothing is read or written).
pub fn verify(keys: &SigningKeys<'_>, token: &str, now: Timestamp) -> Result<Claims, Refused> {
    let refuse = |refusal, claimed| Refused { refusal, claimed };
    let parts: Vec<&str> = token.split('.').collect();
    let [version, kid, payload, presented] = parts[..] else {
        return Err(refuse(Refusal::Tampered, None));
    };
    let claimed = decode_claims(payload);
    if token.len() > MAX_TOKEN_LEN || version != VERSION {
        return Err(refuse(Refusal::Tampered, claimed));
    }
    let Some(presented) = from_base64url(presented) else {
        return Err(refuse(Refusal::Tampered, claimed));
    };
    let matches = |key: &[u8]| {
        !key.is_empty()
            && constant_time_eq(kid.as_bytes(), key_id(key).as_bytes())
            && constant_time_eq(&mac(key, kid, payload), &presented)
    };
    let signed_by_current = matches(keys.current);
    let previous = keys.previous.filter(|_| !signed_by_current);
    let signed_by_previous = previous.is_some_and(|(key, _)| matches(key));
    if !signed_by_current && !signed_by_previous {
        return Err(refuse(Refusal::Tampered, claimed));
    }
    // The MAC holds, so the payload is ours; unreadable means a bug.
    let Some(claims) = claimed else {
        return Err(refuse(Refusal::Tampered, None));
    };
    if let Some((_, until)) = previous.filter(|_| signed_by_previous)
        && now >= until
    {
        return Err(refuse(Refusal::KeyRetired, Some(claims)));
    }
    if claims.expires.saturating_mul(1_000) <= now.millis() {
        return Err(refuse(Refusal::Expired, Some(claims)));
    }
    Ok(claims)
}

/// What opening a link led to.
#[derive(Debug)]
pub enum Joined {
    /// The agent is logged in.
    LoggedIn {
        /// The verified claims.
        claims: Claims,
        /// The session (a new cookie when one was started).
        session: Started,
    },
    /// Refused, and audited.
    Refused(Refused),
}

/// Opens a link: verifies it, consumes it, and starts a session — or
/// extends `current_session` (the browser's cookie, if any) when that is a
/// live session of the same account and agent.
pub fn join(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    keys: &SigningKeys<'_>,
    token: &str,
    current_session: Option<&str>,
) -> Result<Joined> {
    let now = clock.now();
    let claims = match verify(keys, token, now) {
        Ok(claims) => claims,
        Err(refused) => return refuse(kv, clock, refused),
    };
    let refused = |refusal| Refused {
        refusal,
        claimed: Some(claims.clone()),
    };
    match conversations::get(kv, &claims.account, claims.conversation.as_str()) {
        Ok(_) => {}
        Err(Error::NotFound(_)) => return refuse(kv, clock, refused(Refusal::WrongAccount)),
        Err(e) => return Err(e),
    }
    match agents::get(kv, &claims.account, claims.agent.as_str()) {
        Ok(_) => {}
        Err(Error::NotFound(_)) => return refuse(kv, clock, refused(Refusal::UnknownAgent)),
        Err(e) => return Err(e),
    }
    let uses = kv.increment(&keys::agent_link_uses(&claims.account, &claims.link_id), 1)?;
    if uses != 1 {
        return refuse(kv, clock, refused(Refusal::Used));
    }
    let session = sessions::join(
        kv,
        clock,
        &claims.account,
        &claims.agent,
        &claims.conversation,
        current_session,
    )?;
    audit::record(
        kv,
        clock,
        &claims.account,
        &Actor::Agent(claims.agent.clone()),
        audit::Action::AgentLinkJoined,
        &format!("agent_link:{}", claims.link_id),
    )?;
    Ok(Joined::LoggedIn { claims, session })
}

/// Audits a refusal in the account the token names, if it exists.
fn refuse(kv: &dyn KeyValue, clock: &dyn Clock, refused: Refused) -> Result<Joined> {
    let reason = refused.refusal.reason();
    match &refused.claimed {
        Some(claims) if accounts::get(kv, &claims.account)?.is_some() => {
            audit::record_refusal(
                kv,
                clock,
                &claims.account,
                &Actor::Agent(claims.agent.clone()),
                audit::Action::AgentLinkRefused,
                &format!("agent_link:{}", claims.link_id),
                reason,
            )?;
        }
        _ => eprintln!("agent link refused ({reason}); it names no account of ours"),
    }
    Ok(Joined::Refused(refused))
}

/// Which conversation a link opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This one.
    Conversation(ConversationId),
    /// This customer's most recent open conversation.
    Customer(CustomerId),
}

/// A parsed mint request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintInput {
    /// The agent to log in.
    pub agent: AgentId,
    /// The conversation.
    pub target: Target,
    /// Lifetime in seconds, 1 to [`MAX_TTL_SECONDS`].
    pub ttl_seconds: i64,
    /// Route the conversation to the agent (default true).
    pub assign: bool,
}

/// Reads `{agent_id, conversation_id | customer_id, ttl_seconds?, assign?}`.
pub fn parse_mint(body: &Value) -> Result<MintInput> {
    let mut errors = Errors::new();
    let input = Object::new(body, "", &mut errors).and_then(|object| {
        let agent = object.required_parsed(
            "agent_id",
            "is required: the id of the agent the link logs in",
            AgentId::parse,
            &mut errors,
        );
        let target = match (object.get("conversation_id"), object.get("customer_id")) {
            (Some(_), Some(_)) => {
                errors.add(
                    "customer_id",
                    "give conversation_id or customer_id, not both",
                );
                None
            }
            (None, None) => {
                errors.add(
                    "conversation_id",
                    "is required (or customer_id: that customer's most recent open conversation)",
                );
                None
            }
            (Some(_), None) => object
                .required_parsed(
                    "conversation_id",
                    "is required",
                    |text| {
                        ConversationId::parse(text)
                            .map_err(|_| "is not a conversation id (conv_…)".to_string())
                    },
                    &mut errors,
                )
                .map(Target::Conversation),
            (None, Some(_)) => object
                .required_parsed("customer_id", "is required", CustomerId::parse, &mut errors)
                .map(Target::Customer),
        };
        let ttl_seconds = match object.get("ttl_seconds") {
            None => Some(DEFAULT_TTL_SECONDS),
            Some(value) => match value.as_i64() {
                Some(n) if (1..=MAX_TTL_SECONDS).contains(&n) => Some(n),
                _ => {
                    errors.add(
                        "ttl_seconds",
                        format!("must be an integer from 1 to {MAX_TTL_SECONDS} (24 hours)"),
                    );
                    None
                }
            },
        };
        let assign = object.optional_bool("assign", &mut errors);
        Some(MintInput {
            agent: agent?,
            target: target?,
            ttl_seconds: ttl_seconds?,
            assign: assign?.unwrap_or(true),
        })
    });
    errors.finish_with(input)
}

/// A minted link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minted {
    /// The URL to give the agent (absolute; it carries the token).
    pub url: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// The link's id (audit entries name it).
    pub link_id: LinkId,
    /// The conversation it opens.
    pub conversation_id: ConversationId,
    /// The agent it logs in.
    pub agent_id: AgentId,
}

/// Mints a link for `input` under `key`, on the public `origin`.
pub fn mint(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    key: &[u8],
    caller: &Caller,
    origin: &str,
    input: &MintInput,
) -> Result<Minted> {
    if key.is_empty() {
        return Err(Error::Corrupt("signing_key is empty".into()));
    }
    let account = &caller.account;
    let agent = agents::get(kv, account, input.agent.as_str())?;
    let conversation = match &input.target {
        Target::Conversation(id) => conversations::get(kv, account, id.as_str())?,
        Target::Customer(customer) => {
            conversations::latest_open_of_customer(kv, account, customer)?.ok_or_else(|| {
                Error::NotFound(format!(
                    "customer {:?} has no open conversation",
                    customer.as_str()
                ))
            })?
        }
    };
    let id = conversation.conversation.id;
    if input.assign {
        conversations::assign(kv, clock, caller, id.as_str(), &agent.id)?;
    }
    let now_seconds = clock.now().millis().div_euclid(1_000);
    let claims = Claims {
        account: account.clone(),
        agent: agent.id.clone(),
        conversation: id.clone(),
        link_id: LinkId::generate(),
        expires: now_seconds + input.ttl_seconds,
        nonce: base64url(&random_bytes::<16>()),
    };
    let token = sign(key, &claims);
    audit::record(
        kv,
        clock,
        account,
        &caller.actor,
        audit::Action::AgentLinkCreated,
        &format!("agent_link:{}", claims.link_id),
    )?;
    Ok(Minted {
        url: format!("{origin}/agent/join?token={token}"),
        expires_at: Timestamp::from_millis(claims.expires * 1_000),
        link_id: claims.link_id,
        conversation_id: id,
        agent_id: agent.id,
    })
}

/// The public origin (`scheme://host[:port]`) links and the page's CSRF
/// check use: the operator's `public_base_url` when set (behind a proxy),
/// else the request's own, from Spin's `spin-full-url` header.
pub fn public_origin(configured: &str, full_url: Option<&str>) -> Result<String> {
    let configured = configured.trim();
    if !configured.is_empty() {
        return origin_of(configured)
            .filter(|_| {
                let rest = configured.split_once("://").map_or("", |(_, rest)| rest);
                !rest.trim_end_matches('/').contains('/')
            })
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "public_base_url {configured:?} is not an http(s) origin like https://chat.example.com"
                ))
            });
    }
    full_url
        .and_then(origin_of)
        .ok_or_else(|| Error::Corrupt("the request has no spin-full-url header".into()))
}

fn origin_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = uri.authority()?.as_str();
    if authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests;
