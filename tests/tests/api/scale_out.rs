//! Scale-out: two runtimes sharing one Redis, the way Spin instances share it
//! behind a load balancer. Every write that several requests may make at once
//! (account and token creation, agent syncs, single-agent changes) loses and
//! doubles nothing. This is the configuration where Spin's compare-and-swap
//! is broken, so these tests would fail if any of them relied on it.

use crate::ids;
use edgechat_tests::{ADMIN_TOKEN, Client, Host, HostOptions, Redis, in_parallel, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Two hosts on one Redis (declared after it, so they stop first).
struct Pair {
    hosts: [Host; 2],
    _redis: Redis,
}

impl Pair {
    fn start() -> Pair {
        let redis = Redis::start();
        Pair {
            hosts: redis.two_hosts(HostOptions::app),
            _redis: redis,
        }
    }

    /// Clients of both hosts holding `token`.
    fn clients(&self, token: &str) -> [Client; 2] {
        [
            self.hosts[0].client().with_bearer(token),
            self.hosts[1].client().with_bearer(token),
        ]
    }

    /// A new account's API token.
    fn account(&self) -> String {
        let created = self.clients(ADMIN_TOKEN)[0]
            .post("/api/v1/accounts", &json!({"name": "Acme"}))
            .expect(201)
            .json();
        created["api_token"].as_str().unwrap().to_string()
    }
}

#[test]
fn accounts_created_at_once_through_two_hosts_are_all_distinct_and_whole() {
    let pair = Pair::start();
    let admins = Arc::new(pair.clients(ADMIN_TOKEN));
    let created = in_parallel(40, 8, move |i| {
        admins[i % 2]
            .post("/api/v1/accounts", &json!({"name": format!("Tenant {i}")}))
            .expect(201)
            .json()
    });
    let ids: HashSet<String> = created
        .iter()
        .map(|c| c["account"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 40, "two creations got the same account");
    for (i, account) in created.iter().enumerate() {
        // Each account's token works on the host that did not create it.
        let token = account["api_token"].as_str().unwrap();
        pair.clients(token)[(i + 1) % 2]
            .get("/api/v1/tokens")
            .expect(200);
    }
}

#[test]
fn tokens_minted_at_once_through_two_hosts_are_all_listed_and_all_work() {
    let pair = Pair::start();
    let token = pair.account();
    let apis = Arc::new(pair.clients(&token));
    let minted = {
        let apis = apis.clone();
        in_parallel(30, 8, move |i| {
            apis[i % 2]
                .post("/api/v1/tokens", &json!({"name": format!("crm-{i}")}))
                .expect(201)
                .json()
        })
    };
    let listed = apis[1].get("/api/v1/tokens?limit=100");
    let names: HashSet<String> = ids(listed.expect(200), "name").into_iter().collect();
    assert_eq!(
        names.len(),
        31,
        "the default token and 30 new ones: {names:?}"
    );
    for (i, token) in minted.iter().enumerate() {
        assert!(names.contains(&format!("crm-{i}")), "crm-{i} was lost");
        let secret = token["token"].as_str().unwrap();
        pair.clients(secret)[i % 2]
            .get("/api/v1/agents")
            .expect(200);
    }
}

#[test]
fn whole_list_syncs_racing_on_two_hosts_leave_one_list_never_a_mix() {
    let pair = Pair::start();
    let token = pair.account();
    crate::agents::race_whole_list_syncs(pair.clients(&token), 10);
}

#[test]
fn single_agent_changes_racing_on_two_hosts_are_all_kept() {
    let pair = Pair::start();
    let token = pair.account();
    let apis = Arc::new(pair.clients(&token));
    {
        let apis = apis.clone();
        in_parallel(40, 8, move |i| {
            apis[i % 2]
                .put(
                    &format!("/api/v1/agents/agent-{i:02}"),
                    &json!({"name": format!("Agent {i}")}),
                )
                .expect(201);
        });
    }
    {
        let apis = apis.clone();
        in_parallel(40, 8, move |i| {
            apis[(i + 1) % 2]
                .put(
                    &format!("/api/v1/agents/agent-{i:02}/status"),
                    &json!({"online": true, "available": i % 2 == 0}),
                )
                .expect(200);
        });
    }
    let listed = apis[0].get("/api/v1/agents?limit=1000");
    let agents = listed.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(agents.len(), 40, "an agent was lost: {agents:?}");
    for (i, agent) in agents.iter().enumerate() {
        assert_eq!(agent["id"], format!("agent-{i:02}"));
        assert_eq!(agent["online"], true, "{agent}");
        assert_eq!(agent["available"], i % 2 == 0, "{agent}");
    }
}
