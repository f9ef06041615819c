//! `/openapi.json` is the truth: schemathesis (pinned in
//! `schemathesis/requirements.txt`) fuzzes every operation of the document
//! against a running app, with every check it has, and any finding fails
//! the test command.
//!
//! How it is driven, and why:
//!
//! - **Credentials.** schemathesis authenticates per security scheme of the
//!   document: the admin token for `adminToken`, an account's API token for
//!   `apiToken`, a visitor token (of a conversation the harness starts) for
//!   `visitorToken`; the public routes get the account's site key.
//! - **The fuzzer never revokes its own token.** The main run fuzzes every
//!   operation except `DELETE /api/v1/tokens/{id}`, so nothing in it can
//!   revoke a token (it may mint as many as it likes). That one operation
//!   runs alone, as a second account whose token id the fuzzer never learns:
//!   no operation of that run answers a token id, and the only real id it is
//!   given is a second token minted for it to revoke. (The server refuses to
//!   revoke an account's last token, but a fuzzer that can mint a second one
//!   and list ids could revoke the first; a hook filtering its own id would
//!   depend on every phase applying hooks the same way.) Afterwards both
//!   accounts' tokens must still work.
//! - **Real values where the server can only accept real ones.** A cursor is
//!   opaque (a `next_cursor` from the same list) and a conversation id or a
//!   site key names something that exists, so each is given from a
//!   dictionary of values the harness read from the app; the document still
//!   describes their syntax, which the fuzzer's negative cases exercise.
//!   `wait` is drawn from {0, 0.2} seconds in generated cases so that
//!   long-polls do not hold the run for 30 s each.
//!   Where the valid values are only the app's (cursors, a future `until`),
//!   the coverage phase, which knows only the schema, runs negative cases.
//! - **What a schema cannot state is allowed by name, per operation**: 422
//!   for an `Idempotency-Key` reused with another request (state, like a
//!   409; the fuzzer reuses keys), and 400 for the few rules across fields
//!   that the document says in prose ([`CROSS_FIELD_RULES`]). Negative cases
//!   stay strict everywhere; a 413 counts as refusing them.
//! - **Bounded and repeatable.** `--generation-deterministic` (fixed inputs,
//!   no example database), a fixed number of cases per operation, one
//!   worker (threads made CPython 3.11's parser fail inside hypothesis), and
//!   a deadline on the whole process.
//! - **Visitor ids** are only those minted for the site (no pattern can say
//!   so): every `visitor` the fuzzer sends is one the harness minted.

use crate::App;
use edgechat_tests::{ADMIN_TOKEN, Client, Value, json, repo_root};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Cases per operation in the fuzzing phase (the examples and coverage
/// phases add their own, a few dozen per operation).
const MAX_EXAMPLES: u32 = 200;

/// Generous: the whole fuzz step takes a few minutes on two busy cores.
const RUN_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Operations where a schema-valid request may be refused because of state
/// the document cannot show: a reused `Idempotency-Key` (422).
const IDEMPOTENT: &[&str] = &[
    "createAccount",
    "createToken",
    "mintAccountToken",
    "startConversation",
    "postVisitorMessage",
    "postAgentReply",
    "assignConversation",
    "closeConversation",
    "createWebhook",
    "mintAgentLink",
];

/// Operations with a rule across fields that JSON Schema cannot state, said
/// in the document's prose and answered with a 400 naming the field: agent
/// ids unique within a sync, a body id equal to the path id, rule ids unique
/// and no empty opening-hours window, exactly one of `external_id`/`email`
/// (and of `conversation_id`/`customer_id`). Webhook URLs are also refused
/// for what they name (a private address, a user name) and replays for a
/// `since` that is neither a time nor an events cursor: rules the document
/// says in prose.
const CROSS_FIELD_RULES: &[&str] = &[
    "syncAgents",
    "putAgent",
    "putActionRules",
    "findCustomers",
    "createWebhook",
    "updateWebhook",
    "replayWebhook",
    "mintAgentLink",
];

/// Operations that send requests to an endpoint's URL: fuzzed in a run of
/// their own, with only an endpoint at a name that never resolves
/// (`.invalid`), so that no fuzzed URL is ever called.
const DELIVERING: &[&str] = &["testWebhook", "retryWebhookDelivery", "dispatchWebhooks"];

/// Operations whose `{id}` is a webhook endpoint's.
const WEBHOOK_ID: &[&str] = &[
    "getWebhook",
    "updateWebhook",
    "deleteWebhook",
    "rotateWebhookSecret",
    "listWebhookDeliveries",
    "replayWebhook",
];

/// Operations whose valid values only the app knows (a cursor it issued, a
/// time in the future): their coverage phase, which draws from the schema
/// alone, runs only negative cases; the fuzzing phase draws valid ones from
/// the dictionaries.
const APP_KNOWN_VALUES: &[&str] = &[
    "listAgents",
    "listAuditLogs",
    "listConversations",
    "listConversationMessages",
    "listEvents",
    "listVisitorMessages",
    "putVisibility",
    "putCustomerVisibility",
    // A visitor id minted for the site, an account id the app created.
    "widgetVisibility",
    "widgetIdentify",
    "startConversation",
    "mintAccountToken",
    "listWebhooks",
    "listWebhookDeliveries",
];

fn requirements() -> PathBuf {
    repo_root().join("tests/tests/api/schemathesis/requirements.txt")
}

/// The schemathesis version `requirements.txt` pins.
fn pinned_version() -> String {
    let text = std::fs::read_to_string(requirements()).expect("requirements.txt");
    text.lines()
        .find_map(|line| line.trim().strip_prefix("schemathesis=="))
        .expect("requirements.txt pins schemathesis==<version>")
        .to_string()
}

/// The `st` binary: `$EDGECHAT_SCHEMATHESIS`, else the virtualenv
/// `tests/run.sh` installs (`~/.cache/edgechat/schemathesis`); it must be the
/// pinned version, whose generator the run's determinism rests on.
fn schemathesis() -> PathBuf {
    let st = std::env::var_os("EDGECHAT_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME");
            Path::new(&home).join(".cache/edgechat/schemathesis/bin/st")
        });
    let pinned = pinned_version();
    let help = format!(
        "schemathesis {pinned} is needed: `bash tests/run.sh` installs it (or \
         `python3 -m venv ~/.cache/edgechat/schemathesis && \
         ~/.cache/edgechat/schemathesis/bin/pip install -r {}`, or set \
         EDGECHAT_SCHEMATHESIS to its `st`)",
        requirements().display()
    );
    let version = Command::new(&st)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}\n{help}", st.display()));
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(
        version.trim().ends_with(&format!("version {pinned}")),
        "{} is `{}`, not the pinned {pinned}\n{help}",
        st.display(),
        version.trim()
    );
    st
}

/// What the harness read from the app for the fuzzer.
struct Seeds {
    site_key: String,
    /// The fuzzed account's id.
    account: String,
    /// A visitor id minted for the site.
    visitor: String,
    conversation: String,
    visitor_token: String,
    /// Times in the future, for visibility overrides' `until`.
    future: Vec<String>,
    /// Per list operation: the cursors it answered.
    cursors: BTreeMap<&'static str, Vec<String>>,
    /// A webhook endpoint of the account (at a name that never resolves).
    webhook: String,
}

/// A few things to fuzz against (an agent, a tagged customer, a visitor's
/// conversation with a reply), and the cursors of every list.
fn seed(app: &App, api: &Client, account: &str, site_key: &str) -> Seeds {
    api.put(
        "/api/v1/agents/alice",
        &json!({"name": "Alice", "online": true, "available": true}),
    )
    .expect(201);
    api.put(
        "/api/v1/customers/john",
        &json!({"email": "john.doe@example.com", "firstname": "John", "id": 123}),
    )
    .expect(201);
    let minted = app
        .anonymous()
        .post("/v1/widget/visitors", &json!({ "site": site_key }))
        .expect(201)
        .json();
    let visitor_id = minted["visitor"].as_str().unwrap().to_string();
    let started = app
        .anonymous()
        .post(
            "/v1/widget/conversations",
            &json!({"site": site_key, "visitor": visitor_id, "text": "hello"}),
        )
        .expect(201)
        .json();
    let conversation = started["conversation_id"].as_str().unwrap().to_string();
    let visitor_token = started["visitor_token"].as_str().unwrap().to_string();
    let messages = format!("/api/v1/conversations/{conversation}/messages");
    api.post(&messages, &json!({"agent_id": "alice", "text": "hi"}))
        .expect(201);
    let visitor = app.anonymous().with_bearer(&visitor_token);
    let widget_messages = format!("/v1/widget/conversations/{conversation}/messages");
    let webhook = unresolvable_webhook(api);
    let webhook_deliveries = format!("/api/v1/webhooks/{webhook}/deliveries");

    let lists: [(&'static str, &Client, String); 8] = [
        ("listAgents", api, "/api/v1/agents".into()),
        ("listAuditLogs", api, "/api/v1/audit-logs".into()),
        ("listConversations", api, "/api/v1/conversations".into()),
        ("listConversationMessages", api, messages),
        ("listEvents", api, "/api/v1/events".into()),
        ("listVisitorMessages", &visitor, widget_messages),
        ("listWebhooks", api, "/api/v1/webhooks".into()),
        ("listWebhookDeliveries", api, webhook_deliveries),
    ];
    let mut cursors = BTreeMap::new();
    for (operation, client, path) in lists {
        // After the first item, and at the end (where a long-poll waits).
        let separator = if path.contains('?') { '&' } else { '?' };
        let first = client.get(&format!("{path}{separator}limit=1"));
        let end = client.get(&path);
        let found = [first, end]
            .iter()
            .map(|reply| reply.expect(200).next_cursor())
            .collect();
        cursors.insert(operation, found);
    }
    // Read off the server's own clock (an account's creation time).
    let now = api.get("/api/v1/tokens").expect(200).items()[0]["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let year: u32 = now[..4].parse().unwrap();
    let future = [1, 10]
        .iter()
        .map(|ahead| format!("{}-01-01T00:00:00Z", year + ahead))
        .collect();
    Seeds {
        future,
        site_key: site_key.to_string(),
        account: account.to_string(),
        visitor: visitor_id,
        conversation,
        visitor_token,
        cursors,
        webhook,
    }
}

/// An endpoint whose host never resolves (RFC 6761 `.invalid`): what the
/// delivering operations may send to.
fn unresolvable_webhook(api: &Client) -> String {
    let created = api
        .post(
            "/api/v1/webhooks",
            &json!({"url": "https://hooks.invalid/in"}),
        )
        .expect(201)
        .json();
    created["id"].as_str().unwrap().to_string()
}

/// A TOML basic string (a JSON string is one, for what is quoted here).
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| quoted(v)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The config of the main run: every operation but revoking a token.
fn main_config(api_token: &str, seeds: &Seeds) -> String {
    let mut toml = format!(
        r#"# Written by tests/tests/api/schemathesis.rs for one run.
[auth.openapi.apiToken]
bearer = {api}
[auth.openapi.adminToken]
bearer = {admin}
[auth.openapi.visitorToken]
bearer = {visitor}

[dictionaries]
site = {{ values = {site} }}
account = {{ values = {account} }}
visitor = {{ values = {visitor_id} }}
conversation = {{ values = {conversation} }}
agent = {{ values = ["alice"] }}
customer = {{ values = ["john"] }}
wait = {{ values = [0, 0.2] }}
until = {{ values = {until} }}

[parameters]
"query.site" = {{ dictionary = "site", probability = 0.9 }}
"body.site" = {{ dictionary = "site", probability = 0.9 }}
"path.account_id" = {{ dictionary = "account", probability = 1.0 }}
# Only ids minted for the site are visitor ids (a pattern cannot say so).
"query.visitor" = {{ dictionary = "visitor", probability = 1.0 }}
"body.visitor" = {{ dictionary = "visitor", probability = 1.0 }}
"path.id" = {{ dictionary = "conversation", probability = 0.7 }}
"path.agent_id" = {{ dictionary = "agent", probability = 0.5 }}
"path.customer_id" = {{ dictionary = "customer", probability = 0.5 }}
"query.wait" = {{ dictionary = "wait", probability = 1.0 }}
"body.until" = {{ dictionary = "until", probability = 1.0 }}

# A body refused for its size is refused, whatever is in it.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[[operations]]
include-operation-id = "revokeToken"
enabled = false
"#,
        api = quoted(api_token),
        admin = quoted(ADMIN_TOKEN),
        visitor = quoted(&seeds.visitor_token),
        site = list(std::slice::from_ref(&seeds.site_key)),
        account = list(std::slice::from_ref(&seeds.account)),
        visitor_id = list(std::slice::from_ref(&seeds.visitor)),
        conversation = list(std::slice::from_ref(&seeds.conversation)),
        until = list(&seeds.future),
    );
    for operation in DELIVERING {
        toml.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = {}\nenabled = false\n",
            quoted(operation)
        ));
    }
    toml.push_str(&format!(
        "\n[dictionaries.webhook]\nvalues = {}\n",
        list(std::slice::from_ref(&seeds.webhook))
    ));
    // One `[[operations]]` table per operation (the first that matches wins).
    let mut settings: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut parameters: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (operation, cursors) in &seeds.cursors {
        toml.push_str(&format!(
            "\n[dictionaries.cursors-{operation}]\nvalues = {}\n",
            list(cursors)
        ));
        parameters.entry(operation).or_default().push(format!(
            "\"query.cursor\" = {{ dictionary = \"cursors-{operation}\", probability = 1.0 }}"
        ));
    }
    for operation in WEBHOOK_ID {
        parameters
            .entry(operation)
            .or_default()
            .push("\"path.id\" = { dictionary = \"webhook\", probability = 0.7 }".to_string());
    }
    for (operation, lines) in parameters {
        settings
            .entry(operation)
            .or_default()
            .push(format!("parameters = {{ {} }}", lines.join(", ")));
    }
    // One line per operation, however many of the two lists name it.
    let allowed: std::collections::BTreeSet<&str> = IDEMPOTENT
        .iter()
        .chain(CROSS_FIELD_RULES)
        .copied()
        .collect();
    for operation in allowed {
        let mut refused = Vec::new();
        if IDEMPOTENT.contains(&operation) {
            refused.push("\"422\"");
        }
        if CROSS_FIELD_RULES.contains(&operation) {
            refused.push("\"400\"");
        }
        settings.entry(operation).or_default().push(format!(
            "checks.positive_data_acceptance.expected-statuses = [\"2xx\", \"401\", \"403\", \"404\", \"409\", {}]",
            refused.join(", ")
        ));
    }
    for operation in APP_KNOWN_VALUES {
        settings
            .entry(operation)
            .or_default()
            .push("phases.coverage.generation.mode = \"negative\"".into());
    }
    for (operation, lines) in settings {
        toml.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = {}\n{}\n",
            quoted(operation),
            lines.join("\n")
        ));
    }
    toml
}

/// The config of the revocation run: `DELETE /api/v1/tokens/{id}` alone,
/// with one id it may revoke (not its own).
fn revoke_config(api_token: &str, revocable: &str) -> String {
    format!(
        r#"# Written by tests/tests/api/schemathesis.rs for one run.
[auth.openapi.apiToken]
bearer = {api}

[dictionaries]
revocable = {{ values = [{revocable}] }}

[parameters]
"path.id" = {{ dictionary = "revocable", probability = 0.5 }}
"#,
        api = quoted(api_token),
        revocable = quoted(revocable),
    )
}

/// The config of the delivering run: test, retry and dispatch, as an
/// account whose only endpoint is at a name that never resolves, and the
/// operator.
fn delivering_config(api_token: &str, webhook: &str, delivery: &str) -> String {
    format!(
        r#"# Written by tests/tests/api/schemathesis.rs for one run.
[auth.openapi.apiToken]
bearer = {api}
[auth.openapi.adminToken]
bearer = {admin}

[dictionaries]
webhook = {{ values = [{webhook}] }}
delivery = {{ values = [{delivery}] }}
wait = {{ values = [0, 0.2] }}

[parameters]
"path.id" = {{ dictionary = "webhook", probability = 0.9 }}
"path.delivery_id" = {{ dictionary = "delivery", probability = 0.7 }}
"query.wait" = {{ dictionary = "wait", probability = 1.0 }}

# Dispatch works for `wait` seconds, up to 30 like a long-poll: generated
# cases draw it from {{0, 0.2}}; the coverage phase (whose boundary values
# would hold each case for 30 s) runs only negative cases.
[[operations]]
include-operation-id = "dispatchWebhooks"
phases.coverage.generation.mode = "negative"
"#,
        api = quoted(api_token),
        admin = quoted(ADMIN_TOKEN),
        webhook = quoted(webhook),
        delivery = quoted(delivery),
    )
}

/// One schemathesis run's outcome.
struct Outcome {
    passed: bool,
    output: String,
    /// Cases sent per operation ("METHOD /path").
    cases: BTreeMap<String, usize>,
    elapsed: Duration,
}

/// Runs `st run` on the document saved in `dir` against `base`.
fn run(st: &Path, dir: &Path, base: &str, name: &str, config: &str, args: &[&str]) -> Outcome {
    let config_file = dir.join(format!("{name}.toml"));
    std::fs::write(&config_file, config).unwrap();
    let report = dir.join(format!("{name}.ndjson"));
    let started = Instant::now();
    let mut child = Command::new(st)
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(dir.join("openapi.json"))
        .args(["--url", base])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .arg("--generation-deterministic")
        // One worker: with two, CPython 3.11's `ast.parse` (which hypothesis
        // calls to describe a filter) raced between threads and failed the
        // run with "AST constructor recursion depth mismatch".
        .args(["--workers", "1"])
        // Every finding, not only the first of each operation.
        .arg("--continue-on-failure")
        // Above the longest long-poll (30 s), for the coverage phase's `wait`.
        .args(["--request-timeout", "45"])
        .args(["--report", "ndjson"])
        .arg("--report-ndjson-path")
        .arg(&report)
        .arg("--no-color")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", st.display()));
    // Drain both pipes while waiting, so a chatty run never blocks on them.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).ok();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemathesis run `{name}` took longer than {RUN_DEADLINE:?}:\n{}",
                out.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = format!("{}{}", out.join().unwrap(), err.join().unwrap());
    Outcome {
        passed: status.success(),
        cases: cases_per_operation(&report),
        output,
        elapsed: started.elapsed(),
    }
}

/// Cases sent per operation, from the run's NDJSON event stream.
fn cases_per_operation(report: &Path) -> BTreeMap<String, usize> {
    let mut cases = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(report) else {
        return cases;
    };
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let recorder = &event["ScenarioFinished"]["recorder"];
        if let Some(label) = recorder["label"].as_str() {
            let sent = recorder["cases"].as_object().map_or(0, |c| c.len());
            *cases.entry(label.to_string()).or_default() += sent;
        }
    }
    cases
}

/// Each finding in schemathesis's output, one line apiece: the operation,
/// the check, and the request that shows it (the whole output is kept in
/// `target/schemathesis/<run>.log`).
fn findings(output: &str) -> String {
    let mut digest = String::new();
    let mut operation = "";
    let mut check = "";
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("___") && trimmed.ends_with("___") {
            operation = trimmed.trim_matches('_').trim();
        } else if trimmed.starts_with("- ST") {
            check = trimmed.trim_start_matches("- ");
        } else if trimmed.starts_with("curl ") && !check.is_empty() {
            let request: String = trimmed.chars().take(300).collect();
            digest.push_str(&format!("{operation}: {check}\n    {request}\n"));
            check = "";
        }
    }
    if let Some(start) = output.find("=== SUMMARY ===") {
        digest.push_str(&output[output[..start].rfind('\n').map_or(0, |n| n + 1)..]);
    }
    digest
}

/// Keeps a run's whole output under `target/schemathesis/`.
fn keep_log(name: &str, output: &str) -> PathBuf {
    let dir = repo_root().join("target/schemathesis");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.log"));
    std::fs::write(&file, output).unwrap();
    file
}

fn print_cases(name: &str, outcome: &Outcome) {
    let total: usize = outcome.cases.values().sum();
    eprintln!(
        "schemathesis `{name}`: {total} cases over {} operations in {:.0?}",
        outcome.cases.len(),
        outcome.elapsed
    );
    for (operation, count) in &outcome.cases {
        eprintln!("  {count:>6}  {operation}");
    }
}

#[test]
fn schemathesis_finds_nothing_the_document_and_the_server_disagree_on() {
    let st = schemathesis();
    let app = App::start();
    let fuzzed = app.tenant("Fuzzed");
    let revoker = app.tenant("Revoker");
    let seeds = seed(&app, &fuzzed.api, &fuzzed.id, &fuzzed.site_key);
    let revocable = revoker
        .api
        .post("/api/v1/tokens", &json!({"name": "revocable"}))
        .expect(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The document as served (schemathesis leaves out the operation it loads
    // the document from, so it reads a copy and fuzzes GET /openapi.json too).
    let dir = tempfile::tempdir().unwrap();
    let served = app.anonymous().get("/openapi.json");
    std::fs::write(dir.path().join("openapi.json"), &served.expect(200).body).unwrap();
    let document: Value = served.json();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            let methods = ["get", "put", "post", "delete", "patch"];
            methods.iter().filter(|m| item.get(**m).is_some()).count()
        })
        .sum();

    let main = run(
        &st,
        dir.path(),
        &app.host.base,
        "main",
        &main_config(&fuzzed.token, &seeds),
        &[],
    );
    print_cases("main", &main);
    let revoke = run(
        &st,
        dir.path(),
        &app.host.base,
        "revoke",
        &revoke_config(&revoker.token, &revocable),
        &["--include-operation-id", "revokeToken"],
    );
    print_cases("revoke", &revoke);
    // Nothing the main run registered may be called: only the revoker's
    // endpoint at `.invalid` remains for the delivering run.
    for endpoint in fuzzed
        .api
        .get("/api/v1/webhooks?limit=20")
        .expect(200)
        .items()
    {
        let id = endpoint["id"].as_str().unwrap();
        fuzzed
            .api
            .delete(&format!("/api/v1/webhooks/{id}"))
            .expect(204);
    }
    let webhook = unresolvable_webhook(&revoker.api);
    let delivery = revoker
        .api
        .post(&format!("/api/v1/webhooks/{webhook}/test"), &json!({}))
        .expect(200)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut only: Vec<&str> = Vec::new();
    for operation in DELIVERING {
        only.extend(["--include-operation-id", operation]);
    }
    let delivering = run(
        &st,
        dir.path(),
        &app.host.base,
        "delivering",
        &delivering_config(&revoker.token, &webhook, &delivery),
        &only,
    );
    print_cases("delivering", &delivering);

    let mut found = String::new();
    for (name, outcome) in [
        ("main", &main),
        ("revoke", &revoke),
        ("delivering", &delivering),
    ] {
        let log = keep_log(name, &outcome.output);
        if !outcome.passed {
            found.push_str(&format!(
                "run `{name}` (whole output in {}):\n{}\n",
                log.display(),
                findings(&outcome.output)
            ));
        }
    }
    assert!(found.is_empty(), "schemathesis found:\n{found}");
    // Every operation ran, with cases of its own.
    assert_eq!(
        main.cases.len() + revoke.cases.len() + delivering.cases.len(),
        operations,
        "operations fuzzed: {:?} {:?} {:?}",
        main.cases.keys(),
        revoke.cases.keys(),
        delivering.cases.keys()
    );
    assert!(main.cases.contains_key("GET /openapi.json"));
    for (operation, count) in main
        .cases
        .iter()
        .chain(&revoke.cases)
        .chain(&delivering.cases)
    {
        assert!(*count >= 1, "{operation} ran no case");
    }
    // Neither run could take its own credentials away.
    fuzzed.api.get("/api/v1/tokens").expect(200);
    revoker.api.get("/api/v1/tokens").expect(200);
}

// What schemathesis found where the document was right and the server too
// lax, each pinned down on its own.

#[test]
fn closing_a_conversation_takes_no_body_or_an_empty_object_and_refuses_fields() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let started = app
        .anonymous()
        .post(
            "/v1/widget/conversations",
            &json!({"site": tenant.site_key, "visitor": tenant.visitor("v"), "text": "hi"}),
        )
        .expect(201)
        .json();
    let close = format!(
        "/api/v1/conversations/{}/close",
        started["conversation_id"].as_str().unwrap()
    );
    let json = [("content-type", "application/json")];

    let fields = tenant
        .api
        .post(&close, &json!({"reason": "spam"}))
        .invalid_fields();
    assert_eq!(fields, ["reason"]);
    let fields = tenant
        .api
        .send("POST", &close, &json, Some(b"[null, null]"))
        .invalid_fields();
    assert_eq!(fields, ["body"]);
    // Refused means unchanged: the conversation is still open.
    let conversation = close.trim_end_matches("/close");
    assert_eq!(
        tenant.api.get(conversation).expect(200).json()["status"],
        "open"
    );

    let closed = tenant.api.send("POST", &close, &json, Some(b"{}"));
    assert_eq!(closed.expect(200).json()["status"], "closed");
    tenant.api.send("POST", &close, &[], None).expect(200);
}

#[test]
fn a_health_check_names_a_deep_it_does_not_know() {
    let app = App::start();
    let fields = app.anonymous().get("/healthz?deep=AAA").invalid_fields();
    assert_eq!(fields, ["deep"]);
    for deep in ["true", "1", "false", "0"] {
        let reply = app.anonymous().get(&format!("/healthz?deep={deep}"));
        assert_eq!(reply.expect(200).json()["kv"], "ok", "deep={deep}");
    }
}

#[test]
fn listing_agents_without_a_token_is_401_even_with_a_malformed_query() {
    let app = App::start();
    app.tenant("Acme");
    let reply = app.anonymous().get("/api/v1/agents?cursor=0.5&limit=0.5");
    reply.expect_problem(401);
}

#[test]
fn the_demo_page_measures_a_site_in_characters() {
    let app = App::start();
    let short = "%C3%A4".repeat(40); // "ä" 40 times: 80 bytes, 40 characters
    let reply = app.anonymous().get(&format!("/demo?site={short}"));
    reply.expect(200);
    let long = "a".repeat(65);
    let fields = app
        .anonymous()
        .get(&format!("/demo?site={long}"))
        .invalid_fields();
    assert_eq!(fields, ["site"]);
}
