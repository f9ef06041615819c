//! The widget and its visibility end to end, through the host: the public
//! `/v1/widget/*` routes (config, visibility, identify; CORS), the
//! integration routes that steer them (action rules, overrides, widget
//! config, identity secret), `/widget.js` and `/demo`, and every error
//! class. One fresh host per test.

mod assets;
mod config;
mod identify;
mod visibility;

use edgechat_tests::{Client, Host, HostOptions, Reply, Tenant, Value};

pub struct App {
    pub host: Host,
}

impl App {
    pub fn start() -> App {
        App {
            host: HostOptions::app().start(),
        }
    }

    pub fn public(&self) -> Client {
        self.host.client()
    }

    pub fn tenant(&self) -> Tenant {
        self.host.tenant("Acme")
    }
}

/// What a visitor's widget is told about visibility (and that it may ask
/// from any origin).
///
/// `visitor=<label>` in `query` names a test browser: the visitor id minted
/// for it is sent instead.
pub fn visibility(app: &App, tenant: &Tenant, query: &str) -> Value {
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("visitor=") {
            Some(label) => format!("visitor={}", tenant.visitor(label)),
            None => pair.to_string(),
        })
        .collect();
    let reply = app.public().get(&format!(
        "/v1/widget/visibility?site={}&{}",
        tenant.site_key,
        query.join("&")
    ));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    reply.expect(200).json()
}

/// The fields named in a validation problem.
#[track_caller]
pub fn invalid_fields(reply: &Reply) -> Vec<String> {
    reply.invalid_fields()
}
