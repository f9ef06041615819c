//! The app's `spin.toml`, read as an operator's `spin build --up` and
//! `spin watch` would use it.

use edgechat_tests::repo_root;

/// Every component is built from its own crate *and* `shared`: its watch list
/// must name both, or `spin watch` serves a stale component after a change
/// to the domain crate.
#[test]
fn every_component_build_watches_its_crate_and_shared() {
    let manifest = std::fs::read_to_string(repo_root().join("spin.toml")).unwrap();
    let mut builds = 0;
    let mut component = String::new();
    for line in manifest.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("[component.")
            .and_then(|rest| rest.strip_suffix(".build]"))
        {
            builds += 1;
            component = name.to_string();
        }
        if let Some(list) = line.strip_prefix("watch = ") {
            assert!(
                list.contains(&format!("\"functions/{component}/src/**/*.rs\"")),
                "{component}: {list}"
            );
            assert!(
                list.contains("\"shared/src/**/*.rs\""),
                "{component}: {list}"
            );
            builds -= 1;
        }
    }
    assert_eq!(builds, 0, "a component's build has no watch list");
}

/// The size budget (DESIGN.md): every component that `spin.toml` serves is
/// at most 512 KB (512,000 bytes) as built, since the test command builds
/// them the way `spin build` does. Bigger components load and instantiate
/// slower on every Spin node, and the budget is part of the contract.
#[test]
fn every_component_is_within_the_size_budget() {
    const BUDGET_BYTES: u64 = 512_000;
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let sources: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("source = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .collect();
    assert!(sources.len() > 10, "no component sources in spin.toml");
    let over: Vec<String> = sources
        .iter()
        .filter_map(|source| {
            let path = root.join(source);
            let bytes = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{source} is not built: {e}"))
                .len();
            (bytes > BUDGET_BYTES).then(|| format!("{source}: {bytes} bytes"))
        })
        .collect();
    assert!(
        over.is_empty(),
        "over the {BUDGET_BYTES}-byte budget: {over:#?}"
    );
}
