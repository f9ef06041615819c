//! Every key-value key edgechat uses, built here and nowhere else.
//!
//! Account-owned keys start with the account id (`acct:<id>:…`); the few
//! global keys map something public or secret to an account and hold nothing
//! else. Keeping the layout in one module makes it reviewable at a glance:
//!
//! | key | value |
//! |---|---|
//! | `sys:health:probe` | scratch value for `/healthz?deep=true` |
//! | `sys:waiting:<window>`, `sys:waiting:last` | counter: long-polls waiting that started in that 10 s window; the newest window with one ([`crate::chat::waiting`]) |
//! | `sys:idempotency:admin:<sha256>` | an admin POST's Idempotency-Key record (response sealed) |
//! | `site:<site_key>` | `{v, account}`: the public widget key's account |
//! | `token:<sha256 of token>` | `{v, account, token}`: who an API token is; deleted on revoke |
//! | `<shared document key>#claim:<n>:<g>` | counter: who owns version `n` (generation `g`) of a shared document ([`crate::storage::doc`]) |
//! | `acct:<a>:account` | the account |
//! | `acct:<a>:tokens` | the account's token list (metadata and hashes), a shared document |
//! | `acct:<a>:agents` | the whole agent list, one shared document |
//! | `acct:<a>:customer:<customer_id>` | one customer |
//! | `acct:<a>:customer-by-external-id:<sha256>` | ids of customers with that external id |
//! | `acct:<a>:customer-by-email:<sha256>` | ids of customers with that email |
//! | `acct:<a>:audit-seq` | the audit log's atomic sequence (a counter) |
//! | `acct:<a>:audit:<n>` | audit entry `n` |
//! | `acct:<a>:idempotency:<sha256>` | a POST's Idempotency-Key record (response sealed) |
//! | `acct:<a>:conv:<c>` | `{v, conversation}`: customer, status, assignee; a shared document |
//! | `acct:<a>:conv:<c>:latest` | `{v, event, at}`: the conversation's latest event, written with it |
//! | `acct:<a>:conv:<c>:msg-seq` | the conversation's message sequence (a counter) |
//! | `acct:<a>:conv:<c>:msg:<n>` | message `n` of the conversation |
//! | `acct:<a>:event-seq` | the event log's atomic sequence (a counter) |
//! | `acct:<a>:event:<n>` | event `n` |
//! | `acct:<a>:settings:routing` | `{v, routing: {mode, updated_at}}`: how new conversations are routed |
//! | `acct:<a>:routing:round-robin` | the round-robin turn counter |
//! | `acct:<a>:action-rules` | `{v, rules, updated_at}`: the visibility rule list |
//! | `acct:<a>:visibility` | `{v, mode, until, updated_at}`: the account's visibility override |
//! | `acct:<a>:customer-visibility:<c>` | the same, for one customer |
//! | `acct:<a>:widget-config` | `{v, colors, texts, position, updated_at}` |
//! | `acct:<a>:waiting:<window>`, `acct:<a>:waiting:last` | the same, for the account's long-polls |
//! | `acct:<a>:identity-secret` | the identify secret, sealed with `signing_key` |
//! | `acct:<a>:customer-conv-seq:<c>` | counter: conversations the customer started ([`crate::chat::conversations`]) |
//! | `acct:<a>:customer-conv:<c>:<n>` | the id of the customer's `n`th conversation |
//! | `acct:<a>:agent-link:<l>:uses` | counter: opens of agent link `l`; only the first (1) logs in ([`crate::agent::links`]) |
//! | `acct:<a>:agent-session:<sha256>` | `{v, account, agent, csrf, created_at, expires_at}`: an agent's page session, by the hash of its cookie secret ([`crate::agent::sessions`]) |
//! | `acct:<a>:agent-session:<sha256>:conv:<c>` | `{v}`: the session may open conversation `c` |
//! | `acct:<a>:visitor-link:<c>` | `{v, customer_id, external_id}`: the customer an identified visitor is |
//! | `sys:webhooks:accounts` | `{v, accounts}`: the accounts that ever had a webhook endpoint (what dispatch visits); a shared document |
//! | `acct:<a>:webhooks` | `{v, items}`: the account's webhook endpoints (at most 20, secrets sealed); a shared document |
//! | `acct:<a>:webhook:<w>:state` | `{v, cursor, retries, …}`: delivery progress, written only by the lease holder |
//! | `acct:<a>:webhook:<w>:lease:<window>` | counter: which dispatcher delivers for endpoint `w` in that time window |
//! | `acct:<a>:webhook:<w>:attempt-seq` / `:attempt:<n>` | the endpoint's delivery attempts (a log) |
//! | `acct:<a>:webhook:<w>:replay-seq` / `:replay:<n>` | replays asked for (a log the dispatcher works through) |
//!
//! Index keys hash the indexed value so that keys have a fixed shape and no
//! email address appears in a key.

use crate::base::crypto::sha256_hex;
use crate::base::ids::{AccountId, ConversationId, CustomerId, LinkId, SiteKey, WebhookId};

/// The key `/healthz` reads (and with `?deep=true` writes and deletes) to prove
/// the store answers. It belongs to no account.
pub fn health_probe() -> &'static str {
    "sys:health:probe"
}

/// Global: the account a public site key belongs to.
pub fn site(site_key: &SiteKey) -> String {
    format!("site:{site_key}")
}

/// Global: the account and token id of an API token, by the token's SHA-256.
pub fn token_hash(token_sha256_hex: &str) -> String {
    format!("token:{token_sha256_hex}")
}

/// Global: an admin request's Idempotency-Key record, by the key's hash.
pub fn admin_idempotency(key_hash: &str) -> String {
    format!("sys:idempotency:admin:{key_hash}")
}

/// The claim on `version` (in `generation`) of the shared document at
/// `doc_key`: a counter whose first incrementer owns that version (see
/// [`crate::storage::doc`]).
pub fn version_claim(doc_key: &str, version: u64, generation: u32) -> String {
    format!("{doc_key}#claim:{version}:{generation}")
}

/// The prefix of the waiting-slot counters ([`crate::chat::waiting`]):
/// the store's (`None`) or one account's; the window number or `last`
/// follows.
pub fn waiting_prefix(account: Option<&AccountId>) -> String {
    match account {
        None => "sys:waiting:".to_string(),
        Some(account) => format!("acct:{account}:waiting:"),
    }
}

/// The account document.
pub fn account(account: &AccountId) -> String {
    format!("acct:{account}:account")
}

/// The account's API token list (metadata; secrets only as hashes).
pub fn tokens(account: &AccountId) -> String {
    format!("acct:{account}:tokens")
}

/// The account's whole agent list.
pub fn agents(account: &AccountId) -> String {
    format!("acct:{account}:agents")
}

/// One customer.
pub fn customer(account: &AccountId, customer: &CustomerId) -> String {
    format!("acct:{account}:customer:{customer}")
}

/// The customers tagged with an external id (normalised text, hashed).
pub fn customers_by_external_id(account: &AccountId, external_id: &str) -> String {
    format!(
        "acct:{account}:customer-by-external-id:{}",
        sha256_hex(external_id.as_bytes())
    )
}

/// The customers tagged with an email (lowercased, hashed).
pub fn customers_by_email(account: &AccountId, email: &str) -> String {
    format!(
        "acct:{account}:customer-by-email:{}",
        sha256_hex(email.to_lowercase().as_bytes())
    )
}

/// The audit log's sequence counter.
pub fn audit_seq(account: &AccountId) -> String {
    format!("acct:{account}:audit-seq")
}

/// Audit entry number `n`.
pub fn audit_entry(account: &AccountId, n: u64) -> String {
    format!("acct:{account}:audit:{n}")
}

/// An account-scoped Idempotency-Key record, by the key's hash.
pub fn idempotency(account: &AccountId, key_hash: &str) -> String {
    format!("acct:{account}:idempotency:{key_hash}")
}

/// One conversation.
pub fn conversation(account: &AccountId, conversation: &ConversationId) -> String {
    format!("acct:{account}:conv:{conversation}")
}

/// The latest event of a conversation (what the change feed compares with).
pub fn conversation_activity(account: &AccountId, conversation: &ConversationId) -> String {
    format!("acct:{account}:conv:{conversation}:latest")
}

/// A conversation's message sequence counter.
pub fn message_seq(account: &AccountId, conversation: &ConversationId) -> String {
    format!("acct:{account}:conv:{conversation}:msg-seq")
}

/// Message number `n` of a conversation.
pub fn message(account: &AccountId, conversation: &ConversationId, n: u64) -> String {
    format!("acct:{account}:conv:{conversation}:msg:{n}")
}

/// The event log's sequence counter.
pub fn event_seq(account: &AccountId) -> String {
    format!("acct:{account}:event-seq")
}

/// Event number `n`.
pub fn event(account: &AccountId, n: u64) -> String {
    format!("acct:{account}:event:{n}")
}

/// The account's routing setting.
pub fn routing_settings(account: &AccountId) -> String {
    format!("acct:{account}:settings:routing")
}

/// The round-robin turn counter.
pub fn round_robin(account: &AccountId) -> String {
    format!("acct:{account}:routing:round-robin")
}

/// The account's action rules (visibility).
pub fn action_rules(account: &AccountId) -> String {
    format!("acct:{account}:action-rules")
}

/// The account-wide visibility override.
pub fn visibility_override(account: &AccountId) -> String {
    format!("acct:{account}:visibility")
}

/// One customer's visibility override.
pub fn customer_visibility_override(account: &AccountId, customer: &CustomerId) -> String {
    format!("acct:{account}:customer-visibility:{customer}")
}

/// The widget's appearance.
pub fn widget_config(account: &AccountId) -> String {
    format!("acct:{account}:widget-config")
}

/// The secret `identify` hashes are checked with (sealed).
pub fn identity_secret(account: &AccountId) -> String {
    format!("acct:{account}:identity-secret")
}

/// What the page last said about who a visitor is (see `widget::identity`).
pub fn visitor_identity(account: &AccountId, visitor: &CustomerId) -> String {
    format!("acct:{account}:visitor-identity:{visitor}")
}

/// Global: every account that ever had a webhook endpoint (dispatch visits
/// each; it names accounts and holds nothing else).
pub fn webhook_accounts() -> &'static str {
    "sys:webhooks:accounts"
}

/// The account's webhook endpoints.
pub fn webhooks(account: &AccountId) -> String {
    format!("acct:{account}:webhooks")
}

/// An endpoint's delivery progress (cursor, retries, replays).
pub fn webhook_state(account: &AccountId, endpoint: &WebhookId) -> String {
    format!("acct:{account}:webhook:{endpoint}:state")
}

/// The claim on delivering for an endpoint during lease window `window`.
pub fn webhook_lease(account: &AccountId, endpoint: &WebhookId, window: i64) -> String {
    format!("acct:{account}:webhook:{endpoint}:lease:{window}")
}

/// The sequence of an endpoint's delivery attempts.
pub fn webhook_attempt_seq(account: &AccountId, endpoint: &WebhookId) -> String {
    format!("acct:{account}:webhook:{endpoint}:attempt-seq")
}

/// Delivery attempt `n` of an endpoint.
pub fn webhook_attempt(account: &AccountId, endpoint: &WebhookId, n: u64) -> String {
    format!("acct:{account}:webhook:{endpoint}:attempt:{n}")
}

/// The sequence of an endpoint's replay requests.
pub fn webhook_replay_seq(account: &AccountId, endpoint: &WebhookId) -> String {
    format!("acct:{account}:webhook:{endpoint}:replay-seq")
}

/// Replay request `n` of an endpoint.
pub fn webhook_replay(account: &AccountId, endpoint: &WebhookId, n: u64) -> String {
    format!("acct:{account}:webhook:{endpoint}:replay:{n}")
}

/// The customer's conversation counter: how many it started.
pub fn customer_conversation_seq(account: &AccountId, customer: &CustomerId) -> String {
    format!("acct:{account}:customer-conv-seq:{customer}")
}

/// The customer's `n`th conversation (its id).
pub fn customer_conversation(account: &AccountId, customer: &CustomerId, n: u64) -> String {
    format!("acct:{account}:customer-conv:{customer}:{n}")
}

/// How often agent link `link` was opened (a counter).
pub fn agent_link_uses(account: &AccountId, link: &LinkId) -> String {
    format!("acct:{account}:agent-link:{link}:uses")
}

/// An agent page session, by the SHA-256 (hex) of its cookie secret.
pub fn agent_session(account: &AccountId, secret_sha256_hex: &str) -> String {
    format!("acct:{account}:agent-session:{secret_sha256_hex}")
}

/// That the session may open `conversation`.
pub fn agent_session_conversation(
    account: &AccountId,
    secret_sha256_hex: &str,
    conversation: &ConversationId,
) -> String {
    format!("acct:{account}:agent-session:{secret_sha256_hex}:conv:{conversation}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_owned_keys_start_with_the_account_id() {
        let a = AccountId::generate();
        let c = CustomerId::parse("c1").unwrap();
        let conv = ConversationId::generate();
        let w = WebhookId::generate();
        let prefix = format!("acct:{a}:");
        for key in [
            account(&a),
            tokens(&a),
            agents(&a),
            customer(&a, &c),
            customers_by_external_id(&a, "123"),
            customers_by_email(&a, "a@b.co"),
            audit_seq(&a),
            audit_entry(&a, 7),
            idempotency(&a, "h"),
            action_rules(&a),
            visibility_override(&a),
            customer_visibility_override(&a, &c),
            widget_config(&a),
            identity_secret(&a),
            visitor_identity(&a, &c),
            conversation(&a, &conv),
            conversation_activity(&a, &conv),
            message_seq(&a, &conv),
            message(&a, &conv, 3),
            event_seq(&a),
            event(&a, 9),
            routing_settings(&a),
            round_robin(&a),
            webhooks(&a),
            webhook_state(&a, &w),
            webhook_lease(&a, &w, 4),
            webhook_attempt_seq(&a, &w),
            webhook_attempt(&a, &w, 2),
            webhook_replay_seq(&a, &w),
            webhook_replay(&a, &w, 1),
            customer_conversation_seq(&a, &c),
            customer_conversation(&a, &c, 2),
            agent_link_uses(&a, &LinkId::generate()),
            agent_session(&a, "h"),
            agent_session_conversation(&a, "h", &conv),
        ] {
            assert!(key.starts_with(&prefix), "{key}");
        }
    }

    #[test]
    fn email_index_keys_ignore_case_and_hide_the_address() {
        let a = AccountId::generate();
        let key = customers_by_email(&a, "John.Doe@Example.com");
        assert_eq!(key, customers_by_email(&a, "john.doe@example.com"));
        assert!(!key.contains("example"));
    }
}
