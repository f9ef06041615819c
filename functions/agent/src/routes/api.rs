//! The chat page's own API, `/agent/api/conversations/{id}…`: cookie
//! session, only conversations a link opened in it (404 otherwise), and
//! every change CSRF-checked. Each call is the integration API's domain
//! function with the agent as the caller, so events, polling, webhooks and
//! the audit log see a page reply exactly as an API reply.
//!
//! - `GET …/{id}` → `{conversation, customer, agent, agents}`: the
//!   conversation, its customer's tags (`null` if none), who is signed in,
//!   and the agents one may hand over to (`{id, name, online, available}`).
//! - `GET …/{id}/messages?cursor=&wait=` → a page of messages (long-poll).
//! - `POST …/{id}/messages {text}` → 201 the reply, as the agent.
//! - `POST …/{id}/close`, `POST …/{id}/reopen` → the conversation.
//! - `POST …/{id}/handover {agent_id}` → 201 a new link for that agent
//!   (the conversation is routed to them), to pass on.

use crate::session::{Kind, with_session};
use edgechat::agent_links::{self, MintInput, Target};
use edgechat::error::Error;
use edgechat::spin_http::{self, Ctx};
use edgechat::time::SystemClock;
use edgechat::{agents, conversations, customers, messages};
use serde_json::json;
use spin_sdk::http::Response;

pub fn get(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Read, |active, _| {
        let (kv, account) = (ctx.store()?, &active.session.account);
        let id = active.conversation(kv, ctx.param("id"))?;
        let view = conversations::get(kv, account, id.as_str())?;
        let customer = match customers::get(kv, account, view.conversation.customer_id.as_str()) {
            Ok(customer) => Some(customer),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let me = agents::get(kv, account, active.session.agent.as_str())?;
        let others: Vec<_> = agents::list(kv, account, None, agents::MAX_AGENTS)?
            .items
            .into_iter()
            .map(|a| json!({"id": a.id, "name": a.name, "online": a.online, "available": a.available}))
            .collect();
        Ok(spin_http::json(
            200,
            &json!({
                "conversation": view,
                "customer": customer,
                "agent": {"id": me.id, "name": me.name},
                "agents": others,
            }),
        ))
    })
}

pub fn messages(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Read, |active, _| {
        let kv = ctx.store()?;
        let id = active.conversation(kv, ctx.param("id"))?;
        let query = ctx.long_poll(messages::DEFAULT_PAGE, messages::MAX_PAGE)?;
        let page = conversations::messages(
            kv,
            &SystemClock,
            &active.session.account,
            id.as_str(),
            &query,
            ctx.long_poll_wait()?,
        )?;
        Ok(spin_http::json(200, &page))
    })
}

pub fn reply(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Change, |active, _| {
        let kv = ctx.store()?;
        let id = active.conversation(kv, ctx.param("id"))?;
        let text = messages::parse_visitor(&ctx.json_body()?)?;
        let caller = active.caller();
        let message = conversations::reply(
            kv,
            &SystemClock,
            &caller,
            id.as_str(),
            &active.session.agent,
            &text,
        )?;
        Ok(spin_http::json(201, &message))
    })
}

pub fn close(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Change, |active, _| {
        let kv = ctx.store()?;
        let id = active.conversation(kv, ctx.param("id"))?;
        ctx.no_body()?;
        let view = conversations::close(kv, &SystemClock, &active.caller(), id.as_str())?;
        Ok(spin_http::json(200, &view))
    })
}

pub fn reopen(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Change, |active, _| {
        let kv = ctx.store()?;
        let id = active.conversation(kv, ctx.param("id"))?;
        ctx.no_body()?;
        let view = conversations::reopen_closed(kv, &SystemClock, &active.caller(), id.as_str())?;
        Ok(spin_http::json(200, &view))
    })
}

pub fn handover(ctx: &Ctx) -> Result<Response, Error> {
    with_session(ctx, Kind::Change, |active, origin| {
        let kv = ctx.store()?;
        let id = active.conversation(kv, ctx.param("id"))?;
        let agent = conversations::parse_assign(&ctx.json_body()?)?;
        let input = MintInput {
            agent,
            target: Target::Conversation(id),
            ttl_seconds: agent_links::DEFAULT_TTL_SECONDS,
            assign: true,
        };
        let key = spin_http::variable("signing_key")?;
        let minted = agent_links::mint(
            kv,
            &SystemClock,
            key.as_bytes(),
            &active.caller(),
            origin,
            &input,
        )?;
        Ok(spin_http::json_no_store(201, &minted))
    })
}
