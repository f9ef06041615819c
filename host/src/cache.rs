//! Compiled components, cached on disk so that a restart does not recompile.
//!
//! The cache key is the SHA-256 of the `.wasm` together with the engine's
//! compatibility hash (wasmtime version and compilation settings), so a
//! rebuilt component or an upgraded host never loads stale machine code.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Loads `wasm_path`, from `cache_dir` when it was compiled before.
pub fn load_component(engine: &Engine, wasm_path: &Path, cache_dir: &Path) -> Result<Component> {
    let wasm = std::fs::read(wasm_path)
        .with_context(|| format!("cannot read component {}", wasm_path.display()))?;
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let digest = Sha256::digest(&wasm);
    let name = format!("{}-{:016x}.cwasm", hex(&digest), engine_hash.finish());
    let cached = cache_dir.join(name);
    if cached.exists() {
        // SAFETY: the file was written by `Component::serialize` below, for
        // this engine configuration (the name encodes both hashes), in a
        // directory only this host writes to.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => return Ok(component),
            Err(e) => eprintln!("ignoring unusable cache entry {}: {e}", cached.display()),
        }
    }
    let component = Component::new(engine, &wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{} is not a valid component", wasm_path.display()))?;
    if let Err(e) = store(&component, cache_dir, &cached) {
        eprintln!("could not cache compiled component: {e:#}");
    }
    Ok(component)
}

fn store(component: &Component, dir: &Path, path: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    // Write then rename, so that a concurrent host never reads half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
