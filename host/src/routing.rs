//! Matching a request path to a component, the way Spin's HTTP trigger does.
//!
//! Spin 3.6 and 4.0 route with the `routefinder` crate (0.5) behind
//! `crates/routes`; this module follows the same rules:
//!
//! - A route is a sequence of literal text, `:name` parameters (one path
//!   segment, or up to the next `.` when a `.` follows in the route) and an
//!   optional trailing wildcard, written `/...` (or `/*`). `/api/...` matches
//!   `/api` and everything below it.
//! - Before matching, Spin prefixes a missing leading `/` and drops one
//!   trailing `/` (`/a/` is `/a`, `/` is the empty route); the request path
//!   loses all its leading and trailing slashes, so `/a/` and `//a` match `/a`.
//! - Precedence: the routes are compared segment by segment from the left;
//!   at the first position where they differ in kind, literal text beats a
//!   parameter, which beats the wildcard. If one route is a prefix of the
//!   other, the one with more `.` separators goes first, then the shorter
//!   one (so `/a` beats `/a/...` for the path `/a`). Equal routes (`/:x`
//!   and `/:y`, `/a` and `/a/`) keep manifest order: the first wins.
//! - The same route text declared twice is one route, served by the last
//!   declaration (Spin logs the earlier ones as never used).
//!
//! Private components have no route.

use std::cmp::Ordering;

/// A route that matched, with the values Spin puts in its request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// Index of the component in the table the router was built from.
    pub component: usize,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: String,
    /// The route as Spin normalised it: leading `/` added, one trailing `/`
    /// removed, so `/` becomes empty (`spin-matched-route`).
    pub matched_route: String,
    /// The route as written without a trailing `/...`
    /// (`spin-component-route`).
    pub component_route: String,
    /// What the trailing wildcard matched, with a leading `/` and keeping a
    /// trailing `/` of the request path; empty for routes without a wildcard
    /// (`spin-path-info`).
    pub path_info: String,
    /// Each `:name` segment and the text it matched, in route order
    /// (`spin-path-match-<name>`).
    pub path_matches: Vec<(String, String)>,
}

impl RouteMatch {
    /// The match Spin makes up for a service-chaining request to
    /// `http://<component>.spin.internal<path>`: as if the component had the
    /// route `/...`.
    pub fn synthetic(component: usize, path: &str) -> RouteMatch {
        RouteMatch {
            component,
            raw_route: "/...".into(),
            matched_route: "/...".into(),
            component_route: String::new(),
            path_info: path.to_string(),
            path_matches: Vec::new(),
        }
    }

    /// The route's request headers, as `(name, value)`: `spin-path-info`,
    /// `spin-matched-route`, `spin-component-route`,
    /// `spin-raw-component-route` and one `spin-path-match-<name>` for each
    /// named segment.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![
            ("spin-path-info".to_string(), self.path_info.clone()),
            ("spin-matched-route".to_string(), self.matched_route.clone()),
            (
                "spin-component-route".to_string(),
                self.component_route.clone(),
            ),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.clone(),
            ),
        ];
        for (name, value) in &self.path_matches {
            headers.push((path_match_header(name), value.clone()));
        }
        headers
    }
}

/// The header that carries segment `:name`: Spin names it
/// `SPIN_PATH_MATCH_<NAME>` and sends it as lower-case with `-` for `_`.
pub fn path_match_header(name: &str) -> String {
    format!(
        "spin-path-match-{}",
        name.to_ascii_lowercase().replace('_', "-")
    )
}

/// One piece of a parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A `/` between two other pieces.
    Slash,
    /// A `.` that does not follow literal text (after a parameter, say).
    Dot,
    /// Text that must appear as is (a `.` after literal text joins it).
    Literal(String),
    /// `:name`.
    Param(String),
    /// The trailing wildcard.
    Wildcard,
}

#[derive(Debug)]
struct Route {
    /// As written in the manifest.
    raw: String,
    /// Normalised (`spin-matched-route`).
    based: String,
    segments: Vec<Segment>,
    component: usize,
}

/// The route table, kept in precedence order.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Adds a route (as written in the manifest) for component `component`.
    /// Declaring the same route text again hands it to the new component.
    /// An invalid route is skipped with a log line; `Manifest::parse` refuses
    /// those before a router is built (see [`check`]).
    pub fn add(&mut self, raw: &str, component: usize) {
        if let Some(existing) = self.routes.iter_mut().find(|r| r.raw == raw) {
            existing.component = component;
            return;
        }
        let based = normalise(raw);
        let segments = match parse(&based) {
            Ok(segments) => segments,
            Err(e) => {
                eprintln!("route '{raw}' skipped: {e}");
                return;
            }
        };
        let route = Route {
            raw: raw.to_string(),
            based,
            segments,
            component,
        };
        // Before the first route it outranks; after every route it ties with.
        let at = self
            .routes
            .iter()
            .position(|r| precedence(&route.segments, &r.segments) == Ordering::Less)
            .unwrap_or(self.routes.len());
        self.routes.insert(at, route);
    }

    /// The route that serves `path` (the request URI's path, undecoded), if any.
    pub fn find(&self, path: &str) -> Option<RouteMatch> {
        self.routes.iter().find_map(|route| {
            let captures = matches(&route.segments, path)?;
            let path_info = match captures.wildcard {
                None => String::new(),
                // Spin keeps the request path's trailing slash in path-info.
                Some(rest) => match (rest.is_empty(), path.ends_with('/')) {
                    (true, false) => String::new(),
                    (true, true) => "/".to_string(),
                    (false, false) => format!("/{rest}"),
                    (false, true) => format!("/{rest}/"),
                },
            };
            Some(RouteMatch {
                component: route.component,
                raw_route: route.raw.clone(),
                matched_route: route.based.clone(),
                component_route: route
                    .raw
                    .strip_suffix("/...")
                    .unwrap_or(&route.raw)
                    .to_string(),
                path_info,
                path_matches: captures
                    .params
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect(),
            })
        })
    }
}

/// Whether Spin accepts `raw` as a route; the error says why not.
pub fn check(raw: &str) -> Result<(), String> {
    parse(&normalise(raw)).map(|_| ())
}

/// The prefix under which Spin answers requests itself
/// (`/.well-known/spin/health`, `/info`): routes there are never reached.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The route as Spin's router sees it (`spin-matched-route`): a leading `/`
/// added if missing, then one trailing `/` removed.
pub fn normalise(raw: &str) -> String {
    let absolute = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    match absolute.strip_suffix('/') {
        Some(stripped) => stripped.to_string(),
        None => absolute,
    }
}

/// Parses a normalised route into segments.
fn parse(based: &str) -> Result<Vec<Segment>, String> {
    // `/...` is Spin's spelling of the wildcard; `/*` is routefinder's.
    let spec = match based.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/*"),
        None => based.to_string(),
    };
    let body = spec.trim_matches('/');
    let mut segments: Vec<Segment> = Vec::new();
    let mut separator = None;
    let mut rest = body;
    loop {
        let end = rest.find(['.', '/']).unwrap_or(rest.len());
        let section = &rest[..end];
        let segment = if section == "*" {
            Some(Segment::Wildcard)
        } else if section.starts_with('*') {
            return Err(format!(
                "'{section}': a wildcard has no name (use '/...' at the end of the route)"
            ));
        } else if section == ":" {
            return Err("a ':' parameter needs a name, as in '/:id'".to_string());
        } else if let Some(name) = section.strip_prefix(':') {
            Some(Segment::Param(name.to_string()))
        } else if section.is_empty() {
            None
        } else {
            Some(Segment::Literal(section.to_string()))
        };
        if separator == Some('.') {
            match segments.last_mut() {
                Some(Segment::Literal(text)) => text.push('.'),
                _ => segments.push(Segment::Dot),
            }
        }
        if let Some(segment) = segment {
            if separator == Some('/') {
                segments.push(Segment::Slash);
            }
            segments.push(segment);
        }
        if end == rest.len() {
            break;
        }
        separator = rest[end..].chars().next();
        rest = &rest[end + 1..];
    }
    // Spin's router panics on requests that reach a wildcard with more route
    // after it, so such a route can never serve: refuse it up front.
    if let Some(at) = segments.iter().position(|s| *s == Segment::Wildcard)
        && at + 1 != segments.len()
    {
        return Err("a wildcard ('*' or '...') may only end a route, as '/...'".to_string());
    }
    Ok(segments)
}

/// What a route captured from a path.
struct Captures<'r, 'p> {
    params: Vec<(&'r str, &'p str)>,
    wildcard: Option<&'p str>,
}

/// Matches `path` against a route's segments.
fn matches<'r, 'p>(segments: &'r [Segment], path: &'p str) -> Option<Captures<'r, 'p>> {
    let mut rest = path.trim_matches('/');
    let mut captures = Captures {
        params: Vec::new(),
        wildcard: None,
    };
    for (i, segment) in segments.iter().enumerate() {
        let next = segments.get(i + 1);
        match segment {
            Segment::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
            Segment::Param(name) => {
                if rest.is_empty() {
                    return None;
                }
                let end = match next {
                    Some(Segment::Dot) => {
                        // Up to the next `.`, which must come before any `/`.
                        let end = rest.find(['.', '/'])?;
                        if !rest[end..].starts_with('.') {
                            return None;
                        }
                        end
                    }
                    _ => rest.find('/').unwrap_or(rest.len()),
                };
                captures.params.push((name, &rest[..end]));
                rest = &rest[end..];
            }
            Segment::Wildcard => {
                captures.wildcard = Some(rest);
                rest = "";
            }
            Segment::Slash => match (rest.strip_prefix('/'), next) {
                (Some(after), Some(_)) => rest = after,
                // `/api/...` matches `/api` itself.
                (None, Some(Segment::Wildcard)) if rest.is_empty() => {}
                _ => return None,
            },
            Segment::Dot => rest = rest.strip_prefix('.')?,
        }
    }
    (rest.is_empty() || rest == "/").then_some(captures)
}

/// `Less` when route `a` is tried before route `b`, `Equal` when they tie
/// (then the one added first is tried first).
fn precedence(a: &[Segment], b: &[Segment]) -> Ordering {
    let dots = |s: &[Segment]| s.iter().filter(|s| **s == Segment::Dot).count();
    a.iter()
        .zip(b)
        .map(|(x, y)| outranks(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| dots(a).cmp(&dots(b)).then(b.len().cmp(&a.len())))
        .reverse()
}

/// How segment `a` compares with segment `b` at the same position
/// (`Greater`: `a` is more specific). routefinder's table, including its
/// quirk that a `.` outranks everything but a `/`.
fn outranks(a: &Segment, b: &Segment) -> Ordering {
    use Segment::*;
    match (a, b) {
        (Literal(_), Literal(_)) | (Param(_), Param(_)) | (Wildcard, Wildcard) => Ordering::Equal,
        (Slash | Dot, Slash | Dot) => Ordering::Equal,
        (Dot | Literal(_), _) => Ordering::Greater,
        (Param(_), Literal(_)) => Ordering::Less,
        (Param(_), _) => Ordering::Greater,
        (Wildcard, Literal(_) | Param(_)) => Ordering::Less,
        (Wildcard, _) => Ordering::Greater,
        (Slash, _) => Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut router = Router::default();
        router.add("/api/...", 0);
        router.add("/api/v1/...", 1);
        router.add("/api/v1/exact", 2);
        router.add("/healthz", 3);
        router
    }

    fn component(path: &str) -> Option<usize> {
        router().find(path).map(|m| m.component)
    }

    fn table(routes: &[&str]) -> Router {
        let mut router = Router::default();
        for (i, route) in routes.iter().enumerate() {
            router.add(route, i);
        }
        router
    }

    /// The route (as written) that serves `path`.
    fn winner<'a>(routes: &[&'a str], path: &str) -> Option<&'a str> {
        Some(routes[table(routes).find(path)?.component])
    }

    #[test]
    fn the_most_specific_route_wins() {
        assert_eq!(component("/api/v1/exact"), Some(2));
        assert_eq!(component("/api/v1/exact/below"), Some(1));
        assert_eq!(component("/api/v1/other"), Some(1));
        assert_eq!(component("/api/v2"), Some(0));
        assert_eq!(component("/api"), Some(0));
    }

    #[test]
    fn wildcards_match_whole_segments_only() {
        assert_eq!(component("/apiary"), None);
        assert_eq!(component("/healthzz"), None);
        assert_eq!(component("/nothing"), None);
    }

    #[test]
    fn path_info_is_the_part_below_the_route() {
        let m = router().find("/api/v1/agents/7").unwrap();
        assert_eq!(m.path_info, "/agents/7");
        assert_eq!(m.component_route, "/api/v1");
        assert_eq!(m.raw_route, "/api/v1/...");
        assert_eq!(m.matched_route, "/api/v1/...");
        assert_eq!(router().find("/healthz").unwrap().path_info, "");
    }

    #[test]
    fn path_info_keeps_the_request_paths_trailing_slash() {
        let router = table(&["/test/..."]);
        let info = |path: &str| router.find(path).unwrap().path_info;
        assert_eq!(info("/test"), "");
        assert_eq!(info("/test/"), "/");
        assert_eq!(info("/test/hello"), "/hello");
        assert_eq!(info("/test/hello/"), "/hello/");
        assert_eq!(info("/test/a//b"), "/a//b");
    }

    #[test]
    fn a_root_wildcard_catches_everything() {
        let router = table(&["/..."]);
        let m = router.find("/any/thing").unwrap();
        assert_eq!(m.path_info, "/any/thing");
        assert_eq!(m.component_route, "");
        assert_eq!(m.matched_route, "/...");
        assert_eq!(router.find("/").unwrap().path_info, "/");
    }

    #[test]
    fn named_segments_are_captured() {
        let router = table(&["/users/:userid/posts/:postid"]);
        let m = router.find("/users/42/posts/7").unwrap();
        assert_eq!(
            m.path_matches,
            vec![
                ("userid".to_string(), "42".to_string()),
                ("postid".to_string(), "7".to_string())
            ]
        );
        assert_eq!(m.path_info, "");
        assert_eq!(m.component_route, "/users/:userid/posts/:postid");
        assert!(router.find("/users/42/posts").is_none());
        assert!(router.find("/users/42/posts/7/8").is_none());
        // routefinder lets a parameter match an empty segment.
        let m = router.find("/users//posts/7").unwrap();
        assert_eq!(m.path_matches[0], ("userid".into(), "".into()));
    }

    #[test]
    fn a_named_segment_before_a_wildcard() {
        // Spin's own example: route `/foo/:userid/...`, path `/foo/42/bar`.
        let router = table(&["/foo/:userid/..."]);
        let m = router.find("/foo/42/bar").unwrap();
        assert_eq!(m.path_matches, vec![("userid".into(), "42".into())]);
        assert_eq!(m.path_info, "/bar");
        assert_eq!(m.matched_route, "/foo/:userid/...");
        assert_eq!(m.raw_route, "/foo/:userid/...");
        assert_eq!(m.component_route, "/foo/:userid");
        let m = router.find("/foo/42").unwrap();
        assert_eq!(m.path_info, "");
        assert!(router.find("/foo").is_none());
    }

    #[test]
    fn a_named_segment_can_stop_at_a_dot() {
        let router = table(&["/files/:name.json"]);
        let m = router.find("/files/report.json").unwrap();
        assert_eq!(m.path_matches, vec![("name".into(), "report".into())]);
        assert!(router.find("/files/report").is_none());
        assert!(router.find("/files/report.txt").is_none());
        // Literal text with dots is literal.
        let router = table(&["/v1.2/status"]);
        assert!(router.find("/v1.2/status").is_some());
        assert!(router.find("/v1/2/status").is_none());
    }

    #[test]
    fn literal_beats_parameter_beats_wildcard_segment_by_segment() {
        let routes = ["/users/...", "/users/:id", "/users/me", "/:any/posts"];
        assert_eq!(winner(&routes, "/users/me"), Some("/users/me"));
        assert_eq!(winner(&routes, "/users/42"), Some("/users/:id"));
        assert_eq!(winner(&routes, "/users/42/x"), Some("/users/..."));
        assert_eq!(winner(&routes, "/users"), Some("/users/..."));
        // The leftmost difference decides: `users` (literal) beats `:any`.
        assert_eq!(winner(&routes, "/users/posts"), Some("/users/:id"));
        assert_eq!(winner(&routes, "/teams/posts"), Some("/:any/posts"));
        // ... whatever the order the manifest gives them in.
        let reversed = ["/:any/posts", "/users/me", "/users/:id", "/users/..."];
        assert_eq!(winner(&reversed, "/users/42"), Some("/users/:id"));
        assert_eq!(winner(&reversed, "/users/me"), Some("/users/me"));
    }

    #[test]
    fn an_exact_route_beats_a_wildcard_for_the_same_path() {
        assert_eq!(winner(&["/...", "/one"], "/one"), Some("/one"));
        assert_eq!(winner(&["/one/...", "/one"], "/one"), Some("/one"));
        assert_eq!(winner(&["/...", "/"], "/"), Some("/"));
        assert_eq!(winner(&["/a/...", "/a/b/..."], "/a/b/c"), Some("/a/b/..."));
    }

    #[test]
    fn tied_routes_go_to_the_first_declared() {
        assert_eq!(winner(&["/:x", "/:y"], "/v"), Some("/:x"));
        assert_eq!(winner(&["/:y", "/:x"], "/v"), Some("/:y"));
        assert_eq!(winner(&["/a", "/a/"], "/a"), Some("/a"));
        assert_eq!(winner(&["/a/", "/a"], "/a"), Some("/a/"));
    }

    #[test]
    fn the_same_route_declared_twice_goes_to_the_last() {
        let mut router = Router::default();
        router.add("/foo", 0);
        router.add("/foo", 1);
        assert_eq!(router.find("/foo").unwrap().component, 1);
        assert_eq!(router.routes.len(), 1);
    }

    #[test]
    fn routes_and_paths_are_normalised_like_spin() {
        // One trailing slash of a route goes; a missing leading one is added.
        assert_eq!(normalise("/"), "");
        assert_eq!(normalise("/foo/"), "/foo");
        assert_eq!(normalise("foo"), "/foo");
        assert_eq!(normalise("/foo//"), "/foo/");
        let router = table(&["/foo/", "bar", "/"]);
        let m = router.find("/foo").unwrap();
        assert_eq!(m.raw_route, "/foo/");
        assert_eq!(m.matched_route, "/foo");
        assert_eq!(m.component_route, "/foo/");
        assert_eq!(router.find("//foo//").unwrap().raw_route, "/foo/");
        assert_eq!(router.find("/bar").unwrap().matched_route, "/bar");
        let root = router.find("/").unwrap();
        assert_eq!(
            (root.raw_route.as_str(), root.matched_route.as_str()),
            ("/", "")
        );
        assert!(router.find("/foobar").is_none());
    }

    #[test]
    fn a_star_suffix_is_a_wildcard_too() {
        let router = table(&["/static/*"]);
        let m = router.find("/static/css/site.css").unwrap();
        assert_eq!(m.path_info, "/css/site.css");
        // Only `/...` is cut from spin-component-route.
        assert_eq!(m.component_route, "/static/*");
        assert_eq!(m.matched_route, "/static/*");
    }

    #[test]
    fn spin_refuses_unnamed_parameters_and_named_wildcards() {
        assert!(check("/a/:/b").unwrap_err().contains("name"));
        assert!(check("/a/*rest").unwrap_err().contains("wildcard"));
        assert!(check("/a/*/b").unwrap_err().contains("end"));
        assert!(check("/a/*/...").is_err());
        for ok in ["/", "", "/...", "/a/:b/...", "a", "/a/.../b", "/a.b", "/a*"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        // `...` not at the end is text, and (routefinder's parsing) the dots
        // join the text before them: `/a/.../b` serves `/a.../b`.
        let router = table(&["/a/.../b"]);
        assert!(router.find("/a.../b").is_some());
        assert!(router.find("/a/.../b").is_none());
    }

    #[test]
    fn path_match_headers_are_lower_kebab() {
        assert_eq!(path_match_header("userid"), "spin-path-match-userid");
        assert_eq!(path_match_header("user_id"), "spin-path-match-user-id");
        assert_eq!(path_match_header("userId"), "spin-path-match-userid");
        let m = table(&["/u/:user_id/..."]).find("/u/7/x").unwrap();
        let headers = m.headers();
        assert!(headers.contains(&("spin-path-match-user-id".into(), "7".into())));
        assert!(headers.contains(&("spin-path-info".into(), "/x".into())));
        assert!(headers.contains(&("spin-matched-route".into(), "/u/:user_id/...".into())));
        assert!(headers.contains(&("spin-component-route".into(), "/u/:user_id".into())));
        assert!(headers.contains(&("spin-raw-component-route".into(), "/u/:user_id/...".into())));
    }

    #[test]
    fn service_chaining_matches_as_a_root_wildcard() {
        let m = RouteMatch::synthetic(3, "/some/path");
        assert_eq!(m.component, 3);
        assert_eq!(m.path_info, "/some/path");
        assert_eq!(m.raw_route, "/...");
        assert_eq!(m.matched_route, "/...");
        assert_eq!(m.component_route, "");
        assert!(m.path_matches.is_empty());
    }
}
