//! [`Transport`] over Spin: outbound HTTP through spin-sdk's async `send`
//! (several requests in flight at once within one handler), and waiting on
//! a WASI monotonic-clock pollable registered with spin-sdk's executor, so
//! that a waiting dispatcher still lets its deliveries progress.

use crate::webhooks::deliveries::RESPONSE_PREFIX_BYTES;
use crate::webhooks::transport::{Answer, Outgoing, Transport};
use futures::StreamExt;
use spin_sdk::http::{IncomingResponse, Method, Request, SendError};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasi::clocks::monotonic_clock;

/// Spin's outbound HTTP and clock.
pub struct SpinTransport;

impl Transport for SpinTransport {
    fn send(&self, request: Outgoing) -> impl Future<Output = Result<Answer, String>> {
        send(request)
    }

    fn sleep(&self, millis: u64) -> impl Future<Output = ()> {
        Sleep {
            until: monotonic_clock::now().saturating_add(millis.saturating_mul(1_000_000)),
            _token: None,
        }
    }
}

async fn send(outgoing: Outgoing) -> Result<Answer, String> {
    let mut builder = Request::builder();
    builder.method(Method::Post).uri(outgoing.url.as_str());
    for (name, value) in &outgoing.headers {
        builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(outgoing.body).build();
    let response: IncomingResponse = spin_sdk::http::send(request).await.map_err(describe)?;
    let status = response.status();
    // Child resources (the header fields, the body and its stream) are
    // dropped before the response: Spin 3.6's wasmtime traps otherwise.
    let retry_after = {
        let headers = response.headers();
        let values = headers.get(&"retry-after".to_string());
        values
            .first()
            .and_then(|v| String::from_utf8(v.clone()).ok())
    };
    let mut body_prefix = Vec::new();
    {
        let mut stream = response.take_body_stream();
        while body_prefix.len() < RESPONSE_PREFIX_BYTES {
            match stream.next().await {
                Some(Ok(chunk)) => body_prefix.extend_from_slice(&chunk),
                _ => break,
            }
        }
    }
    body_prefix.truncate(RESPONSE_PREFIX_BYTES);
    drop(response);
    Ok(Answer {
        status,
        retry_after,
        body_prefix,
    })
}

/// A short reason for a failed send; never the receiver's internals.
fn describe(error: SendError) -> String {
    match error {
        SendError::Http(code) => {
            let text = format!("{code:?}");
            let name: String = text.chars().take_while(|c| c.is_alphanumeric()).collect();
            format!("connection failed ({name})")
        }
        SendError::Io(_) => "sending the body failed".into(),
        SendError::RequestConversion(_) => "the URL cannot be requested".into(),
        SendError::ResponseConversion(_) => "the answer cannot be read".into(),
    }
}

/// Ready once the monotonic clock passes `until`.
struct Sleep {
    until: u64,
    _token: Option<spin_executor::CancelOnDropToken>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if monotonic_clock::now() >= self.until {
            return Poll::Ready(());
        }
        let pollable = monotonic_clock::subscribe_instant(self.until);
        let token = spin_executor::push_waker_and_get_token(pollable, context.waker().clone());
        self._token = Some(token.into());
        Poll::Pending
    }
}

/// Runs a future to completion inside a (synchronous) route handler: the
/// request was read already, so nothing else of the component is waiting.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    spin_executor::run(future)
}

/// The delivery settings from the component's Spin variables.
pub fn config() -> Result<crate::webhooks::dispatch::Config, crate::base::error::Error> {
    use crate::base::error::Error;
    use crate::spin_http::variable;
    use crate::webhooks::deliveries::Schedule;
    let bad = |name: &str, why: String| Error::Corrupt(format!("variable {name}: {why}"));
    let schedule = Schedule::parse(&variable("webhook_retry_schedule")?)
        .map_err(|e| bad("webhook_retry_schedule", e))?;
    let disable_after = Schedule::parse(&variable("webhook_disable_after")?)
        .ok()
        .and_then(|s| (s.0.len() == 1).then(|| s.0[0]))
        .ok_or_else(|| bad("webhook_disable_after", "one duration, e.g. 120h".into()))?;
    Ok(crate::webhooks::dispatch::Config {
        signing_key: variable("signing_key")?.into_bytes(),
        schedule,
        disable_after_millis: disable_after,
    })
}

/// Whether the operator allows `http://` and private-address endpoint URLs
/// (`webhook_allow_insecure_urls = "true"`; for tests only).
pub fn allow_insecure_urls() -> Result<bool, crate::base::error::Error> {
    Ok(crate::spin_http::variable("webhook_allow_insecure_urls")?.trim() == "true")
}
