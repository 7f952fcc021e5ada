//! Drives one device's update through the state machine (state.rs), over a [`DeviceLink`].
//!
//! Every step is persisted before it is acted on. A restarted console calls [`drive`] with the
//! record it found on disk and continues from the device's real state: an interrupted install
//! is never run again blindly (Mender 4 is asked to `resume`; anything else is reported), a
//! reboot is recognised by a changed boot id, and a commit whose answer was lost is recognised
//! by `show-artifact`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::journal::Journal;
use super::link::DeviceLink;
use super::progress;
use super::state::{Step, UpdateRecord};
use crate::backend::fleet::facts::sh_quote;
use crate::backend::fleet::file::{CustomUpdater, UpdateSettings, UpdaterKind};

/// How one device is updated.
#[derive(Debug, Clone)]
pub struct Plan {
    pub updater: UpdaterKind,
    pub custom: Option<CustomUpdater>,
    pub settings: UpdateSettings,
}

const SHORT: Duration = Duration::from_secs(30);
const LONG: Duration = Duration::from_secs(300);
/// Mender's exit codes (mender-update/cli/cli.cpp).
const NO_UPDATE_IN_PROGRESS: i64 = 2;
const REBOOT_REQUIRED: i64 = 4;

type Res = Result<(), String>;

/// Run `rec` to a final step (or as far as the device lets it); failures end as `Failed`
/// with the reason. `poll` paces the checks while a device reboots or an appliance updates.
pub async fn drive(
    link: &dyn DeviceLink,
    plan: &Plan,
    poll: Duration,
    journal: &Journal,
    rec: &mut UpdateRecord,
) {
    let driver = Driver {
        link,
        plan,
        journal,
        poll,
    };
    let result = match plan.updater {
        UpdaterKind::Mender | UpdaterKind::Custom => driver.run_installer(rec).await,
        UpdaterKind::Appliance => driver.run_appliance(rec).await,
        UpdaterKind::None => {
            Err("the device has no updater: set `updater:` in the fleet file".to_string())
        }
    };
    if let Err(reason) = result
        && !rec.step.is_final()
        && let Err(e) = journal.step(rec, Step::Failed, Some(reason.clone())).await
    {
        // The state dir is gone: still show the truth on screen.
        rec.step = Step::Failed;
        rec.reason = Some(format!("{reason} ({e})"));
        journal.progress(rec);
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn last_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn exited(what: &str, code: i64, out: &str) -> String {
    let line = crate::term::sanitize::sanitize_plain(&last_line(out));
    match code {
        -1 => format!("{what} ended without an exit status: {line}"),
        c => format!("{what} exited {c}: {line}"),
    }
}

/// Where a local artifact goes on the device.
fn upload_target(settings: &UpdateSettings, artifact: &str) -> String {
    let base = Path::new(artifact)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("artifact.mender");
    format!("{}/{base}", settings.upload_dir.trim_end_matches('/'))
}

/// A URL is installed by the device itself; anything else is a local file uploaded first.
fn is_url(artifact: &str) -> bool {
    artifact.contains("://")
}

/// Expand `~/` in a local artifact path.
fn local_path(artifact: &str) -> std::path::PathBuf {
    match artifact.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        None => artifact.into(),
    }
}

/// Replace `{artifact}` and `{device}` in a custom command, shell-quoted.
pub fn substitute(cmd: &str, artifact: &str, device: &str) -> String {
    cmd.replace("{artifact}", &sh_quote(artifact))
        .replace("{device}", &sh_quote(device))
}

/// The boot id now; Err when the device does not answer (yet).
async fn boot_id(link: &dyn DeviceLink, settings: &UpdateSettings) -> Result<String, String> {
    match link.run(&settings.boot_id_command, SHORT).await {
        Ok((0, out)) if !first_line(&out).is_empty() => Ok(first_line(&out)),
        Ok((code, out)) => Err(exited("the boot id command", code, &out)),
        Err(e) => Err(e),
    }
}

/// Reboot (the SSH session is expected to drop) and wait until the device answers with
/// another boot id, within the configured timeout.
async fn reboot_and_wait(
    link: &dyn DeviceLink,
    settings: &UpdateSettings,
    poll: Duration,
    journal: &Journal,
    rec: &mut UpdateRecord,
    already_ordered: bool,
) -> Res {
    let before = rec.boot_id.clone().unwrap_or_default();
    if !already_ordered {
        // Its answer does not matter: a reboot usually cuts the session before it exits.
        let r = link.run(&settings.reboot_command, SHORT).await;
        tracing::info!(device = %rec.device, "reboot ordered: {r:?}");
    }
    link.disconnect().await;
    let timeout = Duration::from_secs(settings.reboot_timeout);
    let started = Instant::now();
    loop {
        tokio::time::sleep(poll).await;
        match boot_id(link, settings).await {
            Ok(id) if id != before => return Ok(()),
            Ok(_) => {
                rec.last_line =
                    format!("waiting for the reboot ({}s)", started.elapsed().as_secs());
            }
            Err(_) => {
                link.disconnect().await;
                rec.last_line = format!(
                    "waiting for the device to come back ({}s)",
                    started.elapsed().as_secs()
                );
            }
        }
        journal.progress(rec);
        if started.elapsed() >= timeout {
            return Err(format!(
                "the device did not come back within {}s after the reboot",
                timeout.as_secs()
            ));
        }
    }
}

/// Stream `cmd`, keeping percent and last line current; (exit code, a reboot was asked for).
async fn stream_progress(
    link: &dyn DeviceLink,
    journal: &Journal,
    rec: &mut UpdateRecord,
    cmd: &str,
) -> Result<(i64, bool), String> {
    let mut wants_reboot = false;
    let code = link
        .stream(cmd, &mut |line: &str| {
            if let Some(p) = progress::percent(line) {
                rec.percent = Some(p);
            }
            wants_reboot |= progress::wants_reboot(line);
            rec.last_line = line.to_string();
            journal.progress(rec);
        })
        .await?;
    Ok((code, wants_reboot))
}

/// `mender-update` (Mender 4) or `mender` (3.x), whichever the device has.
async fn detect_mender(link: &dyn DeviceLink) -> Result<String, String> {
    let (_, out) = link
        .run(
            "if command -v mender-update >/dev/null 2>&1; then echo mender-update; \
             elif command -v mender >/dev/null 2>&1; then echo mender; else echo none; fi",
            SHORT,
        )
        .await?;
    match first_line(&out).as_str() {
        c @ ("mender-update" | "mender") => Ok(c.to_string()),
        _ => Err("neither mender-update (Mender 4) nor mender (3.x) is installed".into()),
    }
}

/// The commands of a Mender client or of a custom updater.
struct Commands {
    install: String,
    /// Mender 4 only: continue an interrupted install.
    resume: Option<String>,
    commit: Option<String>,
    rollback: Option<String>,
    /// Prints the running artifact (Mender `show-artifact`, the custom `status`).
    show: Option<String>,
    /// The custom `status`: exit 0 = healthy.
    health: Option<String>,
    mender: bool,
}

/// One device's update in progress: what it runs over and how it is paced.
struct Driver<'a> {
    link: &'a dyn DeviceLink,
    plan: &'a Plan,
    journal: &'a Journal,
    poll: Duration,
}

/// Mender and custom updaters: install → (reboot) → verify → commit, or roll back.
impl Driver<'_> {
    fn commands(&self, rec: &UpdateRecord) -> Result<Commands, String> {
        let src = rec.source.clone().unwrap_or_else(|| rec.artifact.clone());
        match self.plan.updater {
            UpdaterKind::Custom => {
                let c = self
                    .plan
                    .custom
                    .as_ref()
                    .ok_or("a custom updater needs `custom_updater:`")?;
                let sub =
                    |s: &Option<String>| s.as_ref().map(|cmd| substitute(cmd, &src, &rec.device));
                Ok(Commands {
                    install: sub(&c.install).ok_or("the custom updater has no `install`")?,
                    resume: None,
                    commit: sub(&c.commit),
                    rollback: sub(&c.rollback),
                    show: sub(&c.status),
                    health: sub(&c.status),
                    mender: false,
                })
            }
            _ => {
                let cli = rec
                    .cli
                    .clone()
                    .ok_or("the Mender client was not detected")?;
                let v4 = cli == "mender-update";
                Ok(Commands {
                    install: if v4 {
                        format!("{cli} install --reboot-exit-code {}", sh_quote(&src))
                    } else {
                        format!("{cli} install {}", sh_quote(&src))
                    },
                    resume: v4.then(|| format!("{cli} resume --reboot-exit-code")),
                    commit: Some(format!("{cli} commit")),
                    rollback: Some(format!("{cli} rollback")),
                    show: Some(format!("{cli} show-artifact")),
                    health: None,
                    mender: true,
                })
            }
        }
    }

    async fn show(&self, cmds: &Commands) -> Option<String> {
        let cmd = cmds.show.as_ref()?;
        match self.link.run(cmd, SHORT).await {
            Ok((0, out)) if !first_line(&out).is_empty() => Some(first_line(&out)),
            _ => None,
        }
    }

    async fn run_installer(&self, rec: &mut UpdateRecord) -> Res {
        // Steps entered by this process; a step found on disk is a resume.
        let mut fresh = rec.step == Step::Pending;
        loop {
            match rec.step {
                Step::Pending => {
                    if self.plan.updater == UpdaterKind::Mender {
                        rec.cli = Some(detect_mender(self.link).await?);
                    }
                    rec.previous = self.show(&self.commands(rec)?).await;
                    if is_url(&rec.artifact) {
                        rec.source = Some(rec.artifact.clone());
                        self.journal.step(rec, Step::Installing, None).await?;
                    } else {
                        let local = local_path(&rec.artifact);
                        if !local.is_file() {
                            return Err(format!("{}: no such file here", local.display()));
                        }
                        rec.source = Some(upload_target(&self.plan.settings, &rec.artifact));
                        self.journal.step(rec, Step::Uploading, None).await?;
                    }
                }
                Step::Uploading => {
                    // An interrupted upload is simply sent again: nothing was installed yet.
                    let local = local_path(&rec.artifact);
                    let remote = rec.source.clone().unwrap_or_default();
                    let journal = self.journal;
                    let mut shown = rec.clone();
                    self.link
                        .upload(&local, &remote, &mut |p| {
                            shown.percent = Some(p);
                            shown.last_line = format!("uploading to {remote}");
                            journal.progress(&shown);
                        })
                        .await
                        .map_err(|e| format!("upload of {}: {e}", local.display()))?;
                    fresh = true;
                    self.journal.step(rec, Step::Installing, None).await?;
                }
                Step::Downloading => self.journal.step(rec, Step::Installing, None).await?,
                Step::Installing => {
                    let cmds = self.commands(rec)?;
                    let (code, wants_reboot) = if fresh {
                        stream_progress(self.link, self.journal, rec, &cmds.install).await?
                    } else if let Some(resume) = &cmds.resume {
                        // Mender 4 continues its own interrupted install; "no update in
                        // progress" means it never took.
                        let (code, wants) =
                            stream_progress(self.link, self.journal, rec, resume).await?;
                        if code == NO_UPDATE_IN_PROGRESS {
                            return Err("the install was interrupted when the console stopped \
                                        and the device has no update in progress; not run again"
                                .into());
                        }
                        (code, wants)
                    } else {
                        return Err("the install was interrupted when the console stopped; its \
                                    outcome on the device is unknown, so it is not run again: \
                                    check the device, then commit (c) or roll back (u)"
                            .into());
                    };
                    let reboot = code == REBOOT_REQUIRED || (code == 0 && wants_reboot);
                    if code != 0 && code != REBOOT_REQUIRED {
                        return Err(exited("the install", code, &rec.last_line.clone()));
                    }
                    rec.percent = Some(100);
                    if reboot {
                        // Persisted with the step: the boot id to tell a rebooted device by.
                        rec.boot_id = Some(boot_id(self.link, &self.plan.settings).await?);
                        fresh = true;
                        self.journal.step(rec, Step::Rebooting, None).await?;
                    } else {
                        self.journal.step(rec, Step::Verifying, None).await?;
                    }
                }
                Step::Rebooting => {
                    // Fresh: order the reboot. Resumed: a new boot id means it is back
                    // already, the old one that the reboot was never ordered (order it), no
                    // answer that it is rebooting right now.
                    let (back, ordered) = if fresh {
                        (false, false)
                    } else {
                        match boot_id(self.link, &self.plan.settings).await {
                            Ok(id) if Some(&id) != rec.boot_id.as_ref() => (true, true),
                            Ok(_) => (false, false),
                            Err(_) => (false, true),
                        }
                    };
                    if !back {
                        reboot_and_wait(
                            self.link,
                            &self.plan.settings,
                            self.poll,
                            self.journal,
                            rec,
                            ordered,
                        )
                        .await?;
                    }
                    rec.rebooted = true;
                    rec.last_line = "back after the reboot".into();
                    self.journal.step(rec, Step::Verifying, None).await?;
                }
                Step::Verifying => return self.verify_and_commit(rec).await,
                Step::RollingBack => return self.roll_back(rec).await,
                Step::Committed | Step::RolledBack | Step::Failed => return Ok(()),
            }
        }
    }

    async fn verify_and_commit(&self, rec: &mut UpdateRecord) -> Res {
        let cmds = self.commands(rec)?;
        for check in [&self.plan.settings.verify_command, &cmds.health]
            .into_iter()
            .flatten()
        {
            let (code, out) = self.link.run(check, LONG).await?;
            if code != 0 {
                let reason = exited("the health check", code, &out);
                return self.start_rollback(rec, reason).await;
            }
        }
        let Some(commit) = &cmds.commit else {
            rec.installed = self.show(&cmds).await;
            return self.journal.step(rec, Step::Committed, None).await;
        };
        let (code, out) = self.link.run(commit, LONG).await?;
        rec.last_line = last_line(&out);
        match code {
            0 => {
                rec.installed = self.show(&cmds).await;
                rec.percent = Some(100);
                self.journal.step(rec, Step::Committed, None).await
            }
            NO_UPDATE_IN_PROGRESS if cmds.mender => {
                // Nothing to commit: either our commit already went through (its answer was
                // lost with a console restart), or the device booted the old artifact again.
                let now = self.show(&cmds).await;
                if now.is_some() && now != rec.previous {
                    rec.installed = now;
                    self.journal.step(rec, Step::Committed, None).await
                } else {
                    let reason = format!(
                        "the device came back on the old artifact{}: no update in progress after the reboot",
                        rec.previous
                            .as_ref()
                            .map(|p| format!(" ({p})"))
                            .unwrap_or_default()
                    );
                    self.journal.step(rec, Step::RolledBack, Some(reason)).await
                }
            }
            _ => {
                let reason = exited("the commit", code, &out);
                self.start_rollback(rec, reason).await
            }
        }
    }

    async fn start_rollback(&self, rec: &mut UpdateRecord, reason: String) -> Res {
        self.journal
            .step(rec, Step::RollingBack, Some(reason))
            .await?;
        self.roll_back(rec).await
    }

    /// Undo the update; reboot again when the device had rebooted into it.
    async fn roll_back(&self, rec: &mut UpdateRecord) -> Res {
        let cmds = self.commands(rec)?;
        let reason = rec.reason.clone().unwrap_or_else(|| "rolled back".into());
        let Some(rollback) = &cmds.rollback else {
            return Err(format!("{reason}; the updater has no rollback command"));
        };
        let (code, out) = self.link.run(rollback, LONG).await?;
        rec.last_line = last_line(&out);
        match code {
            0 => {
                if rec.rebooted {
                    rec.boot_id = Some(boot_id(self.link, &self.plan.settings).await?);
                    self.journal.save(rec).await?;
                    reboot_and_wait(
                        self.link,
                        &self.plan.settings,
                        self.poll,
                        self.journal,
                        rec,
                        false,
                    )
                    .await?;
                }
                rec.installed = self.show(&cmds).await;
                self.journal.step(rec, Step::RolledBack, Some(reason)).await
            }
            NO_UPDATE_IN_PROGRESS if cmds.mender => {
                rec.installed = self.show(&cmds).await;
                self.journal.step(rec, Step::RolledBack, Some(reason)).await
            }
            _ => Err(format!("{reason}; {}", exited("the rollback", code, &out))),
        }
    }
}

/// A systemd appliance updater: start the unit, follow its output, watch the failed flag.
impl Driver<'_> {
    async fn flag_set(&self) -> Result<bool, String> {
        let flag = sh_quote(&self.plan.settings.failed_flag);
        let (code, out) = self
            .link
            .run(&format!("test -e {flag} && echo set || echo clear"), SHORT)
            .await?;
        match (code, first_line(&out).as_str()) {
            (0, "set") => Ok(true),
            (0, "clear") => Ok(false),
            _ => Err(exited("checking the failed flag", code, &out)),
        }
    }

    async fn run_appliance(&self, rec: &mut UpdateRecord) -> Res {
        let s = &self.plan.settings;
        let mut fresh = false;
        loop {
            match rec.step {
                Step::Pending => {
                    if self.flag_set().await? {
                        return Err(format!(
                            "{} is set: clear the failed flag first (C)",
                            s.failed_flag
                        ));
                    }
                    fresh = true;
                    self.journal.step(rec, Step::Installing, None).await?;
                }
                Step::Installing => {
                    let state = self.follow_until_done(rec, fresh).await?;
                    if state == "failed" {
                        let reason = format!("the appliance update failed: {}", rec.last_line);
                        return Err(reason);
                    }
                    self.journal.step(rec, Step::Verifying, None).await?;
                }
                Step::Verifying => {
                    if self.flag_set().await? {
                        return Err(format!(
                            "the appliance update failed: {} is set ({})",
                            s.failed_flag, rec.last_line
                        ));
                    }
                    if let Some(v) = &s.verify_command {
                        let (code, out) = self.link.run(v, LONG).await?;
                        if code != 0 {
                            return Err(exited("the health check", code, &out));
                        }
                    }
                    rec.percent = Some(100);
                    return self.journal.step(rec, Step::Committed, None).await;
                }
                Step::Committed | Step::RolledBack | Step::Failed => return Ok(()),
                other => {
                    return Err(format!(
                        "an appliance update has no `{}` step",
                        other.label()
                    ));
                }
            }
        }
    }

    /// Start the update (when `start`), follow its output until the unit is no longer active;
    /// the unit's final state (`inactive`, `failed` ...).
    async fn follow_until_done(
        &self,
        rec: &mut UpdateRecord,
        start: bool,
    ) -> Result<String, String> {
        let s = &self.plan.settings;
        let poll = async {
            if start {
                // Let the follower attach first so no early line is lost.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let (code, out) = self.link.run(&s.appliance_start, SHORT).await?;
                if code != 0 {
                    return Err(exited("starting the update", code, &out));
                }
            }
            loop {
                tokio::time::sleep(self.poll).await;
                let (_, out) = self.link.run(&s.appliance_status, SHORT).await?;
                let state = first_line(&out);
                if !matches!(state.as_str(), "active" | "activating" | "reloading") {
                    return Ok(state);
                }
            }
        };
        tokio::pin!(poll);
        let follow = stream_progress(self.link, self.journal, rec, &s.appliance_follow);
        tokio::select! {
            r = &mut poll => r,
            _ = follow => poll.await,
        }
    }
}

/// An operator's commit, rollback or "clear failed flag and restart" on a device that no
/// rollout is driving; the message for the toast.
pub async fn manual(
    link: &dyn DeviceLink,
    plan: &Plan,
    device: &str,
    action: &crate::model::ResourceAction,
) -> Result<String, String> {
    use crate::model::ResourceAction as A;
    if let A::ClearFailed = action {
        let flag = sh_quote(&plan.settings.failed_flag);
        let cmd = plan
            .settings
            .appliance_clear
            .replace("{failed_flag}", &flag);
        let (code, out) = link.run(&cmd, LONG).await?;
        return if code == 0 {
            Ok(format!(
                "{device}: failed flag cleared, appliance restarted"
            ))
        } else {
            Err(exited("clearing the failed flag", code, &out))
        };
    }
    let commit = matches!(action, A::Commit);
    let (cmd, mender) = match plan.updater {
        UpdaterKind::Mender => {
            let cli = detect_mender(link).await?;
            (
                format!("{cli} {}", if commit { "commit" } else { "rollback" }),
                true,
            )
        }
        UpdaterKind::Custom => {
            let c = plan.custom.clone().unwrap_or_default();
            let cmd = if commit { c.commit } else { c.rollback };
            let cmd = cmd.ok_or_else(|| {
                format!(
                    "the custom updater of {device} has no `{}` command",
                    if commit { "commit" } else { "rollback" }
                )
            })?;
            (substitute(&cmd, "", device), false)
        }
        UpdaterKind::Appliance => {
            return Err(
                "an appliance updater has no commit or rollback: use clear failed flag (C)".into(),
            );
        }
        UpdaterKind::None => {
            return Err(format!(
                "{device} has no updater: set `updater:` in the fleet file"
            ));
        }
    };
    let (code, out) = link.run(&cmd, LONG).await?;
    match code {
        0 if commit => Ok(format!("{device}: committed")),
        0 => Ok(format!(
            "{device}: rolled back{}",
            if progress::wants_reboot(&out) {
                "; reboot it to boot the old artifact"
            } else {
                ""
            }
        )),
        NO_UPDATE_IN_PROGRESS if mender => {
            Ok(format!("{device}: no update in progress, nothing to do"))
        }
        _ => Err(exited(
            if commit { "the commit" } else { "the rollback" },
            code,
            &out,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_commands_quote_their_arguments() {
        assert_eq!(
            substitute(
                "up --src {artifact} --name {device}",
                "http://x/a b'c",
                "gw-1"
            ),
            r"up --src 'http://x/a b'\''c' --name 'gw-1'"
        );
        assert_eq!(
            upload_target(&UpdateSettings::default(), "/tmp/rel-2.mender"),
            "/var/tmp/rel-2.mender"
        );
        assert!(is_url("https://h/a.mender"));
        assert!(!is_url("./a.mender"));
    }
}
