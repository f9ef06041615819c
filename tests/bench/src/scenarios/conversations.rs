//! Issue 4, conversations:
//! - the conversation poll (`GET /api/v1/conversations`) must cost the same
//!   with 1,000 and with 100,000 conversations in an account (p50 and p99
//!   within 1.2×): two accounts in one store, the tail cursor and the first
//!   page of each;
//! - message posts, visitor and agent, on the default SQLite store: at least
//!   3,000/s, one conversation per connection so no single key is hot;
//! - a waiting long-poll returns within 20 ms (p50) of an agent's reply.

use super::seed::seed;
use super::{
    Account, BoxFuture, Check, Comparison, FIRST, Findings, Goal, Scenario, Server, Target,
    authorized, items, json_request, query_value, string_field,
};
use crate::load::{self, Call, MakeRequest};
use anyhow::{Context, Result, anyhow, bail};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// Conversations in the small account of the poll comparison.
const SMALL: usize = 1_000;
/// The page size the poll is measured with.
const POLL_LIMIT: usize = 50;
/// The page size used to walk to the tail (the API's largest).
const WALK_LIMIT: usize = 200;
/// How much slower the large account's poll may be.
const MAX_POLL_RATIO: f64 = 1.2;
/// Message posts per second on the default (SQLite) store.
const MIN_POSTS_PER_SEC: f64 = 3_000.0;
const POSTS_REFERENCE: &str = "reference from issue 4: real Spin does ~1,400 single \
     key-value increments/s on these machines";
/// A waiting poll's wake-up after a reply, median.
const MAX_WAKE_P50: Duration = Duration::from_millis(20);
/// How long the poll waits on the server before the reply is sent, so that it
/// is surely waiting (not answering its first read) when the reply lands.
const REPLY_AFTER: Duration = Duration::from_millis(150);
const WAIT_SECONDS: u64 = 30;

pub fn scenarios(main: Server) -> Vec<Scenario> {
    vec![
        Scenario::load(
            "visitor-message",
            "POST /v1/widget/conversations/{id}/messages: visitor posts, one conversation per connection",
            main,
            visitor_message,
        )
        .goal(Goal::RequestsPerSec(MIN_POSTS_PER_SEC))
        .note(POSTS_REFERENCE),
        Scenario::load(
            "agent-reply",
            "POST /api/v1/conversations/{id}/messages: agent replies, one conversation per connection",
            main,
            agent_reply,
        )
        .goal(Goal::RequestsPerSec(MIN_POSTS_PER_SEC))
        .note(POSTS_REFERENCE),
        Scenario::probe(
            "longpoll-wake",
            "agent reply -> a visitor's waiting long-poll returns (sequential samples)",
            main,
            longpoll_wake,
        ),
        Scenario::load(
            "poll-tail-1k",
            "GET /api/v1/conversations?limit=50&cursor=<tail>: 1,000 conversations",
            main,
            poll_tail_small,
        ),
        Scenario::load(
            "poll-tail-big",
            "GET /api/v1/conversations?limit=50&cursor=<tail>: --big-conversations (default 100,000)",
            main,
            poll_tail_large,
        ),
        Scenario::load(
            "poll-first-1k",
            "GET /api/v1/conversations?limit=50: first page, 1,000 conversations",
            main,
            poll_first_small,
        ),
        Scenario::load(
            "poll-first-big",
            "GET /api/v1/conversations?limit=50: first page, --big-conversations (default 100,000)",
            main,
            poll_first_large,
        ),
    ]
}

/// The poll on 1,000 vs `big` conversations: what issue 4 asks to stay flat.
pub fn comparisons(big: usize) -> Vec<Comparison> {
    [
        ("tail cursor", "poll-tail-big", "poll-tail-1k"),
        ("first page", "poll-first-big", "poll-first-1k"),
    ]
    .into_iter()
    .map(|(page, large, small)| Comparison {
        what: format!("conversation poll, {page}, {big} vs {SMALL} conversations"),
        large,
        small,
        max_ratio: MAX_POLL_RATIO,
    })
    .collect()
}

/// A visitor's conversation: its id and the visitor's token.
#[derive(Clone, Debug)]
pub(super) struct Chat {
    pub(super) id: String,
    pub(super) token: String,
}

pub(super) async fn start_chat(target: &Target, account: &Account) -> Result<Chat> {
    let visitor = target.visitors(&account.site_key, 1).await?.remove(0);
    let started = target
        .expect_json(
            start_request(&account.site_key, &visitor),
            StatusCode::CREATED,
        )
        .await?;
    Ok(Chat {
        id: string_field(&started, "conversation_id")?,
        token: string_field(&started, "visitor_token")?,
    })
}

pub(super) fn start_request(
    site: &str,
    visitor: &str,
) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    json_request(
        Method::POST,
        "/v1/widget/conversations",
        None,
        &json!({ "site": site, "visitor": visitor }),
    )
}

/// One conversation per load connection.
async fn chats(target: &Target, account: &Account) -> Result<Arc<Vec<Chat>>> {
    let mut chats = Vec::new();
    for _ in 0..target.options.concurrency {
        chats.push(start_chat(target, account).await?);
    }
    Ok(Arc::new(chats))
}

pub(super) async fn create_agent(
    target: &Target,
    account: &Account,
    id: &str,
    name: &str,
) -> Result<()> {
    target
        .call(json_request(
            Method::PUT,
            &format!("/api/v1/agents/{id}"),
            Some(&account.token),
            &json!({ "name": name }),
        ))
        .await?;
    Ok(())
}

pub(super) fn visitor_message(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench visitor messages").await?;
        let chats = chats(&target, &account).await?;
        let make: MakeRequest = Arc::new(move |call: Call| {
            let chat = &chats[call.connection % chats.len()];
            json_request(
                Method::POST,
                &format!("/v1/widget/conversations/{}/messages", chat.id),
                Some(&chat.token),
                &json!({ "text": "hello" }),
            )
        });
        target.expect_json(make(FIRST), StatusCode::CREATED).await?;
        Ok(make)
    })
}

pub(super) fn reply_request(
    token: &str,
    chat: &str,
) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    json_request(
        Method::POST,
        &format!("/api/v1/conversations/{chat}/messages"),
        Some(token),
        &json!({ "agent_id": "alice", "text": "hi" }),
    )
}

pub(super) fn agent_reply(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench agent replies").await?;
        create_agent(&target, &account, "alice", "Alice").await?;
        let chats = chats(&target, &account).await?;
        let token = account.token;
        let make: MakeRequest = Arc::new(move |call: Call| {
            reply_request(&token, &chats[call.connection % chats.len()].id)
        });
        target.expect_json(make(FIRST), StatusCode::CREATED).await?;
        Ok(make)
    })
}

/// Times `longpoll_samples` wake-ups, one at a time: read the visitor's
/// messages to the tail, start a long-poll from there on one connection,
/// post an agent reply through the API on another ~150 ms later, and time
/// the poll's answer from the reply's 201 (and from the reply's send).
fn longpoll_wake(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let account = target.account("bench long-poll").await?;
        create_agent(&target, &account, "alice", "Alice").await?;
        let chat = start_chat(&target, &account).await?;
        let samples = target.options.longpoll_samples.max(1);
        let messages = format!("/v1/widget/conversations/{}/messages", chat.id);
        let mut poller = load::connect(target.addr).await?;
        let mut api = load::connect(target.addr).await?;
        let (mut from_201, mut from_send) = (Vec::new(), Vec::new());
        let mut poll_first = 0;
        let mut cursor = String::new();
        eprintln!("  timing {samples} long-poll wake-ups");
        for _ in 0..samples {
            // The tail, as a widget finds it before waiting.
            loop {
                let path = format!("{messages}?cursor={}", query_value(&cursor));
                let page = exchange_json(
                    &mut poller,
                    &target,
                    authorized(Method::GET, &path, Some(&chat.token)),
                )
                .await?;
                cursor = string_field(&page, "next_cursor")?;
                if items(&page)?.is_empty() {
                    break;
                }
            }
            let wait = authorized(
                Method::GET,
                &format!(
                    "{messages}?cursor={}&wait={WAIT_SECONDS}",
                    query_value(&cursor)
                ),
                Some(&chat.token),
            );
            let addr = target.addr;
            let poll = tokio::spawn(async move {
                let limit = Duration::from_secs(WAIT_SECONDS + 5);
                let answer = timeout(
                    limit,
                    load::exchange(&mut poller, load::with_host(wait, addr)),
                )
                .await
                .map_err(|_| anyhow!("the long-poll did not answer within {limit:?}"))
                .and_then(|answer| answer);
                (poller, answer, Instant::now())
            });
            sleep(REPLY_AFTER).await;
            let sent = Instant::now();
            let (status, body) = load::exchange(
                &mut api,
                load::with_host(reply_request(&account.token, &chat.id), target.addr),
            )
            .await?;
            let replied = Instant::now();
            if status != StatusCode::CREATED {
                bail!(
                    "the reply answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            let (back, answer, returned) = poll.await.context("the long-poll task panicked")?;
            poller = back;
            let (status, body) = answer?;
            let page: Value = serde_json::from_slice(&body)
                .with_context(|| format!("the long-poll answered {status} without JSON"))?;
            if status != StatusCode::OK || items(&page)?.is_empty() {
                bail!("the long-poll answered {status} without the reply: {page}");
            }
            cursor = string_field(&page, "next_cursor")?;
            if returned < replied {
                poll_first += 1;
            }
            from_201.push(returned.saturating_duration_since(replied));
            from_send.push(returned.saturating_duration_since(sent));
        }
        from_201.sort_unstable();
        from_send.sort_unstable();
        let p50 = percentile(&from_201, 0.5);
        let mut findings = Findings::default();
        findings.lines.push(format!(
            "reply's 201 read -> poll's answer read: p50 {}, p99 {}, max {} ({samples} samples; \
             answered before the 201 was read, counted as 0: {poll_first})",
            ms(p50),
            ms(percentile(&from_201, 0.99)),
            ms(percentile(&from_201, 1.0)),
        ));
        findings.lines.push(format!(
            "reply sent -> poll's answer read: p50 {}, p99 {}, max {} (includes the reply's own handling)",
            ms(percentile(&from_send, 0.5)),
            ms(percentile(&from_send, 0.99)),
            ms(percentile(&from_send, 1.0)),
        ));
        findings.checks.push(Check {
            what: format!(
                "long-poll wake-up p50 {} from the reply's 201 (target <= {})",
                ms(p50),
                ms(MAX_WAKE_P50)
            ),
            met: p50 <= MAX_WAKE_P50,
        });
        Ok(findings)
    })
}

async fn exchange_json(
    sender: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    target: &Target,
    req: hyper::Request<http_body_util::Full<bytes::Bytes>>,
) -> Result<Value> {
    let what = format!("{} {}", req.method(), req.uri());
    let (status, body) = load::exchange(sender, load::with_host(req, target.addr)).await?;
    if !status.is_success() {
        bail!(
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    serde_json::from_slice(&body).with_context(|| format!("{what} answered without JSON"))
}

/// Nearest rank of sorted samples (0.5 = median); zero when there are none.
pub(super) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The two accounts of the poll comparison, seeded once per server, with the
/// cursor at the end of each one's feed.
#[derive(Clone, Debug)]
pub struct Feeds {
    small: Feed,
    large: Feed,
}

#[derive(Clone, Debug)]
struct Feed {
    token: String,
    tail: String,
}

#[derive(Clone, Copy)]
enum Size {
    Small,
    Large,
}

#[derive(Clone, Copy)]
enum Page {
    Tail,
    First,
}

fn poll_tail_small(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(poll(target, Size::Small, Page::Tail))
}

fn poll_tail_large(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(poll(target, Size::Large, Page::Tail))
}

fn poll_first_small(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(poll(target, Size::Small, Page::First))
}

fn poll_first_large(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(poll(target, Size::Large, Page::First))
}

async fn poll(target: Target, size: Size, page: Page) -> Result<MakeRequest> {
    let feeds = target
        .fixtures
        .feeds
        .get_or_try_init(|| seed_feeds(&target))
        .await?;
    let feed = match size {
        Size::Small => feeds.small.clone(),
        Size::Large => feeds.large.clone(),
    };
    let cursor = match page {
        Page::Tail => feed.tail,
        Page::First => String::new(),
    };
    let path = format!(
        "/api/v1/conversations?limit={POLL_LIMIT}&cursor={}",
        query_value(&cursor)
    );
    let token = feed.token;
    let make: MakeRequest = Arc::new(move |_: Call| authorized(Method::GET, &path, Some(&token)));
    let answer = target.call_json(make(FIRST)).await?;
    let expected = match page {
        Page::Tail => 0,
        Page::First => POLL_LIMIT,
    };
    if items(&answer)?.len() != expected {
        bail!("expected {expected} conversations, got {answer}");
    }
    Ok(make)
}

/// Both accounts in the same store, so that the only difference between
/// their polls is how many conversations the account has.
/// Browsers that start the seeded conversations.
const FEED_VISITORS: usize = 500;

async fn seed_feeds(target: &Target) -> Result<Feeds> {
    let big = target.options.big_conversations;
    Ok(Feeds {
        small: seed_feed(target, SMALL).await?,
        large: seed_feed(target, big).await?,
    })
}

async fn seed_feed(target: &Target, count: usize) -> Result<Feed> {
    let account = target.account(&format!("bench feed {count}")).await?;
    let site = account.site_key.clone();
    // Visitors come back: a pool of browsers starts all the conversations.
    let visitors = target.visitors(&site, count.min(FEED_VISITORS)).await?;
    seed(
        target,
        &format!("conversations (account of {count})"),
        count,
        move |i| start_request(&site, &visitors[i % visitors.len()]),
    )
    .await?;
    // Walk the feed to its end: every conversation once, then the tail.
    let (mut cursor, mut seen) = (String::new(), 0);
    loop {
        let path = format!(
            "/api/v1/conversations?limit={WALK_LIMIT}&cursor={}",
            query_value(&cursor)
        );
        let page = target
            .call_json(authorized(Method::GET, &path, Some(&account.token)))
            .await?;
        cursor = string_field(&page, "next_cursor")?;
        let n = items(&page)?.len();
        if n == 0 {
            break;
        }
        seen += n;
    }
    if seen != count {
        bail!("the feed of an account with {count} conversations listed {seen}");
    }
    Ok(Feed {
        token: account.token,
        tail: cursor,
    })
}
