//! An in-memory device that answers the commands the update driver sends like a Mender 4
//! client on an A/B appliance (same contract as tests/fixtures/device-sim): for engine tests
//! that need many devices fast, and for the rollout bench. Real-SSH tests use the simulated
//! devices behind a real sshd instead.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use fleetdeck::update::link::DeviceLink;

#[derive(Debug, Default)]
pub struct FakeState {
    pub artifact: String,
    pub pending: Option<String>,
    pub booted: bool,
    pub boot: u64,
    /// The install fails at 40 %.
    pub fail_install: bool,
    /// After the reboot the bootloader falls back to the old artifact.
    pub boot_old: bool,
    pub calls: Vec<String>,
}

pub struct FakeDevice {
    pub state: Mutex<FakeState>,
    /// Time each command takes on the "device".
    pub latency: Duration,
}

impl FakeDevice {
    pub fn new(artifact: &str, latency: Duration) -> Self {
        FakeDevice {
            state: Mutex::new(FakeState {
                artifact: artifact.into(),
                ..Default::default()
            }),
            latency,
        }
    }

    pub fn artifact(&self) -> String {
        self.state.lock().unwrap().artifact.clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

fn name_of(src: &str) -> String {
    let base = src
        .trim_matches('\'')
        .rsplit('/')
        .next()
        .unwrap_or(src)
        .to_string();
    base.trim_end_matches(".mender").to_string()
}

#[async_trait]
impl DeviceLink for FakeDevice {
    async fn run(&self, cmd: &str, _timeout: Duration) -> Result<(i64, String), String> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut s = self.state.lock().unwrap();
        s.calls.push(cmd.to_string());
        Ok(if cmd.starts_with("if command -v mender-update") {
            (0, "mender-update\n".into())
        } else if cmd == "mender-update show-artifact" {
            (0, format!("{}\n", s.artifact))
        } else if cmd.starts_with("cat /proc/sys/kernel/random/boot_id") {
            (0, format!("boot-{}\n", s.boot))
        } else if cmd == "reboot" {
            s.boot += 1;
            if s.pending.is_some() {
                if s.boot_old {
                    s.pending = None;
                } else {
                    s.booted = true;
                }
            }
            (0, String::new())
        } else if cmd == "mender-update commit" {
            match (&s.pending, s.booted) {
                (None, _) => (2, "No update in progress.\n".into()),
                (Some(_), false) => (1, "not rebooted\n".into()),
                (Some(p), true) => {
                    s.artifact = p.clone();
                    s.pending = None;
                    s.booted = false;
                    (0, "Committed.\n".into())
                }
            }
        } else if cmd == "mender-update rollback" {
            if s.pending.take().is_some() {
                s.booted = false;
                (0, "Rolled back.\n".into())
            } else {
                (2, "No update in progress.\n".into())
            }
        } else {
            (127, format!("sh: {cmd}: not found\n"))
        })
    }

    async fn stream(
        &self,
        cmd: &str,
        line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<i64, String> {
        if cmd == "mender-update resume --reboot-exit-code" {
            let mut s = self.state.lock().unwrap();
            s.calls.push(cmd.to_string());
            return Ok(match (&s.pending, s.booted) {
                (None, _) => 2,
                (Some(_), false) => 4,
                (Some(_), true) => 0,
            });
        }
        let Some(src) = cmd.strip_prefix("mender-update install --reboot-exit-code ") else {
            return Ok(self.run(cmd, Duration::ZERO).await?.0);
        };
        let fail = {
            let mut s = self.state.lock().unwrap();
            s.calls.push(cmd.to_string());
            if s.pending.is_some() {
                return Ok(1);
            }
            s.fail_install
        };
        line("Installing artifact...");
        for p in [0, 20, 40, 60, 80, 100] {
            if !self.latency.is_zero() {
                tokio::time::sleep(self.latency).await;
            }
            line(&format!("Installing artifact... {p}%"));
            if fail && p == 40 {
                line("Installation failed.");
                return Ok(1);
            }
        }
        self.state.lock().unwrap().pending = Some(name_of(src));
        line("At least one payload requested a reboot of the device it updated.");
        Ok(4)
    }

    async fn upload(
        &self,
        _local: &Path,
        _remote: &str,
        progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<(), String> {
        progress(100);
        Ok(())
    }

    async fn disconnect(&self) {}
}
