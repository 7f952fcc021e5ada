//! Drive the real fleetdeck binary in a private tmux server, as a user at a terminal would.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// One tmux server (own socket) running one session. Killed on drop.
pub struct Tmux {
    sock: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `cmd` (a shell command line) in a fixed-size window. `XDG_*` point into a private
    /// temp dir so tests never read or write the user's config, audit log or state.
    pub fn start(cmd: &str, cols: u16, rows: u16, env: &[(&str, &str)]) -> Tmux {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("tmux.sock");
        let mut full = String::new();
        for (k, v) in [
            ("XDG_CONFIG_HOME", dir.path().join("config")),
            ("XDG_STATE_HOME", dir.path().join("state")),
        ] {
            full += &format!("export {k}={}; ", shell_quote(&v.display().to_string()));
        }
        // A UTF-8 locale unless the test sets another: without one the console draws ASCII.
        full += "unset LC_ALL LC_CTYPE; export LANG=C.UTF-8; ";
        for (k, v) in env {
            full += &format!("export {k}={}; ", shell_quote(v));
        }
        // After the program exits, report its status and whether the tty is back in cooked
        // mode (icanon), then keep the pane alive so the test can read it.
        full += &format!(
            "export TERM=xterm-256color; {cmd}; echo \"EXITED:$?\"; stty -a | grep -o -- '-\\?icanon' | head -1; sleep 60"
        );
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&sock)
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg("sh")
            .arg("-c")
            .arg(&full)
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux { sock, dir }
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.sock);
        c
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state").join("fleetdeck")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config").join("fleetdeck")
    }

    /// Key names as tmux knows them: "Enter", "Escape", "Down", "C-c", or single characters.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = self
                .tmux()
                .args(["send-keys", "-t", "t", k])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "send-keys {k}");
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Literal text (no key-name interpretation).
    pub fn type_text(&self, text: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "send-keys -l {text}");
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen until `pred` holds; panics with the last screen on timeout.
    pub fn wait_until(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(&format!("`{needle}`"), timeout, |s| s.contains(needle))
    }

    pub fn wait_gone(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(&format!("`{needle}` to disappear"), timeout, |s| {
            !s.contains(needle)
        })
    }

    /// PID of the first child of the pane's shell (the program under test).
    pub fn program_pid(&self) -> Option<u32> {
        let out = self
            .tmux()
            .args(["display", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .ok()?;
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        let kids = Command::new("pgrep")
            .arg("-P")
            .arg(shell.to_string())
            .output()
            .ok()?;
        String::from_utf8_lossy(&kids.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Run a tmux command on this server (`set -g set-clipboard on`, `show-buffer`); its stdout.
    pub fn command(&self, args: &[&str]) -> String {
        let out = self.tmux().args(args).output().expect("tmux command");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Close the terminal under the program, as a dropped SSH session does.
    pub fn kill_session(&self) {
        let _ = self.tmux().args(["kill-server"]).status();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().args(["kill-server"]).status();
    }
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

pub fn fleetdeck_bin() -> &'static str {
    env!("CARGO_BIN_EXE_fleetdeck")
}
