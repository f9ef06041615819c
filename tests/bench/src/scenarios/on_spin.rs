//! The same scenarios on real Spin (`--spin <path>`), side by side with the
//! local runtime in one run (issue 11, target 4): the write path on SQLite
//! and on Redis, `/healthz`, and open chats at scale. Their rows carry the
//! host scenario's name with `-spin`; they have no targets of their own
//! (the targets are the local runtime's), they are the reference to read
//! the host's figures against.

use super::conversations::{agent_reply, visitor_message};
use super::scale::{SCALE_APP, open_chats};
use super::{MAIN_APP, Scenario, Server, healthz};

pub fn scenarios() -> Vec<Scenario> {
    let spin = Server::Spin(MAIN_APP);
    let spin_on_redis = Server::SpinOnRedis(MAIN_APP);
    vec![
        Scenario::load("healthz-spin", "healthz on spin up", spin, healthz),
        Scenario::load(
            "visitor-message-spin",
            "visitor-message on spin up (SQLite)",
            spin,
            visitor_message,
        ),
        Scenario::load(
            "agent-reply-spin",
            "agent-reply on spin up (SQLite)",
            spin,
            agent_reply,
        ),
        Scenario::load(
            "visitor-message-redis-spin",
            "visitor-message on spin up, key-value on Redis",
            spin_on_redis,
            visitor_message,
        ),
        Scenario::load(
            "agent-reply-redis-spin",
            "agent-reply on spin up, key-value on Redis",
            spin_on_redis,
            agent_reply,
        ),
        Scenario::probe(
            "open-chats-spin",
            "open-chats on spin up (SQLite, SPIN_MAX_INSTANCE_COUNT=6000)",
            Server::Spin(SCALE_APP),
            open_chats,
        ),
    ]
}
