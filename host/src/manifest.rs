//! Reading `spin.toml` (manifest version 2) into the parts the host serves.
//!
//! Only what the host acts on is modelled; other Spin fields (`description`,
//! `files`, `exclude_files`, …) are accepted and ignored, so that any manifest
//! `spin up` accepts is accepted here too.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
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
    /// Hosts the component may call (`scheme://host:port`, with `*`).
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
        let mut seen_routes = HashSet::new();
        for trigger in raw.trigger.http {
            if !raw.component.contains_key(&trigger.component) {
                bail!(
                    "trigger.http names component '{}', which is not defined",
                    trigger.component
                );
            }
            let route = match trigger.route {
                RawRoute::Path(route) => {
                    check_route(&route)?;
                    if !seen_routes.insert(route.clone()) {
                        bail!("route '{route}' is declared twice");
                    }
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
                for reference in template_references(template)? {
                    if !raw.variables.contains_key(&reference) {
                        bail!(
                            "component '{id}' variable '{name}' uses '{{{{ {reference} }}}}', \
                             which [variables] does not declare"
                        );
                    }
                }
            }
        }
        Ok(Manifest {
            dir,
            variables: raw.variables,
            triggers,
            components: raw.component,
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

/// Spin's rule: lowercase letters, digits and underscores, starting with a letter.
fn check_variable_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        bail!(
            "variable name '{name}' must be lowercase letters, digits and '_', starting with a letter"
        );
    }
    Ok(())
}

fn check_route(route: &str) -> Result<()> {
    if !route.starts_with('/') {
        bail!("route '{route}' must start with '/'");
    }
    if route.contains("...") && !route.ends_with("/...") {
        bail!("route '{route}': '...' may only end a route, as '/...'");
    }
    Ok(())
}

/// The application variables a template such as `"{{ a }}-{{b}}"` refers to.
pub fn template_references(template: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unclosed '{{{{' in '{template}'");
        };
        names.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    Ok(names)
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

    #[test]
    fn duplicate_routes_are_refused() {
        let text = MINIMAL.replace("route = { private = true }", "route = \"/api/...\"");
        let error = format!("{:#}", parse(&text).unwrap_err());
        assert!(error.contains("twice"), "{error}");
    }

    #[test]
    fn template_references_are_found() {
        assert_eq!(
            template_references("{{a}}-{{ b }}").unwrap(),
            vec!["a", "b"]
        );
        assert!(template_references("{{ a").is_err());
    }
}
