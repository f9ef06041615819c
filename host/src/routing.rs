//! Matching a request path to a component, the way Spin's HTTP trigger does.
//!
//! Routes are exact (`/healthz`) or wildcards (`/api/...`, which matches `/api`
//! and everything below it). An exact match beats any wildcard; among
//! wildcards the longest prefix wins. Private components have no route.

/// A route that matched, with the values Spin puts in its request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// Index of the component in the table the router was built from.
    pub component: usize,
    /// The route as written in the manifest (`spin-raw-component-route`,
    /// `spin-matched-route`).
    pub raw_route: String,
    /// The route without its wildcard (`spin-component-route`).
    pub component_route: String,
    /// The part of the path below the route (`spin-path-info`).
    pub path_info: String,
}

#[derive(Debug)]
struct Route {
    raw: String,
    prefix: String,
    wildcard: bool,
    component: usize,
}

/// The route table.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Adds a route (as written in the manifest) for component `component`.
    pub fn add(&mut self, raw: &str, component: usize) {
        let (prefix, wildcard) = match raw.strip_suffix("/...") {
            Some(prefix) => (prefix.to_string(), true),
            None => (normalise(raw).to_string(), false),
        };
        self.routes.push(Route {
            raw: raw.to_string(),
            prefix,
            wildcard,
            component,
        });
    }

    /// The most specific route for `path`, if any.
    pub fn find(&self, path: &str) -> Option<RouteMatch> {
        let path = normalise(path);
        let exact = self.routes.iter().find(|r| !r.wildcard && r.prefix == path);
        let best = exact.or_else(|| {
            self.routes
                .iter()
                .filter(|r| r.wildcard && is_under(path, &r.prefix))
                .max_by_key(|r| r.prefix.len())
        })?;
        let path_info = if best.wildcard {
            path[best.prefix.len()..].to_string()
        } else {
            String::new()
        };
        Some(RouteMatch {
            component: best.component,
            raw_route: best.raw.clone(),
            component_route: best.prefix.clone(),
            path_info,
        })
    }
}

/// `/a/` and `/a` are the same route.
fn normalise(path: &str) -> &str {
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

/// Whether `path` is `prefix` itself or a path below it (segment-wise, so that
/// `/apiary` is not under `/api`).
fn is_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
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
        assert_eq!(router().find("/healthz").unwrap().path_info, "");
    }

    #[test]
    fn a_root_wildcard_catches_everything() {
        let mut router = Router::default();
        router.add("/...", 0);
        let m = router.find("/any/thing").unwrap();
        assert_eq!(m.path_info, "/any/thing");
        assert_eq!(m.component_route, "");
    }
}
