//! What the bench needs built: every component (`--profile wasm`, as in
//! `spin.toml`) and the release host. Built with the same cargo commands a
//! developer runs, so that an up-to-date tree costs only cargo's checks.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Folders whose every sub-folder is a component crate, named after it.
const COMPONENT_DIRS: [&str; 2] = ["functions", "tests/components"];

/// A component crate and where its optimised `.wasm` lands.
#[derive(Clone, Debug)]
pub struct ComponentCrate {
    pub name: String,
    pub wasm: PathBuf,
}

/// A component's size on disk; `None` when it is not built.
#[derive(Clone, Debug)]
pub struct ComponentSize {
    pub name: String,
    pub bytes: Option<u64>,
}

pub fn component_crates(root: &Path) -> Result<Vec<ComponentCrate>> {
    let wasm_dir = root.join("target/wasm32-wasip2/wasm");
    let mut crates = Vec::new();
    for dir in COMPONENT_DIRS {
        let dir = root.join(dir);
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if !path.join("Cargo.toml").is_file() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            // Cargo names a crate's artifact with `-` turned into `_`.
            let wasm = wasm_dir.join(format!("{}.wasm", name.replace('-', "_")));
            crates.push(ComponentCrate {
                name: name.to_string(),
                wasm,
            });
        }
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(crates)
}

pub fn host_binary(root: &Path) -> PathBuf {
    root.join("target/release/edgechat-host")
}

/// Builds each component with its own `spin.toml` command (one cargo call per
/// crate, so features resolve exactly as in `spin build` and nothing is
/// rebuilt back and forth), then the host unless another one is used.
pub async fn build(root: &Path, crates: &[ComponentCrate], with_host: bool) -> Result<()> {
    eprintln!(
        "building {} components (--profile wasm){}; a first build takes minutes",
        crates.len(),
        if with_host {
            " and the host (--release)"
        } else {
            ""
        }
    );
    for krate in crates {
        cargo(
            root,
            &[
                "build",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "wasm",
                "-p",
                &krate.name,
            ],
        )
        .await?;
    }
    cargo(
        root,
        &["build", "--quiet", "--release", "-p", "edgechat-host"],
    )
    .await
}

async fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    // The cargo that runs this bench, when there is one.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let shown = format!("cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .await
        .with_context(|| format!("cannot run `{shown}`"))?;
    if !status.success() {
        bail!(
            "`{shown}` failed ({status}); fix the build, or pass --no-build to use what is in target/"
        );
    }
    Ok(())
}

/// The host must exist (after `--no-build` especially). A missing component
/// is reported in the sizes; the host names it if a scenario's app needs it.
pub fn check(host: &Path) -> Result<()> {
    if !host.is_file() {
        bail!(
            "{} is missing: run `cargo build --release -p edgechat-host` (or drop --no-build)",
            host.display()
        );
    }
    Ok(())
}

pub fn component_sizes(crates: &[ComponentCrate]) -> Vec<ComponentSize> {
    crates
        .iter()
        .map(|c| ComponentSize {
            name: c.name.clone(),
            bytes: std::fs::metadata(&c.wasm).ok().map(|m| m.len()),
        })
        .collect()
}

/// The Spin binary must run: its version, for the report.
pub fn check_spin(spin: &Path) -> Result<String> {
    let output = std::process::Command::new(spin)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {}", spin.display()))?;
    if !output.status.success() {
        bail!("{} --version failed", spin.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
