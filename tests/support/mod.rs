//! Shared scaffolding for integration tests that need real engines or tools.
//!
//! Each test binary (tests/console, tests/engines, tests/e2e) includes it once with
//! `#[path = "../support/mod.rs"] mod support;`; its modules use `crate::support`. Components
//! that are missing make a test skip with a loud `SKIPPED:` line on stderr, or fail when
//! `FLEETDECK_REQUIRE_ENV=1` (CI sets it so a broken environment cannot pass silently).
//!
//! The tests of one binary are threads of one process: what is process-wide (the environment,
//! the swarm node) is shared through a lock here ([`env_lock`], `swarm::Swarm`).
//!
//! Docker helpers drive the docker CLI: this is scaffolding, the code under test is the backend.
//! Everything created carries the label `fleetdeck.test=1` and a unique name, and is removed by a
//! Drop guard, so parallel tests (and parallel test binaries) never step on each other or on the
//! machine's own containers.

#![allow(dead_code)]

pub mod artifact_server;
pub mod console;
pub mod device;
pub mod dropbear;
pub mod fake_link;
pub mod kube_server;
pub mod mender_server;
pub mod rollout;
pub mod screen;
pub mod sshd;
pub mod swarm;
pub mod tmux;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The image every Docker test runs: Debian's static busybox, imported (no registry needed).
pub const TEST_IMAGE: &str = "fleetdeck-test/busybox:local";
/// The label that marks everything tests create.
pub const TEST_LABEL: &str = "fleetdeck.test";

/// Tests that read or change the process environment (XDG dirs, `NO_COLOR`, `HOME`, `USER`)
/// take this lock: the test files share one binary, and `set_var` while another thread reads
/// the environment is undefined behaviour (and would hand that thread the other test's
/// config directory).
static ENV: Mutex<()> = Mutex::new(());

/// Hold the environment lock (a test that panicked while holding it does not poison it).
pub fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run `f` with the given variables set (None = removed) under [`env_lock`], restoring them
/// afterwards, also when `f` panics.
// `set_var` is unsafe (edition 2024) because another thread may read the environment: every
// test that touches it holds the lock, and none reads it from a second thread.
#[allow(unsafe_code)]
pub fn with_env<R>(vars: &[(&str, Option<&str>)], f: impl FnOnce() -> R) -> R {
    let _guard = env_lock();
    let saved: Vec<_> = vars
        .iter()
        .map(|(k, _)| (k.to_string(), std::env::var_os(k)))
        .collect();
    for (k, v) in vars {
        // SAFETY: every test in these binaries that touches the environment holds `ENV`.
        unsafe {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    for (k, v) in saved {
        // SAFETY: as above.
        unsafe {
            match v {
                Some(v) => std::env::set_var(&k, v),
                None => std::env::remove_var(&k),
            }
        }
    }
    out.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Why a component is unavailable, recorded by its probe for `require` to print.
fn reasons() -> &'static Mutex<HashMap<String, String>> {
    static R: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Record why `component` is unavailable (probes call this).
pub fn note_unavailable(component: &str, why: impl Into<String>) {
    if let Ok(mut r) = reasons().lock() {
        r.insert(component.to_owned(), why.into());
    }
}

/// True when the environment demands every component (`FLEETDECK_REQUIRE_ENV=1`).
pub fn env_required() -> bool {
    std::env::var("FLEETDECK_REQUIRE_ENV").is_ok_and(|v| v == "1")
}

/// Gate a test on `component`. Returns true when available. When not: prints
/// `SKIPPED: <component> not available: <why>` and returns false, or panics under
/// `FLEETDECK_REQUIRE_ENV=1`.
pub fn require(component: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let why = reasons()
        .lock()
        .ok()
        .and_then(|r| r.get(component).cloned())
        .unwrap_or_else(|| "probe failed".to_owned());
    if env_required() {
        panic!("{component} not available (FLEETDECK_REQUIRE_ENV=1): {why}");
    }
    eprintln!("\n*** SKIPPED: {component} not available: {why} ***\n");
    false
}

/// Run a command and capture its output; Err holds a one-line reason.
pub fn run(cmd: &str, args: &[&str]) -> Result<Output, String> {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cmd}: {e}"))
}

/// Run a command that must succeed; returns trimmed stdout.
pub fn run_ok(cmd: &str, args: &[&str]) -> String {
    let out = run(cmd, args).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "`{cmd} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The docker CLI reaches a running engine (probed once per process).
pub fn docker_available() -> bool {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let r = OK.get_or_init(|| {
        let out = run("docker", &["info", "--format", "{{.ServerVersion}}"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    });
    if let Err(why) = r {
        note_unavailable("docker", why.clone());
    }
    r.is_ok()
}

/// The openssl CLI exists (for throwaway TLS servers and certificates).
pub fn openssl_available() -> bool {
    let ok = run("openssl", &["version"]).is_ok_and(|o| o.status.success());
    if !ok {
        note_unavailable("openssl", "no openssl CLI (apt-get install -y openssl)");
    }
    ok
}

/// A child process killed (by its own pid) and reaped on drop.
#[derive(Debug)]
pub struct ChildGuard(pub std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback TCP port (bind :0, read the port, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Where Debian's `busybox-static` puts its binary.
pub fn busybox_path() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The static busybox binary exists (apt-get install busybox-static).
pub fn busybox_available() -> bool {
    let ok = busybox_path().is_some();
    if !ok {
        note_unavailable(
            "busybox-static",
            "no /bin/busybox (apt-get install -y busybox-static)",
        );
    }
    ok
}

/// Gate on Docker plus the test image; returns the image name. Use at the top of Docker tests:
/// `let Some(image) = support::docker_test_image() else { return };`
pub fn docker_test_image() -> Option<String> {
    if !require("docker", docker_available()) || !require("busybox-static", busybox_available()) {
        return None;
    }
    Some(test_image())
}

fn image_exists(name: &str) -> bool {
    run("docker", &["image", "inspect", "--format", "{{.Id}}", name])
        .is_ok_and(|o| o.status.success())
}

/// An exclusive lock on a file, released on drop: test binaries run in parallel processes and
/// must not import the same image at once.
struct FileLock(std::fs::File);

impl FileLock {
    fn acquire(path: &Path) -> FileLock {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("cannot open lock {}: {e}", path.display()));
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
            .unwrap_or_else(|e| panic!("flock {} failed: {e}", path.display()));
        FileLock(f)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = rustix::fs::flock(&self.0, rustix::fs::FlockOperation::Unlock);
    }
}

/// Build `fleetdeck-test/busybox:local` once (per machine; checked per process): a rootfs with
/// the static busybox, its applet symlinks, /etc/passwd, /tmp, `CMD ["/bin/sh"]`, `PATH=/bin`.
pub fn test_image() -> String {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if image_exists(TEST_IMAGE) {
            return;
        }
        let _lock = FileLock::acquire(&std::env::temp_dir().join("fleetdeck-test-image.lock"));
        // Another process may have built it while we waited for the lock.
        if image_exists(TEST_IMAGE) {
            return;
        }
        let busybox =
            busybox_path().expect("busybox-static is required (apt-get install -y busybox-static)");
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("rootfs");
        for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir rootfs");
        }
        std::fs::copy(&busybox, root.join("bin/busybox")).expect("copy busybox");
        let list = run_ok(
            root.join("bin/busybox").to_str().unwrap_or("/bin/busybox"),
            &["--list"],
        );
        for applet in list
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "busybox")
        {
            let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
        }
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
        std::fs::write(root.join("etc/group"), "root:x:0:\n").expect("group");
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777));
        }
        let tar = dir.path().join("rootfs.tar");
        run_ok(
            "tar",
            &[
                "-C",
                root.to_str().unwrap_or("."),
                "-cf",
                tar.to_str().unwrap_or("rootfs.tar"),
                ".",
            ],
        );
        run_ok(
            "docker",
            &[
                "import",
                "-c",
                r#"CMD ["/bin/sh"]"#,
                "-c",
                "ENV PATH=/bin",
                tar.to_str().unwrap_or("rootfs.tar"),
                TEST_IMAGE,
            ],
        );
    });
    TEST_IMAGE.to_owned()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name no other test (in this or another process) uses: `fdtest-<pid>-<n>-<suffix>`.
pub fn unique_name(suffix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("fdtest-{}-{n}-{suffix}", std::process::id())
}

/// A shell loop that runs until stopped and exits 0 promptly on `docker stop` (a plain `sleep`
/// as PID 1 ignores SIGTERM and would make every stop wait the 10 s grace period).
pub const LONG_RUNNING: &[&str] = &["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"];

/// A container that is removed (`docker rm -f`) when the guard drops.
#[derive(Debug)]
pub struct TestContainer {
    pub name: String,
    pub id: String,
}

/// Options for [`TestContainer`]; `run` starts it, `create` only creates it.
#[derive(Debug, Default)]
pub struct ContainerSpec {
    suffix: String,
    labels: Vec<(String, String)>,
    args: Vec<String>,
    cmd: Vec<String>,
}

impl ContainerSpec {
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Extra `docker run` arguments (before the image).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    pub fn cmd(mut self, cmd: &[&str]) -> Self {
        self.cmd = cmd.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn invoke(self, verb: &[&str]) -> TestContainer {
        let image = test_image();
        let name = unique_name(&self.suffix);
        let mut args: Vec<String> = verb.iter().map(|s| (*s).to_owned()).collect();
        args.extend([
            "--name".into(),
            name.clone(),
            "--label".into(),
            format!("{TEST_LABEL}=1"),
        ]);
        for (k, v) in &self.labels {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        args.extend(self.args);
        args.push(image);
        args.extend(if self.cmd.is_empty() {
            LONG_RUNNING.iter().map(|s| (*s).to_owned()).collect()
        } else {
            self.cmd
        });
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        // Construct the guard first so a failing assertion below still cleans up.
        let mut guard = TestContainer {
            name: name.clone(),
            id: String::new(),
        };
        guard.id = run_ok("docker", &refs);
        guard
    }

    /// `docker run -d`.
    pub fn run(self) -> TestContainer {
        self.invoke(&["run", "-d"])
    }

    /// `docker create` (not started).
    pub fn create(self) -> TestContainer {
        self.invoke(&["create"])
    }
}

impl TestContainer {
    pub fn spec(suffix: &str) -> ContainerSpec {
        ContainerSpec {
            suffix: suffix.to_owned(),
            ..Default::default()
        }
    }

    /// `docker inspect --format <fmt>` of this container.
    pub fn inspect(&self, format: &str) -> Option<String> {
        let out = run("docker", &["inspect", "--format", format, &self.name]).ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Wait until the container's state is `state` (bounded).
    pub fn wait_state(&self, state: &str, timeout: Duration) -> bool {
        wait_until(timeout, || {
            self.inspect("{{.State.Status}}").as_deref() == Some(state)
        })
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A volume removed on drop.
#[derive(Debug)]
pub struct TestVolume {
    pub name: String,
}

impl TestVolume {
    pub fn create(suffix: &str, labels: &[(&str, &str)]) -> TestVolume {
        let name = unique_name(suffix);
        let mut args = vec![
            "volume".to_owned(),
            "create".into(),
            "--label".into(),
            format!("{TEST_LABEL}=1"),
        ];
        for (k, v) in labels {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        args.push(name.clone());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let guard = TestVolume { name };
        run_ok("docker", &refs);
        guard
    }
}

impl Drop for TestVolume {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Poll `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `sig` to process `pid` (a test's child or simulated device process); gone is fine.
pub fn kill(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, sig);
    }
}
