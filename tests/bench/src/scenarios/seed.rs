//! Seeding many records over HTTP, fast: a fixed number of keep-alive
//! connections take the next index until all are sent, with progress on
//! stderr (seeding 100,000 conversations takes a while).

use super::Target;
use crate::load;
use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, timeout};

/// A seeding request may wait this long: the server is saturated on purpose.
const SEED_TIMEOUT: Duration = Duration::from_secs(30);
/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Sends `build(i)` for every `i` in `0..count` and fails on the first
/// non-2xx answer; `what` names the records for the progress lines.
pub async fn seed<F>(target: &Target, what: &str, count: usize, build: F) -> Result<()>
where
    F: Fn(usize) -> Request<Full<Bytes>> + Send + Sync + 'static,
{
    let build = Arc::new(build);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let connections = target.options.seed_concurrency.clamp(1, count.max(1));
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (build, next, done) = (build.clone(), next.clone(), done.clone());
            let addr = target.addr;
            tokio::spawn(async move {
                let sent = send_all(addr, &*build, &next, count, &done).await;
                if sent.is_err() {
                    // Stop the other connections at their next index.
                    next.store(count, Ordering::Relaxed);
                }
                sent
            })
        })
        .collect();
    let progress = {
        let (done, what) = (done.clone(), what.to_string());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                let so_far = done.load(Ordering::Relaxed);
                let rate = so_far as f64 / started.elapsed().as_secs_f64();
                eprintln!("  seeding {what}: {so_far}/{count} ({rate:.0}/s)");
            }
        })
    };
    let mut outcome = Ok(());
    for worker in workers {
        let result = worker.await.context("a seeding worker panicked");
        if outcome.is_ok() {
            outcome = result.and_then(|r| r);
        }
    }
    progress.abort();
    outcome?;
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "  seeded {count} {what} in {took:.1}s ({:.0}/s)",
        count as f64 / took.max(f64::EPSILON)
    );
    Ok(())
}

/// One connection's share: the next index until `count`.
async fn send_all(
    addr: SocketAddr,
    build: &(dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync),
    next: &AtomicUsize,
    count: usize,
    done: &AtomicUsize,
) -> Result<()> {
    let mut sender = load::connect(addr).await?;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            return Ok(());
        }
        let req = load::with_host(build(i), addr);
        let sent = format!("{} {}", req.method(), req.uri());
        let (status, body) = timeout(SEED_TIMEOUT, load::exchange(&mut sender, req))
            .await
            .map_err(|_| anyhow!("{sent}: no answer within {SEED_TIMEOUT:?}"))?
            .with_context(|| format!("{sent} failed"))?;
        if !status.is_success() {
            bail!(
                "{sent} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}
