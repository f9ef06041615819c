use edgechat_tests::HostOptions;

#[test]
fn a_declared_store_round_trips_through_both_interfaces() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/probe/kv/roundtrip?store=default");
    assert_eq!(reply.expect(200).body, "Some(Ok(\"value\")) false");
}

#[test]
fn an_undeclared_store_is_access_denied() {
    let host = HostOptions::probe().start();
    let client = host.client();
    // `locked` declares no store at all; `probe` does not declare `archive`.
    for path in [
        "/locked/kv/roundtrip?store=default",
        "/probe/kv/roundtrip?store=archive",
    ] {
        let reply = client.get(path);
        reply.expect(403);
        assert_eq!(
            reply.body, "spin:Error::AccessDenied wasi:Error::AccessDenied",
            "{path}"
        );
    }
}

#[test]
fn values_live_in_spins_sqlite_layout_in_the_state_dir() {
    let host = HostOptions::probe().start();
    host.client().get("/probe/kv/incr?key=layout").expect(200);
    let db = host.state_dir.join("sqlite_key_value.db");
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             print(c.execute(\"select store, key, hex(value) from spin_key_value where key='layout'\").fetchall())",
        )
        .arg(&db)
        .output()
        .expect("python3");
    let rows = String::from_utf8_lossy(&output.stdout);
    // Spin keeps counters as 8-byte little-endian integers.
    assert_eq!(rows.trim(), "[('default', 'layout', '0100000000000000')]");
}

#[test]
fn a_store_label_without_a_backend_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let wasm = edgechat_tests::repo_root().join("target/wasm32-wasip2/wasm/probe.wasm");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n\
             [component.c]\nsource = \"{}\"\nkey_value_stores = [\"archive\"]\n",
            wasm.display()
        ),
    )
    .unwrap();
    let (status, output) = HostOptions::new(manifest).run_expecting_failure();
    assert!(!status.success());
    assert!(output.contains("archive"), "{output}");
}
