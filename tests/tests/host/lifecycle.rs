use edgechat_tests::{HostOptions, repo_root};
use std::net::TcpListener;

fn manifest_in(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_bad_manifest_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(
        dir.path(),
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"ghost\"\n",
    );
    let (status, output) = HostOptions::new(manifest).run_expecting_failure();
    assert!(!status.success());
    assert!(output.contains("ghost"), "{output}");
    if !edgechat_tests::on_real_spin() {
        assert!(output.contains("invalid manifest"), "{output}");
    }
}

#[test]
fn a_missing_wasm_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(
        dir.path(),
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n\
         [component.c]\nsource = \"missing.wasm\"\n",
    );
    let (status, output) = HostOptions::new(manifest).run_expecting_failure();
    assert!(!status.success());
    assert!(output.contains("missing.wasm"), "{output}");
    if !edgechat_tests::on_real_spin() {
        assert!(output.contains("does not exist"), "{output}");
    }
}

#[test]
fn a_port_in_use_is_reported() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, output) = HostOptions::probe().listen(&addr).run_expecting_failure();
    assert!(!status.success());
    assert!(output.contains(&addr), "{output}");
    if !edgechat_tests::on_real_spin() {
        assert!(
            output.contains(&format!("cannot listen on {addr}")),
            "{output}"
        );
    }
}

#[test]
fn a_trap_is_a_500_and_the_host_keeps_serving() {
    let host = HostOptions::probe().start();
    let client = host.client();
    client.get("/probe/trap").expect(500);
    client.get("/probe/static").expect(200);
    if !edgechat_tests::on_real_spin() {
        assert!(host.wait_for_log("trapped"), "{}", host.log());
    }
}

/// wasi-http's headers are a child resource of their request. Spin 3.6's
/// wasmtime traps when a request is dropped while its headers handle is
/// alive; the local runtime must refuse the same component the same way.
/// (Spin 4.0's newer wasmtime lets it pass: the local runtime follows the
/// strictest release we support, so on another runtime this only reports.)
#[test]
fn dropping_a_request_while_its_headers_are_alive_traps_as_on_spin() {
    let host = HostOptions::probe().start();
    let reply = host.client().get("/held-headers");
    if edgechat_tests::on_real_spin() && reply.status == 200 {
        eprintln!("this runtime accepts the component (as Spin 4.0 does; Spin 3.6 refuses it)");
        return;
    }
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert!(host.wait_for_log("resource has children"), "{}", host.log());
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let host = HostOptions::probe().start();
    host.client().get("/probe/static").expect(200);
    let status = host.terminate();
    assert!(status.success(), "exit status {status}");
}

/// A SIGTERM that comes while the host is still starting (an orchestrator
/// scaling down a pod that has just been scheduled) shuts it down cleanly
/// too, instead of killing it.
#[test]
fn sigterm_during_start_up_shuts_down_cleanly() {
    if edgechat_tests::on_real_spin() {
        return; // the local runtime's own start-up line
    }
    let (status, output) = HostOptions::probe().terminate_once_it_prints("Instance pool:");
    assert!(status.success(), "exit status {status}:\n{output}");
    assert!(output.contains("Received SIGTERM"), "{output}");
}

#[test]
fn build_runs_the_component_build_commands() {
    // The probe's build command is a real cargo build; with the wasm already
    // built it is a quick no-op, and the host must then serve.
    let mut options = HostOptions::probe();
    options.extra_args.push("--build".into());
    let host = options.start();
    assert!(
        host.wait_for_log("Building component probe"),
        "{}",
        host.log()
    );
    host.client().get("/probe/static").expect(200);
    assert!(
        repo_root()
            .join("target/wasm32-wasip2/wasm/probe.wasm")
            .exists()
    );
}
