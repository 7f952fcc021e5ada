//! An in-memory A/B appliance with a Mender 5 client (`mender-update`), answering the commands
//! the update driver sends as ../shared/mender/CONTRACT.md says the real client does: exit 4
//! when a reboot is needed, show-artifact = the committed name until the commit, a failed
//! commit rolls back by itself and clears its state, `resume --stop-before
//! ArtifactCommit_Enter` is a no-op on a finished install, and a U-Boot-like bootloader
//! (bootlimit 1) that falls back on a second boot before the commit. For engine tests that
//! need many devices fast, and for the rollout bench. Real-SSH tests drive the real Mender 3
//! client and the 4.0/5.x simulator behind a real sshd instead (tests/support/device.rs).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use fleetdeck::rollout::job::JobEnd;
use fleetdeck::rollout::link::DeviceLink;

#[derive(Debug, Default)]
pub struct FakeState {
    /// The client's committed artifact (what show-artifact prints).
    pub artifact: String,
    /// Installed, not yet committed (the client's standalone state).
    pub pending: Option<String>,
    /// The boot environment points at the new partition, awaiting a commit.
    pub upgrade_available: bool,
    /// Boots of the new partition since the install (bootlimit 1).
    pub bootcount: u32,
    /// The device runs the newly installed partition.
    pub running_new: bool,
    pub boot: u64,
    /// The install fails (ArtifactInstall exits 1).
    pub fail_install: bool,
    /// The new software does not come up: the first boot falls back to the old one.
    pub boot_fails: bool,
    /// The commit is vetoed on the device (an ArtifactCommit_Enter script fails).
    pub veto_commit: bool,
    /// Jobs the driver started: their output lines and exit code.
    pub jobs: BTreeMap<String, (Vec<String>, i64)>,
    /// Jobs that died without a status (killed, or the device rebooted under them).
    pub lost_jobs: BTreeSet<String>,
    pub calls: Vec<String>,
}

impl FakeState {
    pub fn reboot(&mut self) {
        self.boot += 1;
        if self.upgrade_available {
            self.bootcount += 1;
            if self.boot_fails || self.bootcount > 1 {
                // altbootcmd: back to the old partition.
                self.upgrade_available = false;
                self.running_new = false;
            } else {
                self.running_new = true;
            }
        } else {
            self.running_new = false;
        }
    }

    pub fn install(&mut self, src: &str) -> (Vec<String>, i64) {
        let text = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if self.pending.is_some() {
            return (
                vec![
                    "System not modified.".into(),
                    log_line(
                        "error",
                        "Update already in progress. Please commit or roll back first",
                    ),
                ],
                1,
            );
        }
        if self.fail_install {
            return (
                text(&[
                    "Installing artifact...",
                    "Installation failed.",
                    "Rolled back.",
                ]),
                1,
            );
        }
        self.pending = Some(name_of(src));
        self.upgrade_available = true;
        self.bootcount = 0;
        (
            text(&[
                "Installing artifact...",
                "Installed, but not committed.",
                "Use 'commit' to update, or 'rollback' to roll back the update.",
                "At least one payload requested a reboot of the device it updated.",
            ]),
            4,
        )
    }

    fn commit(&mut self) -> (i64, String) {
        let Some(new) = self.pending.clone() else {
            return (2, "No update in progress.\n".into());
        };
        let refused = if !self.upgrade_available {
            Some("Upgrade failed and was reverted: refusing to commit!")
        } else if !self.running_new {
            Some("The running root is not the updated one: refusing to commit!")
        } else if self.veto_commit {
            Some("ArtifactCommit_Enter script failed: health gate says no")
        } else {
            None
        };
        if let Some(why) = refused {
            self.roll_back();
            return (
                1,
                format!(
                    "{}\nCommitting failed.\nRolled back.\n",
                    log_line("error", why)
                ),
            );
        }
        self.artifact = new;
        self.pending = None;
        self.upgrade_available = false;
        (0, "Committed.\n".into())
    }

    fn roll_back(&mut self) {
        self.pending = None;
        self.upgrade_available = false;
    }
}

fn log_line(severity: &str, msg: &str) -> String {
    format!(
        "record_id=1 severity={severity} time=\"2026-11-27 10:00:00.000\" name=\"Global\" msg=\"{msg}\""
    )
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

    /// How many installs the device was asked for.
    pub fn installs(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.starts_with("install "))
            .count()
    }

    async fn pause(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
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
        self.pause().await;
        let mut s = self.state.lock().unwrap();
        s.calls.push(cmd.to_string());
        Ok(if cmd.starts_with("if command -v mender-update") {
            (0, "mender-update\n".into())
        } else if cmd.starts_with("if command -v systemctl") {
            // The preconditions: no daemon, root.
            (0, "uid 0\n".into())
        } else if cmd == "mender-update show-artifact" {
            (0, format!("{}\n", s.artifact))
        } else if cmd.starts_with("cat /proc/sys/kernel/random/boot_id") {
            (0, format!("boot-{}\n", s.boot))
        } else if cmd == "reboot" {
            s.reboot();
            (0, String::new())
        } else if cmd == "mender-update commit" {
            s.commit()
        } else if cmd == "mender-update rollback" {
            if s.pending.is_some() {
                s.roll_back();
                (0, "Rolled back.\n".into())
            } else {
                (2, "No update in progress.\n".into())
            }
        } else if cmd == "mender-update resume --stop-before ArtifactCommit_Enter" {
            // A finished install: a no-op (cli_test.cpp:2460-2478); nothing: exit 2.
            if s.pending.is_some() {
                (0, String::new())
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
        _line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<i64, String> {
        Ok(self.run(cmd, Duration::ZERO).await?.0)
    }

    async fn start_job(&self, dir: &str, cmd: &str) -> Result<(), String> {
        self.pause().await;
        let mut s = self.state.lock().unwrap();
        s.calls.push(format!("job {dir}"));
        let Some(src) = cmd.strip_prefix("mender-update install --reboot-exit-code ") else {
            return Err(format!("unexpected install command {cmd}"));
        };
        s.calls.push(format!("install {src}"));
        let done = s.install(src);
        s.jobs.insert(dir.to_string(), done);
        Ok(())
    }

    async fn follow_job(
        &self,
        dir: &str,
        line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<JobEnd, String> {
        self.pause().await;
        let (job, lost) = {
            let s = self.state.lock().unwrap();
            (s.jobs.get(dir).cloned(), s.lost_jobs.contains(dir))
        };
        if lost {
            return Ok(JobEnd::Lost);
        }
        let Some((lines, code)) = job else {
            return Ok(JobEnd::Missing);
        };
        for l in lines {
            line(&l);
        }
        Ok(JobEnd::Exited(code))
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
