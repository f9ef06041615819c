use crate::App;

#[test]
fn widget_js_is_one_small_cacheable_script() {
    let app = App::start();
    let reply = app.public().get("/widget.js");
    reply.expect(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        reply
            .header("cache-control")
            .is_some_and(|c| c.contains("max-age"))
    );
    assert!(reply.body.contains("attachShadow"));
    let etag = reply.header("etag").expect("etag").to_string();
    app.public()
        .send("GET", "/widget.js", &[("if-none-match", &etag)], None)
        .expect(304);

    // The budget: loader plus widget ≤ 20 KB gzipped.
    let mut gzip = std::process::Command::new("gzip")
        .args(["-9c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    use std::io::Write;
    gzip.stdin
        .take()
        .unwrap()
        .write_all(reply.body.as_bytes())
        .unwrap();
    let gzipped = gzip.wait_with_output().unwrap().stdout.len();
    println!(
        "widget.js: {} bytes, {gzipped} bytes gzipped (budget 20480)",
        reply.body.len()
    );
    assert!(gzipped <= 20 * 1024, "widget.js is {gzipped} bytes gzipped");
}

#[test]
fn the_demo_page_embeds_the_widget() {
    let app = App::start();
    let reply = app.public().get("/demo?site=site_000000000000000000000000");
    reply.expect(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(reply.body.contains("/demo.js"));
    let script = app.public().get("/demo.js");
    assert!(script.expect(200).body.contains("/widget.js"));
    let reply = app.public().send("POST", "/demo", &[], None);
    reply.expect_problem(405);
}

/// The demo page runs only our scripts, cannot be framed (clickjacking) and
/// does not leak its URL, which carries the site key, as a referrer. (The
/// browser suite checks that the widget works under this policy.)
#[test]
fn the_demo_page_is_locked_down() {
    let app = App::start();
    let reply = app.public().get("/demo?site=site_000000000000000000000000");
    reply.expect(200);
    let csp = reply.header("content-security-policy").unwrap_or_default();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(directives.contains(&directive), "{directive} in {csp:?}");
    }
    assert!(
        !reply.body.contains("<script>"),
        "no inline script: the CSP would block it"
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}
