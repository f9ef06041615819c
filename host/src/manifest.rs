//! Reading `spin.toml` (manifest version 2) into the parts the host serves.
//!
//! Only what the host acts on is modelled; other Spin fields (`description`,
//! `files`, `exclude_files`, …) are accepted and ignored, so that any manifest
//! `spin up` accepts is accepted here too.

use crate::outbound::AllowedHost;
use crate::routing::{self, WELL_KNOWN_PREFIX};
use crate::variables::Template;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed and checked manifest.
#[derive(Debug)]
pub struct Manifest {
    /// The directory holding `spin.toml`: relative paths resolve against it.
    pub dir: PathBuf,
    /// Application variables, by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// HTTP triggers in manifest order.
    pub triggers: Vec<HttpTrigger>,
    /// Components by id.
    pub components: BTreeMap<String, ComponentDecl>,
    /// Component ids in the order the manifest declares them.
    pub component_order: Vec<String>,
    /// What Spin would log about this manifest without refusing it (routes
    /// that are never reached), for `up` to print.
    pub warnings: Vec<String>,
}

/// One `[variables]` entry (`secret` and `description` change nothing here:
/// the host never logs variable values).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VariableDecl {
    /// Used when no provider has a value.
    pub default: Option<String>,
    /// Refuse to start without a value.
    #[serde(default)]
    pub required: bool,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The route, or `None` for `route = { private = true }`.
    pub route: Option<String>,
    /// The component id it serves.
    pub component: String,
}

/// One `[component.<id>]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    /// Path to the `.wasm`, relative to the manifest.
    pub source: Source,
    /// Key-value store labels the component may open.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// Hosts the component may call (`scheme://host:port`, with `*`), as
    /// written: entries may be `{{ variable }}` templates over application
    /// variables, which `variables::expand_allowed_hosts` replaces with their
    /// values before the app loads.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name → template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// What `spin build` runs.
    pub build: Option<BuildDecl>,
}

/// A component's `source`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// A local file.
    Path(String),
    /// `{ url, digest }`: a remote source, which this host does not fetch.
    Remote {
        /// Where Spin would download it from.
        url: String,
    },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildDecl {
    /// Shell command.
    pub command: String,
    /// Working directory relative to the manifest.
    pub workdir: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // `application` is read only to require it
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentDecl>,
}

// Spin requires `[application]` with a name; the host only checks it is there.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawApplication {
    name: String,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = path
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", path.display()))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::parse(&text, dir).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses and checks manifest text; `dir` anchors relative paths.
    pub fn parse(text: &str, dir: PathBuf) -> Result<Manifest> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.spin_manifest_version.as_integer() != Some(2) {
            bail!(
                "spin_manifest_version must be 2 (found {})",
                raw.spin_manifest_version
            );
        }
        for name in raw.variables.keys() {
            check_variable_name(name)?;
        }
        let mut triggers = Vec::new();
        for trigger in raw.trigger.http {
            if !raw.component.contains_key(&trigger.component) {
                bail!(
                    "trigger.http names component '{}', which is not defined",
                    trigger.component
                );
            }
            let route = match trigger.route {
                RawRoute::Path(route) => {
                    routing::check(&route).map_err(|e| {
                        anyhow::anyhow!("route '{route}' of component '{}': {e}", trigger.component)
                    })?;
                    Some(route)
                }
                RawRoute::Private { private: true } => None,
                RawRoute::Private { private: false } => {
                    bail!("route = {{ private = false }} is not a route; give a path")
                }
            };
            triggers.push(HttpTrigger {
                route,
                component: trigger.component,
            });
        }
        for (id, component) in &raw.component {
            for (name, template) in &component.variables {
                check_variable_name(name)
                    .with_context(|| format!("component '{id}' variable '{name}'"))?;
                let template = Template::parse(template)
                    .with_context(|| format!("component '{id}' variable '{name}'"))?;
                for reference in template.references() {
                    if !raw.variables.contains_key(reference) {
                        bail!(
                            "component '{id}' variable '{name}' uses '{{{{ {reference} }}}}', \
                             which [variables] does not declare"
                        );
                    }
                }
            }
            check_allowed_hosts(&component.allowed_outbound_hosts, &raw.variables).with_context(
                || format!("component '{id}': `allowed_outbound_hosts` is malformed"),
            )?;
        }
        let warnings = route_warnings(&triggers);
        // The typed parse sorts components; the table keeps their order.
        let component_order = text
            .parse::<toml::Table>()?
            .get("component")
            .and_then(toml::Value::as_table)
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Manifest {
            dir,
            variables: raw.variables,
            triggers,
            components: raw.component,
            component_order,
            warnings,
        })
    }

    /// The absolute path of a component's `.wasm`.
    pub fn source_path(&self, id: &str) -> Result<PathBuf> {
        let component = &self.components[id];
        match &component.source {
            Source::Path(path) => Ok(self.dir.join(path)),
            Source::Remote { url } => bail!(
                "component '{id}' has a remote source ({url}); this host serves local files only"
            ),
        }
    }
}

/// Spin's rule (`spin-expressions` `Key`): lowercase ASCII letters, digits
/// and single underscores, starting with a letter and ending with a letter
/// or digit.
fn check_variable_name(name: &str) -> Result<()> {
    let valid = name.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && name
            .bytes()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !name.contains("__");
    if !valid {
        bail!(
            "variable name '{name}' must be lowercase letters, digits and single '_', \
             starting with a letter and ending with a letter or digit"
        );
    }
    Ok(())
}

/// What Spin's loader refuses in `allowed_outbound_hosts`: the old
/// `insecure:allow-all`, an unclosed `{{`, an invalid entry, and a template
/// whose variables all have defaults and whose default expansion is invalid.
/// A template that needs a value from elsewhere (or names an undeclared
/// variable) is only checked once values are known, as in Spin.
fn check_allowed_hosts(hosts: &[String], variables: &BTreeMap<String, VariableDecl>) -> Result<()> {
    if let [only] = hosts
        && only == "insecure:allow-all"
    {
        bail!("'insecure:allow-all' is not allowed: use '*://*:*' to allow all outbound traffic");
    }
    for entry in hosts {
        let template = Template::parse(entry)?;
        if template.is_literal() {
            AllowedHost::parse(entry)?;
            continue;
        }
        let defaults = template.render(|name| variables.get(name)?.default.as_deref());
        if let Ok(expanded) = defaults {
            AllowedHost::parse(&expanded).with_context(|| {
                format!(
                    "using default variable value(s) with template '{entry}' results in invalid \
                     entry '{expanded}'"
                )
            })?;
        }
    }
    Ok(())
}

/// Spin's complaints about routes that load but are never reached: the same
/// route text declared again (the last declaration serves it), and routes
/// under `/.well-known/spin/`, which Spin answers itself.
fn route_warnings(triggers: &[HttpTrigger]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut duplicates = Vec::new();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for trigger in triggers {
        let Some(route) = trigger.route.as_deref() else {
            continue;
        };
        if let Some(replaced) = owner.insert(route, &trigger.component) {
            let shown = match routing::normalise(route) {
                based if based.is_empty() => "/".to_string(),
                based => based,
            };
            duplicates.push(format!(
                "  {replaced}: {shown} (duplicate of {})",
                trigger.component
            ));
        }
    }
    if !duplicates.is_empty() {
        warnings.push(format!(
            "The following component routes are duplicates and will never be used:\n{}",
            duplicates.join("\n")
        ));
    }
    if owner
        .keys()
        .any(|route| routing::normalise(route).starts_with(WELL_KNOWN_PREFIX))
    {
        warnings.push(format!(
            "Routes under {WELL_KNOWN_PREFIX} are handled by the Spin runtime and will never be reached"
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, PathBuf::from("/app"))
    }

    const MINIMAL: &str = r#"
        spin_manifest_version = 2
        [application]
        name = "app"
        [variables]
        token = { required = true, secret = true }
        [[trigger.http]]
        route = "/api/..."
        component = "api"
        [[trigger.http]]
        route = { private = true }
        component = "internal"
        [component.api]
        source = "api.wasm"
        key_value_stores = ["default"]
        [component.api.variables]
        token = "Bearer {{ token }}"
        [component.internal]
        source = "internal.wasm"
    "#;

    #[test]
    fn a_valid_manifest_is_read_with_its_private_routes() {
        let manifest = parse(MINIMAL).unwrap();
        assert_eq!(manifest.triggers.len(), 2);
        assert_eq!(manifest.triggers[0].route.as_deref(), Some("/api/..."));
        assert_eq!(manifest.triggers[1].route, None);
        assert!(manifest.variables["token"].required);
        assert_eq!(
            manifest.source_path("api").unwrap(),
            PathBuf::from("/app/api.wasm")
        );
    }

    #[test]
    fn a_trigger_for_an_unknown_component_is_refused() {
        let text = MINIMAL.replace("component = \"internal\"", "component = \"nope\"");
        let error = format!("{:#}", parse(&text).unwrap_err());
        assert!(error.contains("'nope'"), "{error}");
    }

    #[test]
    fn a_template_over_an_undeclared_variable_is_refused() {
        let text = MINIMAL.replace("{{ token }}", "{{ missing }}");
        let error = format!("{:#}", parse(&text).unwrap_err());
        assert!(error.contains("missing"), "{error}");
    }

    #[test]
    fn only_manifest_version_two_is_accepted() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(parse(&text).is_err());
    }

    // Spin keeps the app: the last declaration serves the route and the
    // earlier ones are logged as never used.
    #[test]
    fn a_duplicate_route_is_a_warning_and_the_last_declaration_serves_it() {
        let text = MINIMAL.replace("route = { private = true }", "route = \"/api/...\"");
        let manifest = parse(&text).unwrap();
        assert_eq!(manifest.warnings.len(), 1, "{:?}", manifest.warnings);
        assert!(
            manifest.warnings[0].contains("  api: /api/... (duplicate of internal)"),
            "{}",
            manifest.warnings[0]
        );
        let mut router = routing::Router::default();
        for (i, trigger) in manifest.triggers.iter().enumerate() {
            router.add(trigger.route.as_deref().unwrap(), i);
        }
        assert_eq!(router.find("/api/x").unwrap().component, 1);
        // A different spelling of the same route is not a duplicate for Spin.
        let text = MINIMAL.replace("route = { private = true }", "route = \"/api/.../\"");
        assert!(parse(&text).unwrap().warnings.is_empty());
    }

    #[test]
    fn routes_spin_refuses_are_refused_and_named() {
        for (route, why) in [
            ("/a/:/b", "name"),
            ("/files/*rest", "wildcard"),
            ("/a/*/b", "end"),
        ] {
            let text = MINIMAL.replace("route = \"/api/...\"", &format!("route = \"{route}\""));
            let error = format!("{:#}", parse(&text).unwrap_err());
            assert!(error.contains(route), "{error}");
            assert!(error.contains("'api'"), "{error}");
            assert!(error.contains(why), "{error}");
        }
        // What Spin accepts: parameters, a missing leading slash, `...` as text.
        for route in [
            "/users/:id/posts/:post",
            "/base/:name/...",
            "api",
            "/a/.../b",
            "/",
        ] {
            let text = MINIMAL.replace("route = \"/api/...\"", &format!("route = \"{route}\""));
            assert!(parse(&text).is_ok(), "{route}");
        }
    }

    #[test]
    fn routes_under_spins_well_known_prefix_are_a_warning() {
        let text = MINIMAL.replace("route = \"/api/...\"", "route = \"/.well-known/spin/x\"");
        let warnings = parse(&text).unwrap().warnings;
        assert!(warnings[0].contains("/.well-known/spin/"), "{warnings:?}");
        let text = MINIMAL.replace("route = \"/api/...\"", "route = \"/.well-known/spindle\"");
        assert!(parse(&text).unwrap().warnings.is_empty());
    }

    #[test]
    fn variable_names_follow_spins_key_rules() {
        for good in ["a", "api_host", "v2", "a_b_c"] {
            assert!(check_variable_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Api", "2a", "_a", "a_", "a__b", "a-b", "a.b"] {
            assert!(check_variable_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn component_variable_templates_use_the_one_parser() {
        let text = MINIMAL.replace("Bearer {{ token }}", "Bearer {{ token");
        let error = format!("{:#}", parse(&text).unwrap_err());
        assert!(error.contains("unmatched"), "{error}");
        // Odd spacing is still a reference to `token`, which is declared.
        let text = MINIMAL.replace("{{ token }}", "{{  token}}");
        assert!(parse(&text).is_ok());
        let text = MINIMAL.replace("{{ token }}", "{{  missing}}");
        assert!(format!("{:#}", parse(&text).unwrap_err()).contains("missing"));
    }

    fn with_hosts(variables: &str, hosts: &str) -> Result<Manifest> {
        parse(&format!(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            {variables}
            [component.c]
            source = "c.wasm"
            allowed_outbound_hosts = {hosts}
            "#
        ))
    }

    #[test]
    fn allowed_hosts_are_checked_at_load_like_spins_loader() {
        let ok = |variables: &str, hosts: &str| with_hosts(variables, hosts).is_ok();
        let error = |variables: &str, hosts: &str| {
            format!("{:#}", with_hosts(variables, hosts).unwrap_err())
        };
        assert!(ok("", r#"["https://example.com", "http://127.0.0.1:*"]"#));
        assert!(error("", r#"["insecure:allow-all"]"#).contains("insecure:allow-all"));
        assert!(error("", r#"["example.com"]"#).contains("scheme"));
        assert!(error("h = { default = \"x\" }", r#"["https://{{ h"]"#).contains("unmatched"));
        // A default that expands to an invalid entry is refused at load...
        let e = error("h = { default = \"x.com/path\" }", r#"["https://{{ h }}"]"#);
        assert!(e.contains("default variable value"), "{e}");
        assert!(e.contains("https://x.com/path"), "{e}");
        assert!(e.contains("component 'c'"), "{e}");
        // ... a valid one, a required variable (no default) and an undeclared
        // name load: Spin checks those once values are known.
        assert!(ok("h = { default = \"x.com\" }", r#"["https://{{ h }}"]"#));
        assert!(ok("h = { required = true }", r#"["https://{{ h }}"]"#));
        assert!(ok("", r#"["https://{{ undeclared }}"]"#));
    }
}
