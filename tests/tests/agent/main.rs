//! Agent links and the agent page end to end, through the host: minting
//! (`POST /api/v1/agent-links`), opening (`GET /agent/join`, the refusal
//! matrix, rotation, single use under concurrency), and the page's cookie
//! session (flags, CSRF, which conversations it reaches, logout, agent
//! removal). One test binary; one fresh host per test.

mod join;
mod mint;
mod page;

use edgechat_tests::{Client, Host, HostOptions, Reply, SIGNING_KEY, Tenant, Value, json};

/// A visitor's chat.
pub struct Chat {
    pub id: String,
    pub customer_id: String,
    pub visitor: Client,
}

/// A host with one account whose agents are Alice and Bob.
pub fn setup() -> (Host, Tenant) {
    setup_with(HostOptions::app())
}

pub fn setup_with(options: HostOptions) -> (Host, Tenant) {
    let host = options.start();
    let tenant = host.tenant("Agent links shop");
    sync_agents(&tenant, &["alice", "bob"]);
    (host, tenant)
}

/// Syncs the agent list to `ids`, each named "<Id> Agent".
pub fn sync_agents(tenant: &Tenant, ids: &[&str]) {
    let agents: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "name": display_name(id), "online": true, "available": true}))
        .collect();
    tenant
        .api
        .put("/api/v1/agents", &json!({ "agents": agents }))
        .expect(200);
}

pub fn display_name(id: &str) -> String {
    let mut name = id.to_string();
    name[..1].make_ascii_uppercase();
    format!("{name} Agent")
}

pub fn start_chat(host: &Host, tenant: &Tenant, label: &str) -> Chat {
    let visitor = tenant.visitor_via(&host.client(), label);
    let started = host
        .client()
        .post(
            "/v1/widget/conversations",
            &json!({"site": tenant.site_key, "visitor": visitor, "text": "Hello, I need help"}),
        )
        .expect(201)
        .json();
    Chat {
        id: started["conversation_id"].as_str().unwrap().to_string(),
        customer_id: started["customer_id"].as_str().unwrap().to_string(),
        visitor: host
            .client()
            .with_bearer(started["visitor_token"].as_str().unwrap()),
    }
}

impl Chat {
    pub fn say(&self, text: &str) -> Reply {
        self.visitor.post(
            &format!("/v1/widget/conversations/{}/messages", self.id),
            &json!({ "text": text }),
        )
    }
}

/// Mints a link for `agent` into `conversation`; its token.
pub fn link(tenant: &Tenant, agent: &str, conversation: &str) -> String {
    let minted = tenant
        .api
        .post(
            "/api/v1/agent-links",
            &json!({"agent_id": agent, "conversation_id": conversation}),
        )
        .expect(201)
        .json();
    token_of(minted["url"].as_str().unwrap())
}

pub fn token_of(url: &str) -> String {
    url.split_once("/agent/join?token=")
        .expect("a join URL")
        .1
        .to_string()
}

/// `GET /agent/join?token=` with the browser's cookie, if any.
pub fn join(host: &Host, token: &str, cookie: Option<&str>) -> Reply {
    let mut headers = Vec::new();
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    host.client()
        .send("GET", &format!("/agent/join?token={token}"), &headers, None)
}

/// `name=value` of a `Set-Cookie` header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_string()
}

/// A browser signed in as an agent: its cookie, CSRF token and origin.
pub struct AgentBrowser {
    pub client: Client,
    pub cookie: String,
    pub csrf: String,
    pub origin: String,
}

/// Opens a fresh link for `agent` into `conversation` in a new browser.
pub fn sign_in(host: &Host, tenant: &Tenant, agent: &str, conversation: &str) -> AgentBrowser {
    let token = link(tenant, agent, conversation);
    let joined = join(host, &token, None);
    joined.expect(303);
    let cookie = cookie_pair(joined.header("set-cookie").expect("a session cookie"));
    let mut browser = AgentBrowser {
        client: host.client(),
        cookie,
        csrf: String::new(),
        origin: host.base.clone(),
    };
    let page = browser.get(joined.header("location").unwrap());
    page.expect(200);
    browser.csrf = csrf_of(&page.body);
    browser
}

/// The CSRF token the page embeds.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"edgechat-csrf\" content=\"";
    let start = html.find(marker).expect("the page embeds its CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

impl AgentBrowser {
    pub fn get(&self, path: &str) -> Reply {
        self.client
            .send("GET", path, &[("cookie", &self.cookie)], None)
    }

    /// A change as the page sends it: cookie, own Origin, CSRF token.
    pub fn post(&self, path: &str, body: Option<&Value>) -> Reply {
        self.post_with(path, body, Some(&self.origin), Some(&self.csrf))
    }

    pub fn post_with(
        &self,
        path: &str,
        body: Option<&Value>,
        origin: Option<&str>,
        csrf: Option<&str>,
    ) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        let mut headers = vec![("cookie", self.cookie.as_str())];
        if bytes.is_some() {
            headers.push(("content-type", "application/json"));
        }
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        if let Some(csrf) = csrf {
            headers.push(("x-edgechat-csrf", csrf));
        }
        self.client.send("POST", path, &headers, bytes.as_deref())
    }

    pub fn api(&self, conversation: &str, rest: &str) -> String {
        format!("/agent/api/conversations/{conversation}{rest}")
    }
}

/// The account's audit entries of `type` (an action or its type), oldest first.
pub fn audit(tenant: &Tenant, kind: &str) -> Vec<Value> {
    tenant
        .api
        .get(&format!("/api/v1/audit-logs?type={kind}&limit=200"))
        .expect(200)
        .items()
}

/// Unix seconds now.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The test key, as the harness gives the app.
pub fn signing_key() -> &'static [u8] {
    SIGNING_KEY.as_bytes()
}
