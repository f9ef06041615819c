//! The load generator and its statistics.
//!
//! Closed loop: `concurrency` keep-alive HTTP/1.1 connections, each sending its
//! next request as soon as the previous answer's body is read. A request counts
//! when it completes inside the measured window (after the warm-up); its
//! latency is from just before sending to the end of the body. Every phase has
//! a deadline, so a stuck server cannot hang the run.

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout_at};

/// A request is an error if it takes longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long requests still in flight at the end of the window may finish.
const END_GRACE: Duration = Duration::from_secs(1);
/// Pause before reconnecting after a failed connect, so a dead server is not
/// hammered in a tight loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// Which request a connection is about to send, for builders that vary it
/// (distinct ids, rotating keys).
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The connection's index, `0..concurrency`.
    pub connection: usize,
    /// How many requests this connection sent before this one.
    pub n: u64,
}

/// Builds each request of a scenario. The URI is origin-form (a path); the
/// generator adds `Host` when the builder did not.
pub type MakeRequest = Arc<dyn Fn(Call) -> Request<Full<Bytes>> + Send + Sync>;

#[derive(Clone, Copy, Debug)]
pub struct LoadConfig {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Stats {
    /// Successful (2xx) requests completed in the measured window.
    pub completed: u64,
    /// Failed requests (non-2xx, I/O error, timeout) during warm-up or window.
    pub errors: u64,
    /// The first failure, to say what went wrong.
    pub first_error: Option<String>,
    /// The measured window.
    pub window: Duration,
    /// CPU time the server process spent during the window, when known.
    pub server_cpu: Option<Duration>,
    /// CPU time this process (the load generator) spent during the window.
    pub client_cpu: Option<Duration>,
    /// Latencies of the completed requests, in microseconds, sorted.
    latencies_us: Vec<u32>,
}

impl Stats {
    pub fn requests_per_sec(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64()
    }

    /// The server's CPU time per completed request.
    pub fn server_cpu_per_request(&self) -> Option<Duration> {
        self.per_request(self.server_cpu?)
    }

    /// The load generator's CPU time per completed request.
    pub fn client_cpu_per_request(&self) -> Option<Duration> {
        self.per_request(self.client_cpu?)
    }

    fn per_request(&self, cpu: Duration) -> Option<Duration> {
        let completed = u32::try_from(self.completed).ok().filter(|&n| n > 0)?;
        Some(cpu / completed)
    }

    /// The `q` quantile (0.5 = median) of the completed requests' latencies,
    /// nearest-rank; `None` when nothing completed.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        if self.latencies_us.is_empty() {
            return None;
        }
        let rank = (q * self.latencies_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        Some(Duration::from_micros(u64::from(self.latencies_us[index])))
    }

    fn merge(&mut self, other: Stats) {
        self.completed += other.completed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    fn error(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what());
        }
    }
}

/// Drives `addr` with `make`'s requests for `config.warmup + config.duration`;
/// `server_pid` is the serving process, whose CPU time is measured.
pub async fn run(
    addr: SocketAddr,
    make: MakeRequest,
    config: &LoadConfig,
    server_pid: Option<u32>,
) -> Result<Stats> {
    let measure_from = Instant::now() + config.warmup;
    let until = measure_from + config.duration;
    let cpu = tokio::spawn(async move {
        let pids = [server_pid, Some(std::process::id())];
        let sample = || pids.map(|pid| pid.and_then(crate::cpu::process_cpu_time));
        tokio::time::sleep_until(measure_from).await;
        let before = sample();
        tokio::time::sleep_until(until).await;
        let after = sample();
        [0, 1].map(|i| after[i]?.checked_sub(before[i]?))
    });
    let workers: Vec<_> = (0..config.concurrency)
        .map(|connection| {
            let make = make.clone();
            tokio::spawn(worker(addr, connection, make, measure_from, until))
        })
        .collect();
    let mut stats = Stats {
        window: config.duration,
        ..Stats::default()
    };
    for worker in workers {
        stats.merge(worker.await.context("a load worker panicked")?);
    }
    [stats.server_cpu, stats.client_cpu] = cpu.await.context("the CPU sampler panicked")?;
    stats.latencies_us.sort_unstable();
    Ok(stats)
}

async fn worker(
    addr: SocketAddr,
    connection: usize,
    make: MakeRequest,
    measure_from: Instant,
    until: Instant,
) -> Stats {
    let mut stats = Stats::default();
    let mut n = 0;
    'connect: while Instant::now() < until {
        let mut sender = match connect(addr).await {
            Ok(sender) => sender,
            Err(e) => {
                stats.error(|| format!("connect: {e:#}"));
                sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        while Instant::now() < until {
            let req = with_host(make(Call { connection, n }), addr);
            n += 1;
            let sent = Instant::now();
            let deadline = (sent + REQUEST_TIMEOUT).min(until + END_GRACE);
            let outcome = timeout_at(deadline, exchange(&mut sender, req)).await;
            let done = Instant::now();
            match outcome {
                Ok(Ok((status, _))) if status.is_success() => {
                    if done >= measure_from && done <= until {
                        stats.completed += 1;
                        let micros = (done - sent).as_micros();
                        stats
                            .latencies_us
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                }
                Ok(Ok((status, body))) => {
                    stats.error(|| format!("status {status}: {}", String::from_utf8_lossy(&body)));
                }
                Ok(Err(e)) => {
                    stats.error(|| format!("request: {e:#}"));
                    continue 'connect;
                }
                Err(_) if done >= until => break 'connect,
                Err(_) => {
                    stats.error(|| format!("no answer within {REQUEST_TIMEOUT:?}"));
                    continue 'connect;
                }
            }
        }
    }
    stats
}

/// Opens one keep-alive HTTP/1.1 connection to `addr`.
pub async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server hangs up; the request
        // that sees the hang-up reports it.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole answer.
pub async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes)> {
    sender
        .ready()
        .await
        .map_err(|e| anyhow!("connection closed: {e}"))?;
    let response = sender.send_request(req).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// One request on a fresh connection: for setup and checks, not for load.
pub async fn fetch(addr: SocketAddr, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes)> {
    let mut sender = connect(addr).await?;
    let req = with_host(req, addr);
    timeout_at(Instant::now() + REQUEST_TIMEOUT, exchange(&mut sender, req))
        .await
        .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
}

/// Adds `Host` (the server's address) unless the request has one.
pub fn with_host(mut req: Request<Full<Bytes>>, addr: SocketAddr) -> Request<Full<Bytes>> {
    if !req.headers().contains_key(header::HOST)
        && let Ok(host) = header::HeaderValue::from_str(&addr.to_string())
    {
        req.headers_mut().insert(header::HOST, host);
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_with(latencies_us: Vec<u32>) -> Stats {
        Stats {
            completed: latencies_us.len() as u64,
            window: Duration::from_secs(2),
            latencies_us,
            ..Stats::default()
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let stats = stats_with((1..=100).collect());
        assert_eq!(stats.percentile(0.5), Some(Duration::from_micros(50)));
        assert_eq!(stats.percentile(0.99), Some(Duration::from_micros(99)));
        assert_eq!(stats.percentile(1.0), Some(Duration::from_micros(100)));
        assert_eq!(stats.percentile(0.0), Some(Duration::from_micros(1)));
    }

    #[test]
    fn server_cpu_is_shared_by_the_completed_requests() {
        let stats = Stats {
            server_cpu: Some(Duration::from_millis(1)),
            ..stats_with(vec![1; 10])
        };
        assert_eq!(
            stats.server_cpu_per_request(),
            Some(Duration::from_micros(100))
        );
    }

    #[test]
    fn no_completed_requests_have_no_percentiles() {
        assert_eq!(stats_with(Vec::new()).percentile(0.5), None);
    }

    #[test]
    fn throughput_is_per_second_of_the_window() {
        assert_eq!(stats_with(vec![1; 10]).requests_per_sec(), 5.0);
    }
}
