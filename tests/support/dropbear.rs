//! A real Dropbear server (Debian's `dropbear-bin`, the SSH server of many embedded appliances)
//! on 127.0.0.1, with a temporary host key, for its own unprivileged test user. Dropbear reads
//! no authorized_keys but the user's own `~/.ssh/authorized_keys`, so that user is not the
//! OpenSSH tests' one. Stopped on drop.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub const DROPBEAR: &str = "/usr/sbin/dropbear";
/// The unprivileged user Dropbear devices log in as.
pub const DROPBEAR_USER: &str = "fleetdeck-db";

/// Dropbear, dropbearkey and the test user are there (creating the user when we are root).
pub fn dropbear_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if !Path::new(DROPBEAR).exists() {
            super::note_unavailable(
                "dropbear",
                "/usr/sbin/dropbear missing (apt-get install dropbear-bin)",
            );
            return false;
        }
        if !super::sshd::sshd_available() {
            super::note_unavailable("dropbear", "ssh-keygen or the test users are missing");
            return false;
        }
        if !super::sshd::ensure_user(DROPBEAR_USER) {
            super::note_unavailable("dropbear", "cannot create its test user (need root)");
            return false;
        }
        true
    })
}

/// The Dropbear test user's home directory (its `~/.ssh` holds the keys Dropbear reads).
pub fn home() -> PathBuf {
    let line = super::run_ok("getent", &["passwd", DROPBEAR_USER]);
    PathBuf::from(line.split(':').nth(5).expect("a home in the passwd entry"))
}

pub struct Dropbear {
    child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `ssh-ed25519 AAAA...` of the host key.
    pub host_key_pub: String,
}

impl Dropbear {
    /// A server accepting `authorized` (public key lines, added to the test user's own
    /// authorized_keys: tests running at once share that file, so lines are only appended).
    pub fn start(authorized: &[String]) -> Dropbear {
        static KEYS: Mutex<()> = Mutex::new(());
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let _one_writer = KEYS.lock().unwrap_or_else(|p| p.into_inner());
            let ssh = home().join(".ssh");
            std::fs::create_dir_all(&ssh).unwrap();
            let ak = ssh.join("authorized_keys");
            let mut lines = std::fs::read_to_string(&ak).unwrap_or_default();
            for a in authorized {
                if !lines.lines().any(|l| l == a) {
                    lines += &format!("{a}\n");
                }
            }
            std::fs::write(&ak, lines).unwrap();
            // Dropbear checks the modes and owner of ~/.ssh and the file, as sshd does.
            std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
            std::fs::set_permissions(&ak, std::fs::Permissions::from_mode(0o600)).unwrap();
            let owner = format!("{DROPBEAR_USER}:");
            super::run_ok("chown", &["-R", &owner, ssh.to_str().unwrap()]);
        }
        let host_key = dir.path().join("host_ed25519");
        super::run_ok(
            "dropbearkey",
            &["-t", "ed25519", "-f", host_key.to_str().unwrap()],
        );
        let public = super::run_ok("dropbearkey", &["-y", "-f", host_key.to_str().unwrap()]);
        let host_key_pub = public
            .lines()
            .find(|l| l.starts_with("ssh-ed25519 "))
            .expect("dropbearkey -y prints the public key")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let port = super::free_port();
            let log = dir.path().join("dropbear.log");
            // -F foreground, -E log to stderr, -s no passwords, -w no root, -j/-k no
            // forwarding: a device that only takes keys.
            let mut child = Command::new(DROPBEAR)
                .args(["-F", "-E", "-s", "-w", "-j", "-k", "-r"])
                .arg(&host_key)
                .arg("-P")
                .arg(dir.path().join("dropbear.pid"))
                .arg("-p")
                .arg(format!("127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("spawn dropbear");
            if super::sshd::wait_banner("127.0.0.1", port, Duration::from_secs(5)) {
                return Dropbear {
                    child,
                    port,
                    dir,
                    host_key_pub,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_err = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("dropbear did not start: {last_err}");
    }

    pub fn known_hosts_line(&self) -> String {
        super::sshd::known_hosts_line_of(&self.host_key_pub, "127.0.0.1", self.port)
    }

    /// What the server logged (with -E: one `Pubkey auth succeeded` line per login).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dropbear.log")).unwrap_or_default()
    }
}

impl Drop for Dropbear {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
