//! A simulated appliance for the update feature (#6): one real sshd per device whose sessions
//! get a `PATH` with the scripts of `tests/fixtures/device-sim` first and their own
//! `MENDER_SIM_DIR` (state: artifact, pending, booted, boot_id, mode, step, calls, ...).
//!
//! The scripts honour the Mender 4 `mender-update` CLI contract (exit 2 = no update in
//! progress, exit 4 = reboot required with `--reboot-exit-code`), or Mender 3.x as `mender`,
//! and simulate a reboot (`sim-reboot`: new boot id, boots into the pending artifact, drops the
//! SSH connection), a boot id (`boot-id`) and a systemd appliance updater (`appliance-sim`).
//! Nothing here touches the real machine.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::sshd::{self, Sshd, SshdOpts, TEST_USER};

/// The simulation scripts copied into every device's bin dir (`mender-update` is installed
/// under the Mender name the device uses).
const SCRIPTS: &[&str] = &["sim-reboot", "boot-id", "appliance-sim"];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/device-sim")
}

/// uid and gid of `user` (via `id`).
fn user_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        super::run_ok("id", &[flag, user])
            .parse()
            .unwrap_or_else(|e| panic!("id {flag} {user}: {e}"))
    };
    (id("-u"), id("-g"))
}

fn chown_to_user(path: &Path) {
    let (uid, gid) = user_ids(TEST_USER);
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A YAML double-quoted scalar (JSON escaping is valid YAML).
pub fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How a simulated device starts.
#[derive(Debug, Clone)]
pub struct SimOpts {
    /// The committed artifact at start, e.g. "release-1".
    pub artifact: String,
    /// Install `mender` (Mender 3.x CLI) instead of `mender-update` (Mender 4).
    pub mender3: bool,
    /// Public key lines allowed to log in as [`TEST_USER`].
    pub authorized: Vec<String>,
}

impl Default for SimOpts {
    fn default() -> Self {
        SimOpts {
            artifact: "release-1".into(),
            mender3: false,
            authorized: Vec::new(),
        }
    }
}

/// One simulated device: its own sshd, bin dir and state dir. Everything is removed on drop.
pub struct SimDevice {
    pub sshd: Sshd,
    /// `MENDER_SIM_DIR`: the device's state, owned by [`TEST_USER`].
    pub dir: PathBuf,
    pub name: String,
    /// The device's bin dir (first on its sessions' `PATH`).
    pub bin: PathBuf,
    /// Tags written by [`SimDevice::fleet_entry`] (default `[prod]`).
    pub tags: Vec<String>,
    /// Whether `mender` (3.x) rather than `mender-update` is installed.
    pub mender3: bool,
    root: tempfile::TempDir,
}

impl SimDevice {
    /// Start the device's sshd (sessions get `PATH=<bin>:/usr/local/bin:/usr/bin:/bin` and
    /// `MENDER_SIM_DIR=<dir>`), with `opts.artifact` committed and a fresh boot id.
    pub fn start(name: &str, opts: SimOpts) -> SimDevice {
        let root = tempfile::Builder::new()
            .prefix(&format!("fleetdeck-sim-{name}-"))
            .tempdir()
            .expect("temp dir");
        // Created 0700 by root: the login user must reach bin/ and sim/.
        chmod(root.path(), 0o755);
        let bin = root.path().join("bin");
        let dir = root.path().join("sim");
        std::fs::create_dir(&bin).expect("mkdir bin");
        std::fs::create_dir(&dir).expect("mkdir sim");
        chmod(&bin, 0o755);
        chmod(&dir, 0o755);
        chown_to_user(&dir);
        let fixtures = fixture_dir();
        let mender = if opts.mender3 {
            "mender"
        } else {
            "mender-update"
        };
        let copies = SCRIPTS
            .iter()
            .map(|s| (*s, *s))
            .chain([("mender-update", mender)]);
        for (src, dst) in copies {
            let to = bin.join(dst);
            std::fs::copy(fixtures.join(src), &to)
                .unwrap_or_else(|e| panic!("copy {src} to {}: {e}", to.display()));
            chmod(&to, 0o755);
        }
        let sshd = Sshd::start(SshdOpts {
            authorized: opts.authorized.clone(),
            set_env: vec![
                format!("PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display()),
                format!("MENDER_SIM_DIR={}", dir.display()),
            ],
            ..Default::default()
        });
        let dev = SimDevice {
            sshd,
            dir,
            name: name.to_string(),
            bin,
            tags: vec!["prod".into()],
            mender3: opts.mender3,
            root,
        };
        dev.write("artifact", &format!("{}\n", opts.artifact));
        dev.write("boot_id", &format!("{}\n", new_boot_id()));
        dev.write("calls", "");
        std::fs::create_dir(dev.upload_dir()).expect("mkdir upload");
        chown_to_user(&dev.upload_dir());
        dev
    }

    /// Write a file in the state dir, owned by the login user (the scripts replace them).
    pub fn write(&self, file: &str, content: &str) {
        let p = self.dir.join(file);
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        chown_to_user(&p);
    }

    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }

    fn first_line(&self, file: &str) -> Option<String> {
        self.read(file)
            .map(|s| s.lines().next().unwrap_or("").trim().to_string())
    }

    /// The committed artifact.
    pub fn artifact(&self) -> String {
        self.first_line("artifact").unwrap_or_default()
    }

    /// The installed, not yet committed artifact.
    pub fn pending(&self) -> Option<String> {
        self.first_line("pending")
    }

    /// Has the device rebooted into the pending artifact?
    pub fn booted(&self) -> bool {
        self.dir.join("booted").exists()
    }

    pub fn boot_id(&self) -> String {
        self.first_line("boot_id").unwrap_or_default()
    }

    /// Test controls (`install-fail`, `boot-old`, `commit-fail`, `no-reboot`,
    /// `appliance-fail`); replaces the previous ones.
    pub fn set_mode(&self, modes: &[&str]) {
        let mut s = modes.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        self.write("mode", &s);
    }

    /// Delay between progress steps (install and appliance update), seconds.
    pub fn set_step(&self, secs: f64) {
        self.write("step", &format!("{secs}\n"));
    }

    /// After the next `sim-reboot`, `boot-id` fails for `secs` seconds (device still booting).
    pub fn set_down_secs(&self, secs: u64) {
        self.write("down_secs", &format!("{secs}\n"));
    }

    /// Every invocation of a simulation script, in order (`install SRC`, `commit`, `rollback`,
    /// `show-artifact`, `show-provides`, `reboot`, `boot-id`, `appliance start`, ...).
    pub fn calls(&self) -> Vec<String> {
        self.read("calls")
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many calls start with `prefix` (e.g. `"install "`).
    pub fn count_calls(&self, prefix: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }

    /// `<dir>/appliance_failed`.
    pub fn failed_flag(&self) -> PathBuf {
        self.dir.join("appliance_failed")
    }

    /// The appliance updater's state: `active`, `inactive` or `failed`.
    pub fn appliance_state(&self) -> String {
        self.first_line("appliance.state")
            .unwrap_or_else(|| "inactive".into())
    }

    /// The appliance updater's output so far.
    pub fn appliance_log(&self) -> String {
        self.read("appliance.log").unwrap_or_default()
    }

    /// `<dir>/upload` (the fleet entry's `upload_dir`), writable by the login user.
    pub fn upload_dir(&self) -> PathBuf {
        self.dir.join("upload")
    }

    pub fn port(&self) -> u16 {
        self.sshd.port()
    }

    /// The known_hosts line of this device's host key.
    pub fn known_hosts_line(&self) -> String {
        self.sshd.known_hosts_line(self.port())
    }

    /// The YAML of one fleet-file device entry (a list item, indented for `devices:`) with
    /// every update command pointed at the simulation. `updater`: mender, appliance, custom
    /// (a custom_updater block driving `mender-update`) or none.
    pub fn fleet_entry(&self, updater: &str, identity_file: &Path, known_hosts: &Path) -> String {
        let q = yaml_str;
        let tags: Vec<String> = self.tags.iter().map(|t| q(t)).collect();
        let mut y = String::new();
        y += &format!("  - name: {}\n", q(&self.name));
        y += "    host: 127.0.0.1\n";
        y += &format!("    port: {}\n", self.port());
        y += &format!("    user: {}\n", q(TEST_USER));
        y += &format!(
            "    identity_file: {}\n",
            q(&identity_file.display().to_string())
        );
        y += &format!(
            "    known_hosts: {}\n",
            q(&known_hosts.display().to_string())
        );
        y += &format!("    tags: [{}]\n", tags.join(", "));
        y += &format!("    updater: {}\n", q(updater));
        if updater == "custom" {
            y += "    custom_updater:\n";
            y += &format!(
                "      install: {}\n",
                q("mender-update install --reboot-exit-code {artifact}")
            );
            y += &format!("      commit: {}\n", q("mender-update commit"));
            y += &format!("      rollback: {}\n", q("mender-update rollback"));
            y += &format!("      status: {}\n", q("mender-update show-artifact"));
        }
        let update: [(&str, String); 9] = [
            ("reboot_command", "sim-reboot".into()),
            ("reboot_timeout", "30s".into()),
            ("boot_id_command", "boot-id".into()),
            ("failed_flag", self.failed_flag().display().to_string()),
            ("upload_dir", self.upload_dir().display().to_string()),
            ("appliance_start", "appliance-sim start".into()),
            ("appliance_follow", "exec appliance-sim follow".into()),
            ("appliance_status", "appliance-sim status".into()),
            (
                "appliance_clear",
                "rm -f {failed_flag} && appliance-sim restart".into(),
            ),
        ];
        y += "    update:\n";
        for (k, v) in update {
            y += &format!("      {k}: {}\n", q(&v));
        }
        y
    }

    /// Run `cmd` on the device with the OpenSSH client (`ssh -F /dev/null`, batch mode, strict
    /// host key checking against `known_hosts`), bounded by `timeout` (then killed).
    pub fn ssh(&self, key: &Path, known_hosts: &Path, cmd: &str, timeout: Duration) -> Output {
        ssh_client(self.port(), key, known_hosts, cmd, timeout)
    }
}

/// A fresh boot id (the kernel's random uuid).
fn new_boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| {
            format!(
                "{:x}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            )
        })
}

/// `ssh -p PORT ... fleetdeck-dev@127.0.0.1 CMD` with the OpenSSH client, killed after
/// `timeout`; the status is then the kill's (not success).
pub fn ssh_client(
    port: u16,
    key: &Path,
    known_hosts: &Path,
    cmd: &str,
    timeout: Duration,
) -> Output {
    let mut child = Command::new("ssh")
        .args(["-F", "/dev/null", "-T", "-i"])
        .arg(key)
        .arg("-p")
        .arg(port.to_string())
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("{TEST_USER}@127.0.0.1"))
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssh");
    let pipe = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = pipe(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = pipe(child.stderr.take().map(|s| Box::new(s) as _));
    let end = std::time::Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait ssh") {
            break st;
        }
        if std::time::Instant::now() >= end {
            let _ = child.kill();
            break child.wait().expect("wait ssh");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// A temp dir with an ed25519 client key, N devices (`dev-0`, `dev-1`, ...), their known_hosts
/// file and a fleet.yaml listing them all with one `updater`.
pub struct SimFleet {
    pub dir: tempfile::TempDir,
    pub devices: Vec<SimDevice>,
    pub fleet_file: PathBuf,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    /// The `updater:` of every device in the fleet file.
    pub updater: String,
}

impl SimFleet {
    pub fn start(n: usize, updater: &str, artifact: &str) -> SimFleet {
        Self::start_with(n, updater, |_| SimOpts {
            artifact: artifact.to_string(),
            ..Default::default()
        })
    }

    /// Like [`SimFleet::start`] with per-device options (`authorized` is filled in).
    pub fn start_with(n: usize, updater: &str, opts: impl Fn(usize) -> SimOpts) -> SimFleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let (key, public) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
        let devices: Vec<SimDevice> = (0..n)
            .map(|i| {
                let mut o = opts(i);
                o.authorized.push(public.clone());
                SimDevice::start(&format!("dev-{i}"), o)
            })
            .collect();
        let known_hosts = dir.path().join("known_hosts");
        let lines: String = devices
            .iter()
            .map(|d| d.known_hosts_line() + "\n")
            .collect();
        std::fs::write(&known_hosts, lines).expect("known_hosts");
        let fleet = SimFleet {
            fleet_file: dir.path().join("fleet.yaml"),
            dir,
            devices,
            key,
            known_hosts,
            updater: updater.to_string(),
        };
        fleet.write_fleet();
        fleet
    }

    pub fn device(&self, name: &str) -> &SimDevice {
        self.devices
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no simulated device {name}"))
    }

    pub fn device_mut(&mut self, name: &str) -> &mut SimDevice {
        self.devices
            .iter_mut()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no simulated device {name}"))
    }

    /// The fleet file's text: `known_hosts:` and every device's [`SimDevice::fleet_entry`].
    pub fn fleet_yaml(&self) -> String {
        let mut y = format!(
            "known_hosts: {}\ndevices:\n",
            yaml_str(&self.known_hosts.display().to_string())
        );
        for d in &self.devices {
            y += &d.fleet_entry(&self.updater, &self.key, &self.known_hosts);
        }
        y
    }

    /// (Re)write `fleet_file`, e.g. after changing a device's `tags`.
    pub fn write_fleet(&self) {
        std::fs::write(&self.fleet_file, self.fleet_yaml()).expect("write fleet file");
    }

    /// Run `cmd` on device `name` with the OpenSSH client.
    pub fn ssh(&self, name: &str, cmd: &str, timeout: Duration) -> Output {
        self.device(name)
            .ssh(&self.key, &self.known_hosts, cmd, timeout)
    }
}
