//! `up --build`: each component's `[component.x.build] command`, as `spin build`.

use crate::manifest::Manifest;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;

/// Runs the build commands in manifest order; the same command in the same
/// directory runs once even if several components share it.
pub fn run(manifest: &Manifest) -> Result<()> {
    let mut done = HashSet::new();
    for id in &manifest.component_order {
        let Some(build) = &manifest.components[id].build else {
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => manifest.dir.join(dir),
            None => manifest.dir.clone(),
        };
        if !done.insert((build.command.clone(), workdir.clone())) {
            continue;
        }
        println!("Building component {id} with `{}`", build.command);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("cannot run the build command of component '{id}'"))?;
        if !status.success() {
            bail!("the build command of component '{id}' failed ({status})");
        }
    }
    println!("Finished building all Spin components");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_commands_run_in_manifest_order() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "order"
[component.zeta]
source = "z.wasm"
[component.zeta.build]
command = "echo zeta >> order.txt"
[component.alpha]
source = "a.wasm"
[component.alpha.build]
command = "echo alpha >> order.txt"
"#,
            dir.path().to_path_buf(),
        )
        .unwrap();
        run(&manifest).unwrap();
        let order = std::fs::read_to_string(dir.path().join("order.txt")).unwrap();
        assert_eq!(order, "zeta\nalpha\n");
    }
}
