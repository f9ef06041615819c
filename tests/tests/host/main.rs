//! The local runtime behaves like `spin up`: routing, Spin headers,
//! variables, key-value (SQLite and Redis), outbound rules, service chaining,
//! traps, start-up failures and shutdown. One test binary; one host per test.

mod concurrency;
mod connections;
mod hang_up;
mod health;
mod host_answers;
mod key_value;
mod kv_round_trips;
mod lifecycle;
mod outbound;
mod request_timeout;
mod routing;
mod variables;
