//! No plaintext API token (or configured secret) anywhere in the state.

use crate::App;
use edgechat_tests::{ADMIN_TOKEN, json};
use std::path::Path;

fn state_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("state dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(state_bytes(&path));
        } else {
            files.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn no_plaintext_token_is_stored() {
    let app = App::start();
    let tenant = app.tenant("Acme");
    let mut secrets = vec![
        tenant.token.clone(),
        ADMIN_TOKEN.to_string(),
        "test-signing-key".to_string(),
    ];
    let minted = tenant
        .api
        .post("/api/v1/tokens", &json!({"name": "crm"}))
        .expect(201)
        .json();
    secrets.push(minted["token"].as_str().unwrap().to_string());
    // Idempotent creations store their response for replay: sealed, not plain.
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "k-1"),
    ];
    let replayable = tenant.api.send(
        "POST",
        "/api/v1/tokens",
        &headers,
        Some(br#"{"name":"ci"}"#),
    );
    secrets.push(
        replayable.expect(201).json()["token"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let account = app.admin().send(
        "POST",
        "/api/v1/accounts",
        &[
            ("content-type", "application/json"),
            ("idempotency-key", "acct-1"),
        ],
        Some(br#"{"name":"Other"}"#),
    );
    secrets.push(
        account.expect(201).json()["api_token"]
            .as_str()
            .unwrap()
            .to_string(),
    );

    if edgechat_tests::kv_is_redis() {
        eprintln!("the state-file scan is for SQLite; this run is on Redis");
        return;
    }
    let files = state_bytes(&app.host.state_dir);
    assert!(
        files.iter().any(|(_, bytes)| contains(bytes, &tenant.id)),
        "the state was not found in {:?}",
        files.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    for (name, bytes) in &files {
        for secret in &secrets {
            // The random part alone must not appear either.
            assert!(
                !contains(bytes, &secret[secret.len().min(3)..]),
                "{name} holds a secret"
            );
        }
    }
}
