//! A real webhook receiver: `tests/tests/webhooks/receiver/receiver.py`,
//! which verifies every delivery with the official `standardwebhooks`
//! package (installed by `tests/run.sh` into
//! `~/.cache/edgechat/webhook-receiver`). Configured and read over HTTP.

use crate::{Client, Value, json, repo_root};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The receiver's Python, with `standardwebhooks` installed.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("EDGECHAT_WEBHOOK_PYTHON") {
        return PathBuf::from(python);
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let python = PathBuf::from(home).join(".cache/edgechat/webhook-receiver/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/run.sh, or `python3 -m venv ~/.cache/edgechat/webhook-receiver && \
         ~/.cache/edgechat/webhook-receiver/bin/pip install -r tests/tests/webhooks/receiver/requirements.txt`",
        python.display()
    );
    python
}

/// A running receiver process, killed when dropped.
pub struct Receiver {
    child: Option<Child>,
    pub port: u16,
    state: tempfile::TempDir,
}

impl Receiver {
    /// Starts one on a free port.
    pub fn start() -> Receiver {
        let state = tempfile::tempdir().expect("temp dir");
        let (child, port) = spawn(state.path(), 0);
        Receiver {
            child: Some(child),
            port,
            state,
        }
    }

    /// The URL deliveries for `name` go to.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/hook/{name}", self.port)
    }

    fn control(&self) -> Client {
        Client::new(&format!("http://127.0.0.1:{}", self.port))
    }

    /// How `name` answers: `status` (and `retry_after`, `delay_ms`,
    /// `statuses` answered first in order), verifying with `secrets`.
    pub fn configure(&self, name: &str, secrets: &[&str], mut answer: Value) {
        answer["name"] = json!(name);
        answer["secrets"] = json!(secrets);
        self.control().post("/_control/config", &answer).expect(204);
    }

    /// Everything that arrived for `name`, in arrival order (across restarts).
    pub fn received(&self, name: &str) -> Vec<Value> {
        self.control()
            .get(&format!("/_control/received?name={name}"))
            .expect(200)
            .json()["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits (generously) until `done` holds for what `name` received.
    #[track_caller]
    pub fn wait_for(&self, name: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let items = self.received(name);
            if done(&items) {
                return items;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never got {what}; it got: {items:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Takes the receiver down: connections are refused until [`Receiver::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Brings it back on the same port, with what it had received (its
    /// configuration must be sent again).
    pub fn restart(&mut self) {
        self.stop();
        let (child, _) = spawn(self.state.path(), self.port);
        self.child = Some(child);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(state: &std::path::Path, port: u16) -> (Child, u16) {
    let script = repo_root().join("tests/tests/webhooks/receiver/receiver.py");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut child = Command::new(python())
            .arg(&script)
            .args(["--port", &port.to_string(), "--state"])
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        if let Some(port) = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
        {
            return (child, port);
        }
        let _ = child.kill();
        let _ = child.wait();
        // The old port may still be held for a moment after a kill.
        assert!(
            Instant::now() < deadline,
            "the webhook receiver did not start: {line:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
