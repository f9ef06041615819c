//! Sending one signed delivery: the request, its headers and the outcome,
//! over an async [`Transport`] (Spin's outbound HTTP in the components,
//! see `spin_transport`; a fake in unit tests).

use crate::base::time::{Clock, Timestamp};
use crate::webhooks::deliveries::RESPONSE_PREFIX_BYTES;
use crate::webhooks::signing::{Secret, signature_header};
use std::future::Future;
use std::pin::pin;

/// How long a receiver has to answer.
pub const TIMEOUT_MILLIS: u64 = 10_000;

/// One outgoing delivery.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The endpoint's URL.
    pub url: String,
    /// The request headers.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// What a receiver answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// Its status code.
    pub status: u16,
    /// Its `Retry-After` header.
    pub retry_after: Option<String>,
    /// The first [`RESPONSE_PREFIX_BYTES`] of its body.
    pub body_prefix: Vec<u8>,
}

/// How deliveries are sent and how the dispatcher waits.
pub trait Transport {
    /// Sends one request; `Err` with a short reason when there is no answer.
    fn send(&self, request: Outgoing) -> impl Future<Output = Result<Answer, String>>;
    /// Waits this long.
    fn sleep(&self, millis: u64) -> impl Future<Output = ()>;
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// When it was sent.
    pub at: Timestamp,
    /// The answer, or why there was none.
    pub answer: Result<Answer, String>,
    /// How long it took.
    pub duration_ms: u64,
}

impl Sent {
    /// Whether the receiver took it (2xx).
    pub fn succeeded(&self) -> bool {
        matches!(&self.answer, Ok(a) if (200..300).contains(&a.status))
    }

    /// The answer's body as text, cut to [`RESPONSE_PREFIX_BYTES`].
    pub fn body_text(&self) -> String {
        match &self.answer {
            Ok(answer) => {
                let end = answer.body_prefix.len().min(RESPONSE_PREFIX_BYTES);
                String::from_utf8_lossy(&answer.body_prefix[..end]).into_owned()
            }
            Err(_) => String::new(),
        }
    }
}

/// Signs `body` as message `webhook_id` with `secrets` and sends it to
/// `url`, giving up after [`TIMEOUT_MILLIS`].
pub async fn send_signed(
    transport: &impl Transport,
    clock: &dyn Clock,
    url: &str,
    secrets: &[Secret],
    webhook_id: &str,
    body: Vec<u8>,
) -> Sent {
    let at = clock.now();
    let timestamp = at.millis().div_euclid(1_000);
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        // Declared, not chunked: many receivers (and frameworks) read only
        // a body whose length they are told.
        ("content-length".to_string(), body.len().to_string()),
        ("user-agent".to_string(), "edgechat-webhooks/1".to_string()),
        ("webhook-id".to_string(), webhook_id.to_string()),
        ("webhook-timestamp".to_string(), timestamp.to_string()),
        (
            "webhook-signature".to_string(),
            signature_header(secrets, webhook_id, timestamp, &body),
        ),
    ];
    let request = Outgoing {
        url: url.to_string(),
        headers,
        body,
    };
    let answer = if secrets.is_empty() {
        // Only when `signing_key` changed since the secret was sealed.
        Err("the endpoint's secret cannot be opened; rotate it".to_string())
    } else {
        let send = pin!(transport.send(request));
        let timeout = pin!(transport.sleep(TIMEOUT_MILLIS));
        match futures::future::select(send, timeout).await {
            futures::future::Either::Left((answer, _)) => answer,
            futures::future::Either::Right(_) => {
                Err(format!("no answer within {} s", TIMEOUT_MILLIS / 1_000))
            }
        }
    };
    let duration_ms = u64::try_from(clock.now().millis() - at.millis()).unwrap_or(0);
    Sent {
        at,
        answer,
        duration_ms,
    }
}
