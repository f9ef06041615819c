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
