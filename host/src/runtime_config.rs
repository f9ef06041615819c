//! `runtime-config.toml`: where each key-value store label lives, as in Spin.
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//!
//! [key_value_store.archive]
//! type = "spin"            # SQLite
//! path = "archive.db"      # relative to this file
//! ```
//! Other Spin sections (`[variables_provider]`, `[sqlite_database]`, …) are
//! accepted and ignored.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parts of a runtime config the host uses.
#[derive(Debug, Default, Deserialize)]
pub struct RuntimeConfig {
    /// Key-value stores by label.
    #[serde(default)]
    pub key_value_store: BTreeMap<String, KvStoreConfig>,
}

/// One `[key_value_store.<label>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KvStoreConfig {
    /// SQLite; without `path`, the state directory's `sqlite_key_value.db`.
    Spin {
        /// The database file.
        path: Option<PathBuf>,
    },
    /// A Redis server.
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
    },
}

impl RuntimeConfig {
    /// Reads `path`; relative SQLite paths resolve against its directory.
    pub fn load(path: &Path) -> Result<RuntimeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let mut config: RuntimeConfig = toml::from_str(&text)
            .with_context(|| format!("invalid runtime config {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for store in config.key_value_store.values_mut() {
            if let KvStoreConfig::Spin { path: Some(p) } = store {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_and_sqlite_stores_are_read() {
        let config: RuntimeConfig = toml::from_str(
            r#"
            [key_value_store.default]
            type = "redis"
            url = "redis://127.0.0.1:6379"
            [key_value_store.other]
            type = "spin"
            [llm_compute]
            type = "spin"
            "#,
        )
        .unwrap();
        assert!(matches!(
            config.key_value_store["default"],
            KvStoreConfig::Redis { .. }
        ));
        assert!(matches!(
            config.key_value_store["other"],
            KvStoreConfig::Spin { path: None }
        ));
    }

    #[test]
    fn an_unknown_store_type_is_refused() {
        let result: Result<RuntimeConfig, _> =
            toml::from_str("[key_value_store.default]\ntype = \"etcd\"\n");
        assert!(result.is_err());
    }
}
