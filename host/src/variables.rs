//! Application variables, resolved once at start-up as `spin up` does, and the
//! one `{{ name }}` template parser that both the manifest checks and the
//! expansion use.
//!
//! A value comes from the environment (`SPIN_VARIABLE_<NAME>`, upper-cased),
//! else from the manifest's `default`. A required variable without a value
//! stops the host before it listens, naming the variable. Components see only
//! their own `[component.x.variables]`, expanded from these templates.
//! Templates in `allowed_outbound_hosts` are expanded from the same values.

use crate::manifest::Manifest;
use crate::outbound::AllowedHost;
use anyhow::{Result, bail};
use std::collections::HashMap;

/// A string with `{{ name }}` references to application variables, parsed
/// the way Spin's `spin-expressions` crate does: text up to the next `{{` is
/// literal; after `{{`, everything up to the first `}}` is the name, with
/// surrounding whitespace trimmed; a `{{` without a `}}` after it is an
/// error; a lone `}}` is literal. Expansion is one pass: a value that itself
/// contains `{{ x }}` is not expanded again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Variable(String),
}

impl Template {
    /// Parses a template; the error names the template.
    pub fn parse(template: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("{{") {
                let Some((name, tail)) = after.split_once("}}") else {
                    bail!("unmatched '{{{{' in template '{template}'");
                };
                parts.push(Part::Variable(name.trim().to_string()));
                rest = tail;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Text(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        Ok(Template { parts })
    }

    /// Whether the template has no references (Spin uses such an entry as is).
    pub fn is_literal(&self) -> bool {
        self.references().next().is_none()
    }

    /// The variable names it refers to, in order.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Expands the template; the error is the first name `value` lacks.
    pub fn render<'v>(
        &self,
        value: impl Fn(&str) -> Option<&'v str>,
    ) -> std::result::Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(value(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }
}

/// The environment variable that provides application variable `name`.
pub fn env_name(name: &str) -> String {
    format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())
}

/// The value of every application variable; `lookup` reads the environment.
pub fn application_values(
    manifest: &Manifest,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, String>> {
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
    Ok(app)
}

/// Every component's variables, expanded from the application's values.
pub fn component_values(
    manifest: &Manifest,
    app: &HashMap<String, String>,
) -> Result<HashMap<String, HashMap<String, String>>> {
    let mut components = HashMap::new();
    for (id, component) in &manifest.components {
        let mut values = HashMap::new();
        for (name, template) in &component.variables {
            let value = Template::parse(template)?
                .render(|name| app.get(name).map(String::as_str))
                .map_err(|missing| {
                    anyhow::anyhow!(
                        "component '{id}' variable '{name}': no application variable '{missing}'"
                    )
                })?;
            values.insert(name.clone(), value);
        }
        components.insert(id.clone(), values);
    }
    Ok(components)
}

/// Replaces the templates in every component's `allowed_outbound_hosts` with
/// their values, so that the permission checks see real hosts.
///
/// As in Spin, only application variables can be used there. Where Spin
/// cannot build a component's allowed hosts at request time (a template
/// names an undeclared variable, or its value makes an invalid entry), it
/// logs the error and denies every outbound request of that component: here
/// that component's list becomes empty and the returned messages say why.
/// (An invalid entry built from *default* values is refused earlier, when
/// the manifest is read, as Spin's loader does.)
pub fn expand_allowed_hosts(manifest: &mut Manifest, app: &HashMap<String, String>) -> Vec<String> {
    let mut errors = Vec::new();
    for (id, component) in manifest.components.iter_mut() {
        let expanded: std::result::Result<Vec<String>, String> = component
            .allowed_outbound_hosts
            .iter()
            .map(|entry| {
                let template = Template::parse(entry).map_err(|e| format!("{e:#}"))?;
                let value = template
                    .render(|name| app.get(name).map(String::as_str))
                    .map_err(|missing| {
                        format!("'{entry}' uses '{{{{ {missing} }}}}', which is not an application variable")
                    })?;
                AllowedHost::parse(&value)
                    .map_err(|e| format!("'{entry}' expands to '{value}': {e:#}"))?;
                Ok(value)
            })
            .collect();
        match expanded {
            Ok(hosts) => component.allowed_outbound_hosts = hosts,
            Err(e) => {
                errors.push(format!(
                    "component '{id}': allowed_outbound_hosts cannot be resolved ({e}); \
                     every outbound request of this component will be denied"
                ));
                component.allowed_outbound_hosts.clear();
            }
        }
    }
    errors
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

    fn resolve(
        manifest: &Manifest,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<HashMap<String, HashMap<String, String>>> {
        component_values(manifest, &application_values(manifest, lookup)?)
    }

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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

    #[test]
    fn templates_parse_like_spin_expressions() {
        let t = Template::parse("a-{{ x }}-{{y}}{{ z }}b").unwrap();
        assert_eq!(t.references().collect::<Vec<_>>(), ["x", "y", "z"]);
        let app = values(&[("x", "1"), ("y", "2"), ("z", "3")]);
        let get = |n: &str| app.get(n).map(String::as_str);
        assert_eq!(t.render(get).unwrap(), "a-1-23b");
        // A lone `}}` is text; the first `}}` closes a reference.
        let t = Template::parse("}} {{ x }}}").unwrap();
        assert_eq!(t.render(get).unwrap(), "}} 1}");
        assert!(Template::parse("{{ x }} {{ y").is_err());
        assert!(Template::parse("plain").unwrap().is_literal());
        assert!(Template::parse("").unwrap().is_literal());
        assert_eq!(
            Template::parse("{{ nope }}").unwrap().render(get),
            Err("nope".to_string())
        );
    }

    // The old validator trimmed the name but the old expander replaced only
    // `{{name}}` and `{{ name }}`: `{{  x}}` passed the check and stayed as is.
    #[test]
    fn a_reference_with_odd_spacing_is_expanded() {
        let app = values(&[("greeting", "hi")]);
        let get = |n: &str| app.get(n).map(String::as_str);
        for template in ["{{  greeting}}", "{{greeting   }}", "{{\tgreeting\n}}"] {
            assert_eq!(
                Template::parse(template).unwrap().render(get).unwrap(),
                "hi"
            );
        }
        let manifest = Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            greeting = { default = "hi" }
            [component.c]
            source = "c.wasm"
            [component.c.variables]
            text = "{{  greeting}}!"
            "#,
            PathBuf::from("/"),
        )
        .unwrap();
        assert_eq!(resolve(&manifest, |_| None).unwrap()["c"]["text"], "hi!");
    }

    // The old expander ran one `replace` per name over the growing output, so
    // a value containing `{{ other }}` was expanded again.
    #[test]
    fn a_value_that_looks_like_a_template_is_not_expanded_again() {
        let manifest = Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            a = { default = "x" }
            b = { default = "secret" }
            [component.c]
            source = "c.wasm"
            [component.c.variables]
            both = "{{ a }}/{{ b }}"
            "#,
            PathBuf::from("/"),
        )
        .unwrap();
        let resolved = resolve(&manifest, |name| {
            (name == "SPIN_VARIABLE_A").then(|| "{{ b }}".to_string())
        })
        .unwrap();
        assert_eq!(resolved["c"]["both"], "{{ b }}/secret");
    }

    fn hosts_manifest(hosts: &str) -> Manifest {
        Manifest::parse(
            &format!(
                r#"
                spin_manifest_version = 2
                [application]
                name = "app"
                [variables]
                api_host = {{ default = "api.example.com" }}
                api_port = {{ required = true }}
                [component.c]
                source = "c.wasm"
                allowed_outbound_hosts = {hosts}
                [component.d]
                source = "d.wasm"
                allowed_outbound_hosts = ["https://fixed.example.com"]
                "#
            ),
            PathBuf::from("/"),
        )
        .unwrap()
    }

    fn allowed(manifest: &Manifest, id: &str) -> Vec<String> {
        manifest.components[id].allowed_outbound_hosts.clone()
    }

    #[test]
    fn allowed_outbound_hosts_templates_use_application_variables() {
        let mut manifest = hosts_manifest(
            r#"["https://{{ api_host }}", "http://{{api_host}}:{{ api_port }}", "http://127.0.0.1:*"]"#,
        );
        let app = application_values(&manifest, |name| {
            (name == "SPIN_VARIABLE_API_PORT").then(|| "8080".to_string())
        })
        .unwrap();
        assert!(expand_allowed_hosts(&mut manifest, &app).is_empty());
        assert_eq!(
            allowed(&manifest, "c"),
            [
                "https://api.example.com",
                "http://api.example.com:8080",
                "http://127.0.0.1:*"
            ]
        );
        assert_eq!(allowed(&manifest, "d"), ["https://fixed.example.com"]);
        // The expanded entries are what the permission check uses.
        let entry = AllowedHost::parse(&allowed(&manifest, "c")[1]).unwrap();
        assert!(entry.allows("http", "api.example.com", 8080));
        assert!(!entry.allows("http", "api.example.com", 80));
    }

    #[test]
    fn an_environment_value_overrides_the_default_in_allowed_hosts() {
        let mut manifest = hosts_manifest(r#"["https://{{ api_host }}"]"#);
        let app = application_values(&manifest, |name| match name {
            "SPIN_VARIABLE_API_HOST" => Some("staging.example.com".into()),
            "SPIN_VARIABLE_API_PORT" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        assert!(expand_allowed_hosts(&mut manifest, &app).is_empty());
        assert_eq!(allowed(&manifest, "c"), ["https://staging.example.com"]);
    }

    #[test]
    fn an_undefined_variable_in_allowed_hosts_denies_all_of_that_components_outbound() {
        // Spin loads such an app and then denies the component's requests.
        let mut manifest = hosts_manifest(r#"["https://{{ who_knows }}", "http://127.0.0.1:*"]"#);
        let app = application_values(&manifest, |_| Some("1".into())).unwrap();
        let errors = expand_allowed_hosts(&mut manifest, &app);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("component 'c'"), "{}", errors[0]);
        assert!(errors[0].contains("who_knows"), "{}", errors[0]);
        assert!(allowed(&manifest, "c").is_empty());
        assert_eq!(allowed(&manifest, "d"), ["https://fixed.example.com"]);
    }

    #[test]
    fn component_variables_cannot_be_used_in_allowed_hosts() {
        let mut manifest = Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            base = { default = "example.com" }
            [component.c]
            source = "c.wasm"
            allowed_outbound_hosts = ["https://{{ host }}"]
            [component.c.variables]
            host = "api.{{ base }}"
            "#,
            PathBuf::from("/"),
        )
        .unwrap();
        let app = application_values(&manifest, |_| None).unwrap();
        let errors = expand_allowed_hosts(&mut manifest, &app);
        assert!(errors[0].contains("'{{ host }}'"), "{}", errors[0]);
        assert!(allowed(&manifest, "c").is_empty());
    }

    #[test]
    fn an_invalid_expanded_value_denies_all_of_that_components_outbound() {
        let mut manifest = hosts_manifest(r#"["https://{{ api_host }}"]"#);
        let app = application_values(&manifest, |name| match name {
            "SPIN_VARIABLE_API_HOST" => Some("api.example.com/path".into()),
            _ => Some("1".into()),
        })
        .unwrap();
        let errors = expand_allowed_hosts(&mut manifest, &app);
        assert!(errors[0].contains("api.example.com/path"), "{}", errors[0]);
        assert!(allowed(&manifest, "c").is_empty());
    }
}
