//! The integration API end to end, through the host: accounts, API tokens,
//! agents, customers, the audit log, idempotency, every error class, account
//! isolation, secrets at rest, and the OpenAPI document against the routes
//! actually served. One test binary; one fresh host per test.

mod accounts;
mod agents;
mod audit;
mod customers;
mod errors;
mod isolation;
mod kv_round_trips;
mod manifest;
mod openapi;
mod scale_out;
mod schemathesis;
mod secrets;
mod tokens;

use edgechat_tests::{Client, Host, HostOptions, Reply, Tenant, Value};

/// A host running edgechat's app on fresh state.
pub struct App {
    pub host: Host,
}

impl App {
    pub fn start() -> App {
        App {
            host: HostOptions::app().start(),
        }
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        self.host.client()
    }

    /// A client with the operator's admin token.
    pub fn admin(&self) -> Client {
        self.host.admin()
    }

    /// Creates an account and returns it with a client for its API token.
    pub fn tenant(&self, name: &str) -> Tenant {
        self.host.tenant(name)
    }
}

/// The ids of a list response's `items`, in order.
pub fn ids(reply: &Reply, field: &str) -> Vec<String> {
    reply.json()["items"]
        .as_array()
        .unwrap_or_else(|| panic!("expected items: {}", reply.body))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| item[field].to_string())
        })
        .collect()
}

/// The fields named in a validation problem.
#[track_caller]
pub fn invalid_fields(reply: &Reply) -> Vec<String> {
    reply.invalid_fields()
}

/// Every audit entry of the tenant's account, oldest first.
pub fn audit_actions(tenant: &Tenant) -> Vec<Value> {
    tenant
        .api
        .get("/api/v1/audit-logs?limit=200")
        .expect(200)
        .json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
