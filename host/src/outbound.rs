//! Outbound HTTP from components: only to `allowed_outbound_hosts`, and
//! `http://<component>.spin.internal` served in-process (Spin's local service
//! chaining), without a network hop.

use crate::server::App;
use anyhow::bail;
use std::sync::{Arc, Weak};
use wasmtime_wasi_http::HttpResult;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{
    HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig, default_send_request,
};

const INTERNAL_SUFFIX: &str = ".spin.internal";

/// One `allowed_outbound_hosts` entry: `scheme://host[:port]`, where each part
/// may be `*`, and the host may start with `*.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: String,
    host: String,
    port: Option<String>,
}

impl AllowedHost {
    /// Parses an entry as written in the manifest.
    pub fn parse(entry: &str) -> anyhow::Result<AllowedHost> {
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!("allowed outbound host '{entry}' needs a scheme, e.g. https://{entry}");
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("allowed outbound host '{entry}' must not have a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.to_string())),
            None => (rest, None),
        };
        if host.is_empty() {
            bail!("allowed outbound host '{entry}' has no host");
        }
        Ok(AllowedHost {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `scheme://host:port` is allowed by this entry.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme == "*" || self.scheme == scheme;
        let host_ok = self.host == "*"
            || self.host == host
            || self
                .host
                .strip_prefix('*')
                .is_some_and(|suffix| suffix.starts_with('.') && host.ends_with(suffix));
        let port_ok = match &self.port {
            Some(p) if p == "*" => true,
            Some(p) => p.parse::<u16>() == Ok(port),
            None => default_port(scheme) == Some(port),
        };
        scheme_ok && host_ok && port_ok
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The outbound side of one component's requests.
pub struct OutboundHooks {
    pub allowed: Arc<Vec<AllowedHost>>,
    /// The running app, for in-process calls. Weak: the app owns the
    /// components whose requests own these hooks.
    pub app: Weak<App>,
    pub component: String,
}

impl OutboundHooks {
    /// Sends a guest's outgoing request: refused unless allowed, served
    /// in-process for `*.spin.internal`, otherwise over the network.
    pub fn send_request(
        &self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = uri
            .port_u16()
            .or_else(|| default_port(&scheme))
            .unwrap_or(0);
        if !self.allowed.iter().any(|a| a.allows(&scheme, &host, port)) {
            eprintln!(
                "component '{}': outbound request to {scheme}://{host}:{port} denied: \
                 not in allowed_outbound_hosts",
                self.component
            );
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        let Some(target) = host.strip_suffix(INTERNAL_SUFFIX).map(str::to_string) else {
            return Ok(default_send_request(request, config));
        };
        let caller = self.component.clone();
        let app = self.app.clone();
        let between_bytes_timeout = config.between_bytes_timeout;
        let handle = wasmtime_wasi::runtime::spawn(async move {
            let Some(app) = app.upgrade() else {
                return Ok(Err(ErrorCode::ConnectionRefused));
            };
            match app.call_internal(&target, request).await {
                Ok(resp) => Ok(Ok(IncomingResponse {
                    resp,
                    worker: None,
                    between_bytes_timeout,
                })),
                Err(e) => {
                    eprintln!("component '{caller}': internal call to '{target}' failed: {e:#}");
                    Ok(Err(ErrorCode::DestinationNotFound))
                }
            }
        });
        Ok(HostFutureIncomingResponse::pending(handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, scheme: &str, host: &str, port: u16) -> bool {
        AllowedHost::parse(entry)
            .unwrap()
            .allows(scheme, host, port)
    }

    #[test]
    fn exact_hosts_use_the_scheme_default_port() {
        assert!(allows(
            "https://api.example.com",
            "https",
            "api.example.com",
            443
        ));
        assert!(!allows(
            "https://api.example.com",
            "https",
            "api.example.com",
            8443
        ));
        assert!(!allows(
            "https://api.example.com",
            "http",
            "api.example.com",
            80
        ));
    }

    #[test]
    fn wildcards_cover_ports_subdomains_and_schemes() {
        assert!(allows("http://127.0.0.1:*", "http", "127.0.0.1", 3001));
        assert!(allows(
            "https://*.example.com",
            "https",
            "a.example.com",
            443
        ));
        assert!(!allows(
            "https://*.example.com",
            "https",
            "example.com.evil",
            443
        ));
        assert!(allows("*://*:*", "http", "anything", 1));
    }

    #[test]
    fn entries_without_scheme_are_refused() {
        assert!(AllowedHost::parse("example.com").is_err());
        assert!(AllowedHost::parse("https://example.com/path").is_err());
    }
}
