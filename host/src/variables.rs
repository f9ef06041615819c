//! Application variables, resolved once at start-up as `spin up` does.
//!
//! A value comes from the environment (`SPIN_VARIABLE_<NAME>`, upper-cased),
//! else from the manifest's `default`. A required variable without a value
//! stops the host before it listens, naming the variable. Components see only
//! their own `[component.x.variables]`, expanded from these templates.

use crate::manifest::{Manifest, template_references};
use anyhow::{Result, bail};
use std::collections::HashMap;

/// The environment variable that provides application variable `name`.
pub fn env_name(name: &str) -> String {
    format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())
}

/// Resolves every component's variables; `lookup` reads the environment.
pub fn resolve(
    manifest: &Manifest,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, HashMap<String, String>>> {
    let mut app = HashMap::new();
    for (name, decl) in &manifest.variables {
        let value = lookup(&env_name(name)).or_else(|| decl.default.clone());
        match value {
            Some(value) => {
                app.insert(name.clone(), value);
            }
            None if decl.required => bail!(
                "variable '{name}' is required but has no value: set {}",
                env_name(name)
            ),
            None => bail!("variable '{name}' needs a default or `required = true`"),
        }
    }
    let mut components = HashMap::new();
    for (id, component) in &manifest.components {
        let mut values = HashMap::new();
        for (name, template) in &component.variables {
            values.insert(name.clone(), expand(template, &app)?);
        }
        components.insert(id.clone(), values);
    }
    Ok(components)
}

fn expand(template: &str, app: &HashMap<String, String>) -> Result<String> {
    let mut out = template.to_string();
    for name in template_references(template)? {
        let value = &app[&name];
        // Replace both spellings: `{{name}}` and `{{ name }}`.
        for pattern in [format!("{{{{ {name} }}}}"), format!("{{{{{name}}}}}")] {
            out = out.replace(&pattern, value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            token = { required = true, secret = true }
            greeting = { default = "hello" }
            [component.c]
            source = "c.wasm"
            [component.c.variables]
            auth = "Bearer {{ token }}"
            text = "{{greeting}}, world"
            "#,
            PathBuf::from("/"),
        )
        .unwrap()
    }

    #[test]
    fn values_come_from_the_environment_then_defaults() {
        let resolved = resolve(&manifest(), |name| {
            (name == "SPIN_VARIABLE_TOKEN").then(|| "s3cret".to_string())
        })
        .unwrap();
        assert_eq!(resolved["c"]["auth"], "Bearer s3cret");
        assert_eq!(resolved["c"]["text"], "hello, world");
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        let error = resolve(&manifest(), |_| None).unwrap_err().to_string();
        assert!(error.contains("'token'"), "{error}");
        assert!(error.contains("SPIN_VARIABLE_TOKEN"), "{error}");
    }
}
