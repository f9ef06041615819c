//! Issue 5, the widget: the size of `/widget.js` as served, gzipped, against
//! its 20 KB budget, and the throughput of the visibility check every page
//! view makes.

use super::{BoxFuture, Check, FIRST, Findings, Scenario, Server, Target, json_request, request};
use crate::load::{Call, MakeRequest};
use anyhow::{Context, Result, bail};
use hyper::Method;
use serde_json::json;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// The budget of `tests/tests/widget/assets.rs`: 20 KiB gzipped (`gzip -9`).
const MAX_GZIPPED_BYTES: usize = 20 * 1024;
/// Visitors the visibility check rotates through.
const VISITORS: usize = 1_000;

pub fn scenarios(main: Server) -> Vec<Scenario> {
    vec![
        Scenario::probe(
            "widget-js",
            "GET /widget.js: bytes served and gzip -9 size",
            main,
            widget_js,
        ),
        Scenario::load(
            "widget-visibility",
            "GET /v1/widget/visibility?site=&visitor=: the check every page view makes",
            main,
            visibility,
        ),
    ]
}

fn widget_js(target: Target) -> BoxFuture<Result<Findings>> {
    Box::pin(async move {
        let script = target.call(request(Method::GET, "/widget.js")).await?;
        let gzipped = gzip_len(&script).await?;
        let mut findings = Findings::default();
        findings.lines.push(format!(
            "widget.js: {} bytes served, {gzipped} bytes with gzip -9 (budget {MAX_GZIPPED_BYTES})",
            script.len()
        ));
        findings.checks.push(Check {
            what: format!(
                "widget.js {:.1} KiB gzipped (target <= {} KiB)",
                gzipped as f64 / 1024.0,
                MAX_GZIPPED_BYTES / 1024
            ),
            met: gzipped <= MAX_GZIPPED_BYTES,
        });
        Ok(findings)
    })
}

/// The length of `data` through `gzip -9c`, as the widget's e2e test measures it.
async fn gzip_len(data: &[u8]) -> Result<usize> {
    let mut gzip = tokio::process::Command::new("gzip")
        .arg("-9c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run gzip")?;
    let mut stdin = gzip.stdin.take().context("no stdin for gzip")?;
    let data = data.to_vec();
    // Written from a task: gzip's output is read at the same time.
    let writer = tokio::spawn(async move { stdin.write_all(&data).await });
    let output = gzip.wait_with_output().await.context("gzip failed")?;
    writer.await.context("the gzip writer panicked")??;
    if !output.status.success() {
        bail!("gzip exited with {}", output.status);
    }
    Ok(output.stdout.len())
}

fn visibility(target: Target) -> BoxFuture<Result<MakeRequest>> {
    Box::pin(async move {
        let account = target.account("bench visibility").await?;
        // Show the widget to everyone: the answer then reads the override too.
        target
            .call(json_request(
                Method::PUT,
                "/api/v1/visibility",
                Some(&account.token),
                &json!({ "mode": "show" }),
            ))
            .await?;
        let site = account.site_key;
        let visitors = target.visitors(&site, VISITORS).await?;
        let connections = target.options.concurrency as u64;
        let make: MakeRequest = Arc::new(move |call: Call| {
            let visitor = &visitors
                [((call.n * connections + call.connection as u64) % VISITORS as u64) as usize];
            request(
                Method::GET,
                &format!(
                    "/v1/widget/visibility?site={site}&visitor={visitor}&time_on_page=3&visit=1"
                ),
            )
        });
        let answer = target.call_json(make(FIRST)).await?;
        if answer["visible"] != json!(true) {
            bail!("expected a visible widget, got {answer}");
        }
        Ok(make)
    })
}
