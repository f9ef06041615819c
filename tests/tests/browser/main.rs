//! The widget and the agent page in a real browser: starts the host with a fresh account, then
//! runs a file of `tests/browser/` with `node --test` (Debian's chromium
//! driven by playwright-core; `tests/run.sh` installs both) against it, and
//! passes or fails with it. Screenshots land in `tests/artifacts/`.

use edgechat_tests::{ADMIN_TOKEN, HostOptions, json, repo_root};
use std::process::Command;

#[test]
fn the_widget_works_in_a_real_browser() {
    run_browser_tests("widget.test.mjs", HostOptions::app());
}

#[test]
fn the_widget_backs_off_when_the_server_is_busy() {
    // One long-poll may wait per account: a second chat is turned away.
    let options = HostOptions::app().env("SPIN_VARIABLE_LONG_POLL_SLOTS_PER_ACCOUNT", "1");
    run_browser_tests("busy.test.mjs", options);
}

#[test]
fn an_agent_answers_from_the_agent_page_in_a_real_browser() {
    run_browser_tests("agent.test.mjs", HostOptions::app());
}

fn run_browser_tests(file: &str, options: HostOptions) {
    let dir = repo_root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci` in tests/browser (tests/run.sh does)"
    );
    let host = options.start();
    let created = host
        .client()
        .with_bearer(ADMIN_TOKEN)
        .post("/api/v1/accounts", &json!({"name": "Browser test shop"}))
        .expect(201)
        .json();
    let artifacts = repo_root().join("tests/artifacts");
    let output = Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg(file)
        .current_dir(&dir)
        .env("EDGECHAT_BASE", &host.base)
        .env("EDGECHAT_SITE", created["site_key"].as_str().unwrap())
        .env("EDGECHAT_TOKEN", created["api_token"].as_str().unwrap())
        .env("EDGECHAT_ARTIFACTS", &artifacts)
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "the browser tests failed:\n{stdout}\n{stderr}\nhost log:\n{}",
        host.log()
    );
}
