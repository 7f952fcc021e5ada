//! A real single-node swarm for tests: joined on first use (`docker swarm init` only when the
//! engine is not in a swarm), left again by the last guard only if these tests did the init.
//!
//! Tests that change the node itself (drain) take the lock exclusively, so they never run while
//! another test's tasks need the node.

use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use super::{docker_test_image, require, run, run_ok, unique_name, wait_until};

struct State {
    users: usize,
    we_initialised: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    users: 0,
    we_initialised: false,
});
static NODE: RwLock<()> = RwLock::new(());

fn swarm_state() -> String {
    run("docker", &["info", "--format", "{{.Swarm.LocalNodeState}}"])
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Holds the swarm up while alive.
pub struct Swarm {
    _node: NodeLock,
}

enum NodeLock {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

impl Swarm {
    /// Join (or init) the swarm; None when Docker is unavailable (the test skips loudly).
    pub fn shared() -> Option<Swarm> {
        docker_test_image()?;
        let lock = NODE.read().unwrap_or_else(|e| e.into_inner());
        Self::up(NodeLock::Shared(lock))
    }

    /// Like `shared`, but no other swarm test runs meanwhile.
    pub fn exclusive() -> Option<Swarm> {
        docker_test_image()?;
        let lock = NODE.write().unwrap_or_else(|e| e.into_inner());
        Self::up(NodeLock::Exclusive(lock))
    }

    fn up(node: NodeLock) -> Option<Swarm> {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let state = swarm_state();
        if state != "active" {
            let out = run(
                "docker",
                &["swarm", "init", "--advertise-addr", "127.0.0.1"],
            );
            let ok = out.as_ref().is_ok_and(|o| o.status.success());
            if !require("docker swarm", ok) {
                return None;
            }
            st.we_initialised = true;
        }
        st.users += 1;
        Some(Swarm { _node: node })
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        st.users -= 1;
        if st.users == 0 && st.we_initialised {
            let _ = run("docker", &["swarm", "leave", "--force"]);
            // `swarm init` created this bridge; leave does not remove it.
            let _ = run("docker", &["network", "rm", "docker_gwbridge"]);
            st.we_initialised = false;
        }
    }
}

/// A stack deployed from tests/fixtures/swarm/stack.yml under a unique name, removed on drop.
pub struct TestStack {
    pub name: String,
}

impl TestStack {
    pub fn deploy(suffix: &str) -> TestStack {
        // Stack names become service name prefixes: keep them short and DNS-safe.
        let name = unique_name(suffix).replace('-', "_");
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/swarm/stack.yml"
        );
        run_ok(
            "docker",
            &[
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                file,
                &name,
            ],
        );
        TestStack { name }
    }

    pub fn service(&self, svc: &str) -> String {
        format!("{}_{svc}", self.name)
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        let _ = run("docker", &["stack", "rm", &self.name]);
        // Let the tasks go before the next test's guard might leave the swarm.
        wait_until(Duration::from_secs(20), || {
            run(
                "docker",
                &[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=com.docker.stack.namespace={}", self.name),
                ],
            )
            .map(|o| o.stdout.is_empty())
            .unwrap_or(true)
        });
    }
}

/// A plain service (`docker service create`), removed on drop.
pub struct TestService {
    pub name: String,
}

impl TestService {
    pub fn create(suffix: &str, extra: &[&str], cmd: &[&str]) -> TestService {
        let name = unique_name(suffix);
        let mut args = vec![
            "service",
            "create",
            "--detach",
            "--no-resolve-image",
            "--endpoint-mode",
            "dnsrr",
            "--label",
            "fleetdeck.test=1",
            "--stop-grace-period",
            "2s",
            "--name",
            &name,
        ];
        args.extend_from_slice(extra);
        args.push(super::TEST_IMAGE);
        args.extend_from_slice(cmd);
        run_ok("docker", &args);
        TestService { name }
    }

    pub fn inspect(&self, format: &str) -> String {
        run(
            "docker",
            &["service", "inspect", "--format", format, &self.name],
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
    }

    /// Running tasks, as `docker service ps` sees them.
    pub fn running_tasks(&self) -> usize {
        run(
            "docker",
            &[
                "service",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
                &self.name,
            ],
        )
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.starts_with("Running"))
                .count()
        })
        .unwrap_or(0)
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        let _ = run("docker", &["service", "rm", &self.name]);
    }
}
