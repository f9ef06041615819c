//! Issue 3, the integration API: a CRM upserting customers, looking them up
//! by its own id, and an agent directory read back. No target of its own: the
//! report shows the figures and the ratio to the floor.

use super::seed::seed;
use super::{
    BoxFuture, FIRST, Scenario, Server, Target, authorized, items, json_request, string_field,
};
use crate::load::{Call, MakeRequest};
use anyhow::{Result, bail};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// Customers seeded for the lookup, looked up in turn.
const LOOKUP_CUSTOMERS: u64 = 2_000;
/// Agents in the directory that is listed.
const AGENTS: usize = 100;

pub fn scenarios(main: Server) -> Vec<Scenario> {
    vec![
        Scenario::load(
            "customer-put",
            "PUT /api/v1/customers/{id}: upsert, a new customer (id, email) per request",
            main,
            customer_put,
        ),
        Scenario::load(
            "customer-find",
            "GET /api/v1/customers?external_id=: lookup among 2,000 customers",
            main,
            customer_find,
        ),
        Scenario::load(
            "agents-list",
            "GET /api/v1/agents: a directory of 100 agents, one page",
            main,
            agents_list,
        ),
    ]
}

/// The CRM's record for customer `n`, as the issue shapes it.
fn customer(n: u64) -> Value {
    json!({
        "email": format!("user{n}@example.com"),
        "firstname": "John",
        "id": n,
        "labels": ["foo", "bar"],
        "lastname": "Doe",
    })
}

fn put_customer(token: &str, n: u64) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    json_request(
        Method::PUT,
        &format!("/api/v1/customers/bench-{n}"),
        Some(token),
        &customer(n),
    )
}

fn customer_put(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench customers").await?;
        // The check uses an id no connection sends: 201 once, then 200.
        let check = 4_000_000_000_000;
        target
            .expect_json(put_customer(&account.token, check), StatusCode::CREATED)
            .await?;
        target
            .expect_json(put_customer(&account.token, check), StatusCode::OK)
            .await?;
        // Distinct per request: no external id or email nears the 100
        // customers that may share one.
        let token = account.token;
        let make: MakeRequest = Arc::new(move |call: Call| {
            put_customer(&token, call.connection as u64 * 1_000_000_000 + call.n)
        });
        Ok(make)
    })
}

fn customer_find(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench lookup").await?;
        let token = account.token.clone();
        seed(&target, "customers", LOOKUP_CUSTOMERS as usize, move |i| {
            put_customer(&token, i as u64)
        })
        .await?;
        let connections = target.options.concurrency as u64;
        let token = account.token;
        let make: MakeRequest = Arc::new(move |call: Call| {
            let n = (call.n * connections + call.connection as u64) % LOOKUP_CUSTOMERS;
            authorized(
                Method::GET,
                &format!("/api/v1/customers?external_id={n}"),
                Some(&token),
            )
        });
        let page = target.call_json(make(FIRST)).await?;
        let found = items(&page)?;
        if found.len() != 1 || found[0]["id"] != json!(0) {
            bail!("expected customer 0 alone, got {page}");
        }
        Ok(make)
    })
}

fn agents_list(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench agents").await?;
        let agents: Vec<Value> = (0..AGENTS)
            .map(|i| {
                json!({
                    "id": format!("agent-{i:03}"),
                    "name": format!("Agent {i:03}"),
                    "email": format!("agent-{i:03}@example.com"),
                })
            })
            .collect();
        target
            .call(json_request(
                Method::PUT,
                "/api/v1/agents",
                Some(&account.token),
                &json!({ "agents": agents }),
            ))
            .await?;
        let token = account.token;
        let make: MakeRequest =
            Arc::new(move |_: Call| authorized(Method::GET, "/api/v1/agents", Some(&token)));
        let page = target.call_json(make(FIRST)).await?;
        let listed = items(&page)?;
        if listed.len() != AGENTS {
            bail!("expected {AGENTS} agents, got {}", listed.len());
        }
        string_field(&listed[0], "id")?;
        Ok(make)
    })
}
