//! The agent page's sessions: what a successful `GET /agent/join` leaves in
//! the browser, and what every request of the page is checked against.
//!
//! - **Cookie**: `<account id>.<secret>`, the secret 32 random bytes
//!   (base64url). On an https origin it is `__Host-edgechat_agent` with
//!   `Secure` (the prefix makes the browser refuse it from any subdomain or
//!   path); on plain http (a laptop) `edgechat_agent`. Always `HttpOnly`,
//!   `SameSite=Lax`, `Path=/`, `Max-Age` of the session. `Lax`, not
//!   `Strict`: the join is a top-level navigation from a mail or chat tool,
//!   and a `Strict` cookie set during that cross-site navigation would not
//!   be sent on its own redirect to the page.
//! - **Store**: `acct:<a>:agent-session:<sha256 of the secret>` holds `{v,
//!   account, agent, csrf, created_at, expires_at}`, written once; a copy of
//!   the store does not hold a usable cookie. Each conversation the session
//!   may open is a key of its own (`…:conv:<c>`), so a second link opened in
//!   the same browser adds one key and never rewrites the session (no
//!   read-modify-write, nothing to lose under concurrency).
//! - **Every request** re-reads the session: past `expires_at` (12 hours),
//!   logged out, or with its agent no longer in the synced agent list
//!   (`PUT /api/v1/agents` or `DELETE /api/v1/agents/{id}`), it is over:
//!   401 and the cookie cleared. A session reaches only the conversations
//!   linked into it (others are 404, like conversations that do not exist).
//! - **CSRF**: besides `SameSite`, every request that changes something must
//!   carry `Origin` equal to the app's own origin and the session's CSRF
//!   token in `x-edgechat-csrf` (the page embeds it); otherwise 403.

use crate::api::agents;
use crate::api::auth::{Actor, Caller};
use crate::base::crypto::{base64url, random_bytes, secrets_equal, sha256_hex};
use crate::base::error::{Error, Result};
use crate::base::ids::{AccountId, AgentId, ConversationId};
use crate::base::time::{Clock, Timestamp};
use crate::storage::doc;
use crate::storage::keys;
use crate::storage::store::KeyValue;
use serde::{Deserialize, Serialize};

/// How long a session lasts (12 hours).
pub const SESSION_TTL_MILLIS: i64 = 12 * 3_600 * 1_000;
/// The cookie's name on https origins.
pub const SECURE_COOKIE: &str = "__Host-edgechat_agent";
/// The cookie's name on plain-http origins (`__Host-` needs `Secure`).
pub const PLAIN_COOKIE: &str = "edgechat_agent";
/// The header carrying the session's CSRF token.
pub const CSRF_HEADER: &str = "x-edgechat-csrf";
const SECRET_LEN: usize = 43;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    v: u32,
    /// The account.
    pub account: AccountId,
    /// The agent logged in.
    pub agent: AgentId,
    /// The token the page sends with every change.
    pub csrf: String,
    /// When the link was opened.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// A live session, checked for this request.
#[derive(Debug, Clone)]
pub struct Active {
    /// The session.
    pub session: Session,
    secret_hash: String,
}

/// A session a join started or extended.
#[derive(Debug)]
pub struct Started {
    /// The session.
    pub active: Active,
    /// The cookie value to set, when the session is new.
    pub cookie: Option<String>,
}

/// The cookie's name on an origin (`https://…` gets the `__Host-` one).
pub fn cookie_name(origin: &str) -> &'static str {
    if origin.starts_with("https://") {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

/// The `Set-Cookie` value that stores a session's cookie.
pub fn set_cookie(origin: &str, value: &str) -> String {
    cookie_header(origin, value, SESSION_TTL_MILLIS / 1_000)
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(origin: &str) -> String {
    cookie_header(origin, "", 0)
}

fn cookie_header(origin: &str, value: &str, max_age: i64) -> String {
    let secure = if cookie_name(origin) == SECURE_COOKIE {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(origin)
    )
}

/// The session cookie's value in a `Cookie` header, if any.
pub fn cookie_value<'a>(cookie_header: Option<&'a str>, origin: &str) -> Option<&'a str> {
    let name = cookie_name(origin);
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

fn parse_cookie(value: &str) -> Option<(AccountId, &str)> {
    let (account, secret) = value.split_once('.')?;
    let well_formed = secret.len() == SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(())?;
    Some((AccountId::parse(account).ok()?, secret))
}

fn ended(why: &str) -> Error {
    Error::Unauthorized(format!("{why}; open a new agent link to sign in again"))
}

/// The live session a cookie value names (401 otherwise). An expired one,
/// or one whose agent was removed, is deleted on the way.
pub fn open(kv: &dyn KeyValue, clock: &dyn Clock, cookie: Option<&str>) -> Result<Active> {
    let (account, secret) = cookie
        .and_then(parse_cookie)
        .ok_or_else(|| ended("you are not signed in"))?;
    let secret_hash = sha256_hex(secret.as_bytes());
    let key = keys::agent_session(&account, &secret_hash);
    let session: Session = doc::read(kv, &key)?.ok_or_else(|| ended("your session has ended"))?;
    if session.account != account {
        return Err(ended("your session has ended"));
    }
    if session.expires_at <= clock.now() {
        kv.delete(&key)?;
        return Err(ended("your session has expired"));
    }
    match agents::get(kv, &account, session.agent.as_str()) {
        Ok(_) => {}
        Err(Error::NotFound(_)) => {
            kv.delete(&key)?;
            return Err(ended("your agent was removed from the agent list"));
        }
        Err(e) => return Err(e),
    }
    Ok(Active {
        session,
        secret_hash,
    })
}

/// Starts a session for `agent` in `conversation`, or adds the conversation
/// to the browser's live session of the same account and agent.
pub fn join(
    kv: &dyn KeyValue,
    clock: &dyn Clock,
    account: &AccountId,
    agent: &AgentId,
    conversation: &ConversationId,
    current: Option<&str>,
) -> Result<Started> {
    let reusable = match open(kv, clock, current) {
        Ok(active) if &active.session.account == account && &active.session.agent == agent => {
            Some(active)
        }
        Ok(_) | Err(Error::Unauthorized(_)) => None,
        Err(e) => return Err(e),
    };
    let (active, cookie) = match reusable {
        Some(active) => (active, None),
        None => {
            let secret = base64url(&random_bytes::<32>());
            let now = clock.now();
            let session = Session {
                v: 1,
                account: account.clone(),
                agent: agent.clone(),
                csrf: base64url(&random_bytes::<32>()),
                created_at: now,
                expires_at: now.plus_millis(SESSION_TTL_MILLIS),
            };
            let secret_hash = sha256_hex(secret.as_bytes());
            doc::write(kv, &keys::agent_session(account, &secret_hash), &session)?;
            let active = Active {
                session,
                secret_hash,
            };
            (active, Some(format!("{account}.{secret}")))
        }
    };
    // Before the cookie reaches the browser, so the page finds it.
    doc::write(
        kv,
        &keys::agent_session_conversation(account, &active.secret_hash, conversation),
        &serde_json::json!({"v": 1}),
    )?;
    Ok(Started { active, cookie })
}

impl Active {
    /// The conversation at `path_id` if a link opened it in this session;
    /// 404 otherwise, as for a conversation that does not exist.
    pub fn conversation(&self, kv: &dyn KeyValue, path_id: &str) -> Result<ConversationId> {
        let not_found = || Error::NotFound(format!("there is no conversation {path_id:?}"));
        let id = ConversationId::parse(path_id).map_err(|_| not_found())?;
        let key = keys::agent_session_conversation(&self.session.account, &self.secret_hash, &id);
        if kv.exists(&key)? {
            Ok(id)
        } else {
            Err(not_found())
        }
    }

    /// Who the session acts as: the agent, in its account.
    pub fn caller(&self) -> Caller {
        Caller {
            account: self.session.account.clone(),
            actor: Actor::Agent(self.session.agent.clone()),
        }
    }

    /// Refuses (403) a change that does not come from the app's own page:
    /// `Origin` must be `own_origin` and `token` the session's CSRF token.
    pub fn check_csrf(
        &self,
        origin: Option<&str>,
        own_origin: &str,
        token: Option<&str>,
    ) -> Result<()> {
        if !origin.is_some_and(|o| o.eq_ignore_ascii_case(own_origin)) {
            return Err(Error::Forbidden(
                "cross-site request refused: the Origin header must be this app's own origin"
                    .into(),
            ));
        }
        let token = token.unwrap_or_default();
        if token.is_empty() || !secrets_equal(token.as_bytes(), self.session.csrf.as_bytes()) {
            return Err(Error::Forbidden(format!(
                "request refused: send the page's CSRF token in {CSRF_HEADER}"
            )));
        }
        Ok(())
    }

    /// Ends the session (logout): its cookie opens nothing any more.
    pub fn end(&self, kv: &dyn KeyValue) -> Result<()> {
        kv.delete(&keys::agent_session(
            &self.session.account,
            &self.secret_hash,
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::agents::AgentInput;
    use crate::storage::store::KeyValue;
    use crate::testing::World;

    fn world_with_alice() -> World {
        let w = World::new();
        let alice = AgentInput {
            id: AgentId::parse("alice").unwrap(),
            name: "Alice".into(),
            email: None,
            online: None,
            available: None,
        };
        agents::upsert(&w.kv, &w.clock, &w.caller, &alice).unwrap();
        w
    }

    #[test]
    fn a_session_opens_only_its_conversations_until_it_expires() {
        let w = world_with_alice();
        let alice = AgentId::parse("alice").unwrap();
        let (c1, c2) = (ConversationId::generate(), ConversationId::generate());
        let started = join(&w.kv, &w.clock, &w.caller.account, &alice, &c1, None).unwrap();
        let cookie = started.cookie.expect("a new session sets a cookie");
        let active = open(&w.kv, &w.clock, Some(&cookie)).unwrap();
        assert_eq!(active.conversation(&w.kv, c1.as_str()).unwrap(), c1);
        assert!(matches!(
            active.conversation(&w.kv, c2.as_str()),
            Err(Error::NotFound(_))
        ));
        // A second link in the same browser extends the session.
        let again = join(
            &w.kv,
            &w.clock,
            &w.caller.account,
            &alice,
            &c2,
            Some(&cookie),
        )
        .unwrap();
        assert!(again.cookie.is_none());
        assert!(active.conversation(&w.kv, c2.as_str()).is_ok());
        w.clock.advance(SESSION_TTL_MILLIS);
        assert!(matches!(
            open(&w.kv, &w.clock, Some(&cookie)),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn the_store_holds_no_usable_cookie() {
        let w = world_with_alice();
        let alice = AgentId::parse("alice").unwrap();
        let c = ConversationId::generate();
        let cookie = join(&w.kv, &w.clock, &w.caller.account, &alice, &c, None)
            .unwrap()
            .cookie
            .unwrap();
        let secret = cookie.split_once('.').unwrap().1;
        for key in w.kv.keys() {
            let value = w.kv.get(&key).unwrap().unwrap_or_default();
            assert!(!key.contains(secret), "{key}");
            assert!(!String::from_utf8_lossy(&value).contains(secret), "{key}");
        }
    }

    #[test]
    fn changes_need_the_own_origin_and_the_csrf_token() {
        let w = world_with_alice();
        let alice = AgentId::parse("alice").unwrap();
        let c = ConversationId::generate();
        let started = join(&w.kv, &w.clock, &w.caller.account, &alice, &c, None).unwrap();
        let active = started.active;
        let csrf = active.session.csrf.clone();
        let own = "https://chat.example.com";
        assert!(active.check_csrf(Some(own), own, Some(&csrf)).is_ok());
        for (origin, token) in [
            (None, Some(csrf.as_str())),
            (Some("https://evil.example"), Some(csrf.as_str())),
            (Some("null"), Some(csrf.as_str())),
            (Some(own), None),
            (Some(own), Some("")),
            (Some(own), Some("guess")),
        ] {
            assert!(
                matches!(
                    active.check_csrf(origin, own, token),
                    Err(Error::Forbidden(_))
                ),
                "{origin:?} {token:?}"
            );
        }
    }

    #[test]
    fn cookies_are_host_prefixed_and_secure_on_https_only() {
        let secure = set_cookie("https://chat.example.com", "v");
        assert!(
            secure.starts_with("__Host-edgechat_agent=v; Path=/;"),
            "{secure}"
        );
        assert!(secure.contains("; Secure") && secure.contains("HttpOnly"));
        let plain = set_cookie("http://127.0.0.1:3000", "v");
        assert!(plain.starts_with("edgechat_agent=v;") && !plain.contains("Secure"));
        assert_eq!(
            cookie_value(Some("a=b; edgechat_agent=x.y ; c=d"), "http://h"),
            Some("x.y")
        );
        assert_eq!(cookie_value(Some("edgechat_agent=x"), "https://h"), None);
    }
}
