//! A real OpenSSH server (Debian's `/usr/sbin/sshd -D -e`) on 127.0.0.1, with temporary host
//! keys and authorized_keys, for an unprivileged test user. Stopped (by its own pid) on drop.

#![allow(dead_code)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";
/// The unprivileged user devices log in as.
pub const TEST_USER: &str = "fleetdeck-dev";
/// A second user, for sandboxes.
pub const SANDBOX_USER: &str = "fleetdeck-sbx";

/// sshd, ssh-keygen and the test users are there (creating the users when we are root).
pub fn sshd_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if !Path::new(SSHD).exists() {
            super::note_unavailable(
                "sshd",
                "/usr/sbin/sshd missing (apt-get install openssh-server)",
            );
            return false;
        }
        if Command::new("ssh-keygen").arg("-?").output().is_err() {
            super::note_unavailable("sshd", "ssh-keygen missing (openssh-client)");
            return false;
        }
        let _ = std::fs::create_dir_all("/run/sshd");
        for u in [TEST_USER, SANDBOX_USER] {
            if !ensure_user(u) {
                super::note_unavailable("sshd", format!("cannot create test user {u} (need root)"));
                return false;
            }
        }
        true
    })
}

pub fn ensure_user(user: &str) -> bool {
    let exists = Command::new("id")
        .arg("-u")
        .arg(user)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let ok = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", user])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return false;
        }
    }
    // sshd without PAM refuses locked accounts ("!" password); "*" is "no password, not locked".
    Command::new("usermod")
        .args(["-p", "*", user])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A key pair made with ssh-keygen: (private path, public line).
pub fn keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut args = vec!["-q", "-t", kind, "-N", passphrase, "-C", name, "-f"];
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    if kind == "rsa" {
        args.extend(["-b", "2048"]);
    }
    let st = Command::new("ssh-keygen")
        .args(&args)
        .status()
        .expect("ssh-keygen");
    assert!(st.success(), "ssh-keygen {kind}");
    let public = std::fs::read_to_string(path.with_extension("pub"))
        .or_else(|_| std::fs::read_to_string(format!("{p}.pub")))
        .expect("public key");
    (path, public.trim().to_string())
}

/// SSH options for tests that never read the real ~/.ssh: `home` is a temp dir; no agent
/// unless given, `ssh_config` as the only client config, a 10 s connect timeout.
pub fn ssh_options(
    home: &Path,
    agent: Option<PathBuf>,
    ssh_config: &str,
) -> fleetdeck::ssh::SshOptions {
    fleetdeck::ssh::SshOptions {
        config: std::sync::Arc::new(fleetdeck::ssh::config::SshConfig::parse(ssh_config)),
        home: home.to_path_buf(),
        user_known_hosts: home.join(".ssh/known_hosts"),
        agent,
        connect_timeout: Duration::from_secs(10),
    }
}

pub struct Sshd {
    child: Option<std::process::Child>,
    pub ports: Vec<u16>,
    pub dir: tempfile::TempDir,
    /// `ssh-ed25519 AAAA... comment` of the (first) host key.
    pub host_key_pub: String,
    /// The first host key's private file: sshd reads it again for every connection, so
    /// overwriting it switches the key the next connection presents.
    pub host_key: PathBuf,
    /// Every host key's public line, the first one first.
    pub host_keys_pub: Vec<String>,
}

#[derive(Default, Clone)]
pub struct SshdOpts {
    /// Public key lines allowed to log in (as any user).
    pub authorized: Vec<String>,
    /// Extra listening ports besides the first.
    pub extra_ports: usize,
    /// Reuse this host key (private key path) instead of a fresh one.
    pub host_key: Option<PathBuf>,
    /// Listen here instead of 127.0.0.1 (another loopback address).
    pub listen: Option<String>,
    /// sshd LogLevel (default ERROR).
    pub log_level: Option<String>,
    /// `NAME=VALUE` pairs set for every session (e.g. a PATH with fake device tools first),
    /// written as one `SetEnv` line.
    pub set_env: Vec<String>,
    /// Run sshd as PID 1 of its own PID namespace (with its own /proc): its sessions see only
    /// this server's processes, like on a separate machine, and killing it ends them all.
    pub pid_namespace: bool,
    /// Types of the generated host keys (ssh-keygen -t), the first one first; default
    /// `["ed25519"]`. Ignored for the first key when `host_key` is given.
    pub host_key_types: Vec<&'static str>,
}

/// The device's unprivileged user must reach the fixture's files: every directory above them
/// needs the others' search bit. Some machines make /tmp 0700 (seen on a fresh build machine:
/// every SSH test then failed "auth failed", sshd unable to open authorized_keys); say so.
fn reachable_by_others(dir: &Path) {
    for d in dir.ancestors().skip(1) {
        let mode = std::fs::metadata(d)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert!(
            mode & 0o001 != 0,
            "{} is mode {:o}: the simulated device's user cannot reach {}; run the tests with \
             TMPDIR=/var/tmp (tests/run.sh sets it when /tmp is closed)",
            d.display(),
            mode & 0o7777,
            dir.display()
        );
    }
}

impl Sshd {
    pub fn port(&self) -> u16 {
        self.ports[0]
    }

    pub fn start(opts: SshdOpts) -> Sshd {
        let dir = tempfile::tempdir().expect("tempdir");
        // sshd reads authorized_keys as the logging-in user: the directory must be readable.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        reachable_by_others(dir.path());
        let types: Vec<&str> = if opts.host_key_types.is_empty() {
            vec!["ed25519"]
        } else {
            opts.host_key_types.clone()
        };
        let host_keys: Vec<PathBuf> = types
            .iter()
            .enumerate()
            .map(|(i, t)| match (&opts.host_key, i) {
                (Some(k), 0) => k.clone(),
                _ => keygen(dir.path(), &format!("host_{i}_{t}"), t, "").0,
            })
            .collect();
        let host_keys_pub: Vec<String> = host_keys
            .iter()
            .map(|k| {
                std::fs::read_to_string(format!("{}.pub", k.display()))
                    .expect("host pub")
                    .trim()
                    .to_string()
            })
            .collect();
        let host_key = host_keys[0].clone();
        let host_key_pub = host_keys_pub[0].clone();
        let ak = dir.path().join("authorized_keys");
        std::fs::write(&ak, opts.authorized.join("\n") + "\n").unwrap();
        std::fs::set_permissions(&ak, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let ports: Vec<u16> = (0..=opts.extra_ports).map(|_| super::free_port()).collect();
            let mut cfg = String::new();
            for p in &ports {
                cfg += &format!("Port {p}\n");
            }
            for k in &host_keys[1..] {
                cfg += &format!("HostKey {}\n", k.display());
            }
            cfg += &format!(
                "ListenAddress {}\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin no\nStrictModes no\nUsePAM no\nPrintMotd no\nPrintLastLog no\n\
                 AllowTcpForwarding yes\nMaxStartups 500\nMaxSessions 100\nLogLevel {}\n",
                opts.listen.as_deref().unwrap_or("127.0.0.1"),
                host_key.display(),
                dir.path().join("sshd.pid").display(),
                ak.display(),
                opts.log_level.as_deref().unwrap_or("ERROR"),
            );
            // One line: sshd keeps only the first `SetEnv` directive (first match wins).
            if !opts.set_env.is_empty() {
                cfg += &format!("SetEnv {}\n", opts.set_env.join(" "));
            }
            let cfg_path = dir.path().join("sshd_config");
            std::fs::write(&cfg_path, cfg).unwrap();
            let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
            let mut cmd = if opts.pid_namespace {
                // unshare forks sshd into the new namespace and kills it (SIGKILL) when unshare
                // dies; PID 1 gone, the kernel kills everything else in the namespace. sshd
                // reaps any child (waitpid(-1) in its SIGCHLD handler), so detached processes
                // orphaned there are reaped too.
                let mut c = Command::new("unshare");
                c.args(["--pid", "--fork", "--kill-child", "--mount-proc", SSHD]);
                c
            } else {
                Command::new(SSHD)
            };
            let mut child = cmd
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&cfg_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn sshd");
            let addr = opts.listen.clone().unwrap_or_else(|| "127.0.0.1".into());
            if ports
                .iter()
                .all(|p| wait_banner(&addr, *p, Duration::from_secs(5)))
            {
                return Sshd {
                    child: Some(child),
                    ports,
                    dir,
                    host_key_pub,
                    host_key,
                    host_keys_pub,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_err = std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default();
        }
        panic!("sshd did not start: {last_err}");
    }

    /// The known_hosts line for port `port`.
    pub fn known_hosts_line(&self, port: u16) -> String {
        self.known_hosts_line_for("127.0.0.1", port)
    }

    pub fn known_hosts_line_for(&self, host: &str, port: u16) -> String {
        known_hosts_line_of(&self.host_key_pub, host, port)
    }

    /// SIGSTOP every session process of this server (the `sshd` processes serving its
    /// connections, not the listener): the device freezes for the clients connected now,
    /// while new connections still work. Killed (by pid) when the guard drops.
    pub fn freeze_sessions(&self) -> Frozen {
        let server = self.server_pid().expect("sshd pid");
        let pids: Vec<u32> = descendants(server)
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim().starts_with("sshd"))
            })
            .collect();
        assert!(!pids.is_empty(), "no session to freeze");
        for p in &pids {
            super::kill(*p, rustix::process::Signal::STOP);
        }
        Frozen { pids }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The host PID of the listening sshd: the spawned process, or with `pid_namespace` the
    /// child of `unshare` (PID 1 inside the namespace, the target for `nsenter`).
    pub fn server_pid(&self) -> Option<u32> {
        let spawned = self.child.as_ref()?.id();
        let is_unshare = std::fs::read_to_string(format!("/proc/{spawned}/comm"))
            .is_ok_and(|c| c.trim() == "unshare");
        if !is_unshare {
            return Some(spawned);
        }
        for e in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`; comm may hold spaces, so split after the last `)`.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(spawned) {
                return Some(pid);
            }
        }
        None
    }
}

/// `[host]:port TYPE KEY` for a public key line.
pub fn known_hosts_line_of(pub_line: &str, host: &str, port: u16) -> String {
    let mut parts = pub_line.split_whitespace();
    format!(
        "[{host}]:{port} {} {}",
        parts.next().unwrap(),
        parts.next().unwrap()
    )
}

/// Session processes stopped by [`Sshd::freeze_sessions`]; killed on drop (they belong to the
/// test's own sshd).
pub struct Frozen {
    pub pids: Vec<u32>,
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for p in &self.pids {
            super::kill(*p, rustix::process::Signal::KILL);
        }
    }
}

/// Every process below `pid` (children, grandchildren, ...), from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after the last `)`.
        if let Some(pp) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|x| x.parse::<u32>().ok())
        {
            parent_of.push((p, pp));
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for (child, _) in parent_of.iter().filter(|(_, pp)| *pp == p) {
            out.push(*child);
            todo.push(*child);
        }
    }
    out
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Wait until the port answers with an SSH banner.
pub fn wait_banner(addr: &str, port: u16, timeout: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if let Ok(mut s) = std::net::TcpStream::connect((addr, port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8];
            if s.read_exact(&mut buf).is_ok() && &buf == b"SSH-2.0-" {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A real `ssh-agent` holding `key`; killed on drop.
pub struct Agent {
    child: std::process::Child,
    pub sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    pub fn start(key: &Path) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        let t0 = Instant::now();
        while !sock.exists() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let st = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-add");
        assert!(st.success(), "ssh-add");
        Agent {
            child,
            sock,
            _dir: dir,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
