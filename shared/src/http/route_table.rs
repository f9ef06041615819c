//! A component's routes as data: one line per path with its methods and
//! handlers. The table alone decides what a request gets: the handler, a 405
//! whose `Allow` lists the path's methods, or a 404 — nobody keeps those
//! lists by hand.
//!
//! Paths are literal segments and `:name` segments (one non-empty segment,
//! captured as `name`), as in spin-sdk's router: `/api/v1/agents/:agent_id`.
//! The first route whose pattern matches wins. The table is generic over the
//! handler type so that it is tested here without Spin; the components use it
//! through `spin_http::serve`.

/// An HTTP method a route may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// `DELETE`
    Delete,
    /// `GET`
    Get,
    /// `PATCH`
    Patch,
    /// `POST`
    Post,
    /// `PUT`
    Put,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Delete => "DELETE",
            Method::Get => "GET",
            Method::Patch => "PATCH",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }

    /// The method of a request, if a route can serve it.
    pub fn parse(name: &str) -> Option<Method> {
        [
            Method::Delete,
            Method::Get,
            Method::Patch,
            Method::Post,
            Method::Put,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }
}

/// One path and what each of its methods runs.
#[derive(Debug)]
pub struct Route<H: 'static> {
    /// The pattern, e.g. `/api/v1/agents/:agent_id`.
    pub path: &'static str,
    /// The methods it serves, each with its handler.
    pub methods: &'static [(Method, H)],
}

impl<H> Route<H> {
    /// A route for `path` serving `methods`.
    pub const fn new(path: &'static str, methods: &'static [(Method, H)]) -> Self {
        Route { path, methods }
    }

    /// The `Allow` header value for this path: its methods, alphabetically.
    pub fn allow(&self) -> Vec<&'static str> {
        let mut methods: Vec<Method> = self.methods.iter().map(|(m, _)| *m).collect();
        methods.sort();
        methods.dedup();
        methods.into_iter().map(Method::as_str).collect()
    }

    /// The captured `:name` segments if `path` matches this route.
    pub fn captures(&self, path: &str) -> Option<Vec<(&'static str, String)>> {
        let mut pattern = self.path.split('/');
        let mut actual = path.split('/');
        let mut params = Vec::new();
        loop {
            match (pattern.next(), actual.next()) {
                (None, None) => return Some(params),
                (Some(want), Some(got)) => match want.strip_prefix(':') {
                    Some(name) if !got.is_empty() => params.push((name, got.to_string())),
                    Some(_) => return None,
                    None if want == got => {}
                    None => return None,
                },
                _ => return None,
            }
        }
    }
}

/// What the table says about a request.
#[derive(Debug, PartialEq)]
pub enum Outcome<'t, H> {
    /// Run this handler with these path parameters (still percent-encoded).
    Run(&'t H, Vec<(&'static str, String)>),
    /// The path exists but not with this method: 405 with this `Allow`.
    MethodNotAllowed(Vec<&'static str>),
    /// No route has this path: 404.
    NotFound,
}

/// Looks `method` and `path` up in `table`. A trailing slash is ignored
/// (`/api/v1/tokens/` is `/api/v1/tokens`), as spin-sdk's router did.
pub fn find<'t, H>(table: &'t [Route<H>], method: &str, path: &str) -> Outcome<'t, H> {
    let path = match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    };
    let Some((route, params)) = table
        .iter()
        .find_map(|route| route.captures(path).map(|params| (route, params)))
    else {
        return Outcome::NotFound;
    };
    let wanted = Method::parse(method);
    match route.methods.iter().find(|(m, _)| Some(*m) == wanted) {
        Some((_, handler)) => Outcome::Run(handler, params),
        None => Outcome::MethodNotAllowed(route.allow()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Route<&str>] = &[
        Route::new(
            "/api/v1/agents",
            &[(Method::Put, "sync"), (Method::Get, "list")],
        ),
        Route::new(
            "/api/v1/agents/:agent_id",
            &[
                (Method::Put, "put"),
                (Method::Get, "get"),
                (Method::Delete, "delete"),
            ],
        ),
        Route::new(
            "/api/v1/agents/:agent_id/status",
            &[(Method::Put, "status")],
        ),
    ];

    fn run(method: &str, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
        match find(TABLE, method, path) {
            Outcome::Run(handler, params) => Some((*handler, params)),
            _ => None,
        }
    }

    #[test]
    fn a_path_and_method_find_their_handler_and_parameters() {
        assert_eq!(run("GET", "/api/v1/agents"), Some(("list", vec![])));
        assert_eq!(run("GET", "/api/v1/agents/"), Some(("list", vec![])));
        assert_eq!(
            run("DELETE", "/api/v1/agents/alice"),
            Some(("delete", vec![("agent_id", "alice".to_string())]))
        );
        assert_eq!(
            run("PUT", "/api/v1/agents/a%2Fb/status"),
            Some(("status", vec![("agent_id", "a%2Fb".to_string())]))
        );
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_the_paths_methods() {
        assert_eq!(
            find(TABLE, "POST", "/api/v1/agents/alice"),
            Outcome::MethodNotAllowed(vec!["DELETE", "GET", "PUT"])
        );
        assert_eq!(
            find(TABLE, "PATCH", "/api/v1/agents"),
            Outcome::MethodNotAllowed(vec!["GET", "PUT"])
        );
        assert_eq!(
            find(TABLE, "OPTIONS", "/api/v1/agents/a/status"),
            Outcome::MethodNotAllowed(vec!["PUT"])
        );
    }

    #[test]
    fn other_paths_are_not_found() {
        for path in [
            "/",
            "/api/v1",
            "/api/v1/agents//status",
            "/api/v1/agents/alice/status/more",
            "/api/v1/agentsx",
        ] {
            assert_eq!(find(TABLE, "GET", path), Outcome::NotFound, "{path}");
        }
    }
}
