//! The HTML this component answers: the chat page and the notices a person
//! sees instead of JSON (a refused link, an ended session).

use spin_sdk::http::Response;

/// The chat page's template (`{{conversation}}`, `{{csrf}}`).
const PAGE: &str = include_str!("../assets/page.html");

/// Scripts, styles and calls only from this origin; nothing inline, no
/// framing, no forms posting anywhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML response with the page headers every answer here carries.
pub fn response(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("cache-control", "no-store")
        .body(body.into_bytes())
        .build()
}

/// The chat page for one conversation of the session.
pub fn page(conversation: &str, csrf: &str) -> Response {
    let body = PAGE
        .replace("{{conversation}}", &escape(conversation))
        .replace("{{csrf}}", &escape(csrf));
    response(200, body)
}

/// A page that says what happened and what to do.
pub fn notice(status: u16, title: &str, what: &str, next: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · edgechat</title>\n<link rel=\"stylesheet\" href=\"/agent/app.css\">\n\
         </head>\n<body class=\"notice\">\n<main>\n<h1>{title}</h1>\n<p>{what}</p>\n\
         <p class=\"next\">{next}</p>\n<p class=\"code\">HTTP {status}</p>\n</main>\n</body>\n</html>\n",
        title = escape(title),
        what = escape(what),
        next = escape(next),
    );
    response(status, body)
}
