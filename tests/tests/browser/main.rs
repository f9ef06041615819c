//! The widget in a real browser: starts the host with a fresh account, then
//! runs `node --test tests/browser/` (Debian's chromium driven by
//! playwright-core; `tests/run.sh` installs both) against it, and passes or
//! fails with it. Screenshots land in `tests/artifacts/`.

use edgechat_tests::{ADMIN_TOKEN, HostOptions, json, repo_root};
use std::process::Command;

#[test]
fn the_widget_works_in_a_real_browser() {
    let dir = repo_root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci` in tests/browser (tests/run.sh does)"
    );
    let host = HostOptions::app().start();
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
