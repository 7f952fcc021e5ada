//! Drives one device's update through the state machine (state.rs), over a [`DeviceLink`].
//!
//! Every step is persisted before it is acted on. A restarted console calls [`drive`] with the
//! record it found on disk and continues from the device's real state: the install runs
//! detached on the device (job.rs), so a restarted console follows it again or reads how it
//! ended; an install whose end is unknown is never run again and never committed blindly; a
//! reboot is recognised by a changed boot id, and a commit whose answer was lost by
//! `show-artifact`.
//!
//! The Mender paths follow the real clients (../shared/mender/CONTRACT.md, with upstream
//! file:line citations): a failed commit has already rolled back, so a device that booted the
//! new software is rebooted back before the update is recorded `rolled back`; a bootloader
//! fallback is told by the client's own words; `<name>_INCONSISTENT` is never a success.

use std::path::Path;
use std::time::{Duration, Instant};

use super::job::{self, JobEnd};
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

/// What a verified update does before its commit (a rollout's `hold_before_commit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AtHold {
    /// No hold: commit once verified.
    #[default]
    Commit,
    /// Stop at `Held` (durable) and return; the rollout waits for the operator.
    Wait,
    /// The operator rolled the held update back (`u`, or the rollout was aborted).
    RollBack,
}

const SHORT: Duration = Duration::from_secs(30);
const LONG: Duration = Duration::from_secs(300);
/// Why a held update was rolled back.
const HELD_ROLLED_BACK: &str = "rolled back by the operator at the hold before commit";
/// Mender's exit codes (mender-update/cli/cli.cpp).
const NO_UPDATE_IN_PROGRESS: i64 = 2;
const REBOOT_REQUIRED: i64 = 4;
/// Output of one install kept to find the client's reason (its log is on the device).
const OUTPUT_KEPT: usize = 256 * 1024;

type Res = Result<(), String>;

/// Run `rec` to a final step (or as far as the device lets it); failures end as `Failed`
/// with the reason. `poll` paces the checks while a device reboots or an appliance updates.
pub async fn drive(
    link: &dyn DeviceLink,
    plan: &Plan,
    poll: Duration,
    journal: &Journal,
    rec: &mut UpdateRecord,
    at_hold: AtHold,
) {
    let driver = Driver {
        link,
        plan,
        journal,
        poll,
        at_hold,
    };
    let result = match plan.updater {
        UpdaterKind::Mender | UpdaterKind::Custom => driver.run_installer(rec).await,
        UpdaterKind::Appliance => driver.run_appliance(rec).await,
        UpdaterKind::None => {
            Err("the device has no updater: set `updater:` in the fleet file".to_string())
        }
    };
    if let Err(reason) = &result
        && !rec.step.is_final()
        && let Some(disk) = journal.on_disk(&rec.device).await
        && (disk.step != rec.step || disk.changed != rec.changed)
    {
        // Another process moved the record on: its truth stands, never overwritten as failed.
        tracing::warn!(device = %rec.device, "stopped on a record another process changed: {reason}");
        *rec = disk;
        journal.progress(rec);
        return;
    }
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

/// Replace `{artifact}` and `{device}` in a custom command, each shell-quoted, in one pass
/// over the template: a placeholder inside a substituted value is never expanded again (an
/// artifact URL naming `{device}` stays as it was sent and recorded).
pub fn substitute(cmd: &str, artifact: &str, device: &str) -> String {
    let mut out = String::with_capacity(cmd.len() + artifact.len() + device.len());
    let mut rest = cmd;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{artifact}") {
            out.push_str(&sh_quote(artifact));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{device}") {
            out.push_str(&sh_quote(device));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The boot id now; Err when the device does not answer (yet).
async fn boot_id(link: &dyn DeviceLink, settings: &UpdateSettings) -> Result<String, String> {
    match link.run(&settings.boot_id_command, SHORT).await {
        Ok((0, out)) if !first_line(&out).is_empty() => Ok(first_line(&out)),
        Ok((code, out)) => Err(exited("the boot id command", code, &out)),
        Err(e) => Err(e),
    }
}

/// Reboot (unless `already_ordered`; the SSH session is expected to drop) and wait until the
/// device answers with a boot id other than `before`, within the configured timeout.
/// `waiting` hears what it is waiting for.
async fn reboot_and_wait(
    link: &dyn DeviceLink,
    settings: &UpdateSettings,
    poll: Duration,
    before: &str,
    already_ordered: bool,
    waiting: &mut (dyn FnMut(String) + Send),
) -> Res {
    if !already_ordered {
        // Its answer does not matter: a reboot usually cuts the session before it exits.
        let r = link.run(&settings.reboot_command, SHORT).await;
        tracing::info!("reboot ordered: {r:?}");
    }
    link.disconnect().await;
    let timeout = Duration::from_secs(settings.reboot_timeout);
    let started = Instant::now();
    loop {
        tokio::time::sleep(poll).await;
        match boot_id(link, settings).await {
            Ok(id) if id != before => return Ok(()),
            Ok(_) => waiting(format!(
                "waiting for the reboot ({}s)",
                started.elapsed().as_secs()
            )),
            Err(_) => {
                link.disconnect().await;
                waiting(format!(
                    "waiting for the device to come back ({}s)",
                    started.elapsed().as_secs()
                ));
            }
        }
        if started.elapsed() >= timeout {
            return Err(format!(
                "the device did not come back within {}s after the reboot",
                timeout.as_secs()
            ));
        }
    }
}

/// Stream `cmd`, keeping percent and last line current; its exit code.
async fn stream_progress(
    link: &dyn DeviceLink,
    journal: &Journal,
    rec: &mut UpdateRecord,
    cmd: &str,
) -> Result<i64, String> {
    let mut bar = progress::Progress::default();
    link.stream(cmd, &mut |line: &str| {
        if let Some(p) = bar.feed(line) {
            rec.percent = Some(p);
        }
        if let Some(shown) = progress::display_line(line) {
            rec.last_line = shown;
        }
        journal.progress(rec);
    })
    .await
}

/// `mender-update` (Mender 4/5) or `mender` (3.x), whichever the device has.
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
        _ => Err("neither mender-update (Mender 4/5) nor mender (3.x) is installed".into()),
    }
}

/// Prints what manages the client when a Mender daemon runs (its systemd unit, or the process:
/// `mender-update daemon` is mender-updated.service's ExecStart on 4/5, `mender daemon`
/// mender-client.service's on 3.x), and the login user's uid. A standalone install next to a running daemon fights it, and needs
/// root (mender-docs "Standalone deployments"; CONTRACT.md "Standalone mode requires ...").
/// The patterns are anchored at the start of a command line so the checking shell (whose
/// own command line holds them as text) never matches itself.
const PRECONDITIONS: &str = "\
    if command -v systemctl >/dev/null 2>&1; then \
      for u in mender-updated mender-client; do \
        [ \"$(systemctl is-active \"$u\" 2>/dev/null)\" = active ] && echo \"daemon $u.service\"; \
      done; fi; \
    if command -v pgrep >/dev/null 2>&1; then \
      pgrep -f '^([^ ]*/)?mender-update (.* )?daemon( |$)' >/dev/null 2>&1 && echo 'daemon mender-update daemon'; \
      pgrep -f '^([^ ]*/)?mender (.* )?-?daemon( |$)' >/dev/null 2>&1 && echo 'daemon mender daemon'; \
    fi; \
    echo \"uid $(id -u)\"";

/// What a Mender standalone install needs from the device: no daemon managing the client,
/// and root (directly, or through `sudo`).
async fn check_preconditions(link: &dyn DeviceLink, settings: &UpdateSettings) -> Res {
    let (_, out) = link.run(PRECONDITIONS, SHORT).await?;
    if let Some(daemon) = out.lines().find_map(|l| l.trim().strip_prefix("daemon ")) {
        return Err(format!(
            "this device is managed by its Mender server ({daemon} is running): deploy through \
             the server (:mdevices, U) or stop the daemon"
        ));
    }
    let uid = out.lines().find_map(|l| l.trim().strip_prefix("uid "));
    if settings.require_root && !settings.sudo && uid != Some("0") {
        return Err(format!(
            "a standalone Mender install needs root and the login user is not (uid {}): \
             set `update: {{sudo: true}}` (passwordless sudo) or log in as root",
            uid.unwrap_or("unknown")
        ));
    }
    Ok(())
}

/// `show-artifact` after a failed or unsupported rollback: the device may run a mix of old
/// and new (mender src/mender-update/standalone/states.cpp:500-505; 3.x conf/paths.go:26).
fn is_inconsistent(name: &str) -> bool {
    name.ends_with("_INCONSISTENT")
}

fn inconsistent_reason(name: &str) -> String {
    format!(
        "the client reports {name}: a rollback failed or the update cannot be rolled back, so \
         the device may run a mix of old and new software; check it (show-provides, the \
         bootloader environment, the running root), then install a known-good artifact"
    )
}

/// The client's failed commit names the bootloader's fallback (rootfs-image:258-264 "Upgrade
/// failed and was reverted"; Mender 3 dual rootfs "... or the bootloader rolled back",
/// installer/dual_rootfs_device.go:33-35).
fn bootloader_fell_back(out: &str) -> bool {
    let l = out.to_ascii_lowercase();
    l.contains("was reverted") || l.contains("bootloader rolled back")
}

/// The commands of a Mender client or of a custom updater.
struct Commands {
    install: String,
    commit: Option<String>,
    rollback: Option<String>,
    /// Prints the running artifact (Mender `show-artifact`, the custom `status`).
    show: Option<String>,
    /// The custom `status`: exit 0 = healthy.
    health: Option<String>,
    /// The Mender client's command (`mender` or `mender-update`) when it is one.
    mender: Option<String>,
}

/// One device's update in progress: what it runs over and how it is paced.
struct Driver<'a> {
    link: &'a dyn DeviceLink,
    plan: &'a Plan,
    journal: &'a Journal,
    poll: Duration,
    at_hold: AtHold,
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
                    commit: sub(&c.commit),
                    rollback: sub(&c.rollback),
                    show: sub(&c.status),
                    health: sub(&c.status),
                    mender: None,
                })
            }
            _ => {
                let cli = rec
                    .cli
                    .clone()
                    .ok_or("the Mender client was not detected")?;
                // Both clients exit 4 when a payload needs a reboot (3.x since 2.5:
                // mender@3.5.3 cli/cli.go:180-184, main.go:50-51; 4/5 cli.cpp:35-36).
                Ok(Commands {
                    install: format!("{cli} install --reboot-exit-code {}", sh_quote(&src)),
                    commit: Some(format!("{cli} commit")),
                    rollback: Some(format!("{cli} rollback")),
                    show: Some(format!("{cli} show-artifact")),
                    health: None,
                    mender: Some(cli),
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

    /// Reboot (or only wait, when `ordered`) until the boot id is not `rec.boot_id`.
    async fn reboot(&self, rec: &mut UpdateRecord, ordered: bool) -> Res {
        let before = rec.boot_id.clone().unwrap_or_default();
        let journal = self.journal;
        reboot_and_wait(
            self.link,
            &self.plan.settings,
            self.poll,
            &before,
            ordered,
            &mut |line| {
                rec.last_line = line;
                journal.progress(rec);
            },
        )
        .await
    }

    /// A command the operator runs on the device by hand, as fleetdeck would run it.
    fn by_hand(&self, cmd: &str) -> String {
        if self.plan.settings.sudo {
            format!("`sudo {cmd}`")
        } else {
            format!("`{cmd}`")
        }
    }

    /// Persist the boot id and job dir of an install about to start, then enter `Installing`.
    async fn enter_installing(&self, rec: &mut UpdateRecord) -> Res {
        rec.boot_id = boot_id(self.link, &self.plan.settings).await.ok();
        rec.job = Some(job::dir_for(
            &self.plan.settings.upload_dir,
            &rec.rollout,
            &rec.device,
        ));
        self.journal.step(rec, Step::Installing, None).await
    }

    async fn run_installer(&self, rec: &mut UpdateRecord) -> Res {
        // Steps entered by this process; a step found on disk is a resume.
        let mut fresh = rec.step == Step::Pending;
        loop {
            match rec.step {
                Step::Pending => {
                    if self.plan.updater == UpdaterKind::Mender {
                        let cli = detect_mender(self.link).await?;
                        check_preconditions(self.link, &self.plan.settings).await?;
                        rec.cli = Some(cli);
                    }
                    rec.previous = self.show(&self.commands(rec)?).await;
                    if is_url(&rec.artifact) {
                        rec.source = Some(rec.artifact.clone());
                        self.enter_installing(rec).await?;
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
                    self.enter_installing(rec).await?;
                }
                Step::Downloading => self.enter_installing(rec).await?,
                Step::Installing => {
                    let cmds = self.commands(rec)?;
                    // A record from before installs were detached has no job: its install
                    // died with the console that ran it.
                    let Some(dir) = rec.job.clone() else {
                        self.install_unknown(rec, &cmds, JobEnd::Lost).await?;
                        fresh = true;
                        continue;
                    };
                    if fresh {
                        rec.last_line = "installing".into();
                        self.journal.progress(rec);
                        self.link.start_job(&dir, &cmds.install).await?;
                    }
                    let (end, output) = self.follow(rec, &dir).await?;
                    let code = match end {
                        // Killed by a signal (128+N): what the client left is unknown.
                        JobEnd::Exited(code)
                            if cmds.mender.is_none() || (0..=REBOOT_REQUIRED).contains(&code) =>
                        {
                            code
                        }
                        unknown => {
                            self.install_unknown(rec, &cmds, unknown).await?;
                            fresh = true;
                            continue;
                        }
                    };
                    let wants_reboot = output.lines().any(progress::wants_reboot);
                    if code != 0 && code != REBOOT_REQUIRED {
                        let why = progress::client_reason(&output)
                            .unwrap_or_else(|| rec.last_line.clone());
                        return Err(format!("the install exited {code}: {why}"));
                    }
                    rec.percent = Some(100);
                    if code == REBOOT_REQUIRED || wants_reboot {
                        fresh = true;
                        self.enter_reboot(rec).await?;
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
                        self.reboot(rec, ordered).await?;
                    }
                    rec.rebooted = true;
                    rec.last_line = "back after the reboot".into();
                    self.journal.step(rec, Step::Verifying, None).await?;
                }
                Step::Verifying => return self.verify_and_commit(rec).await,
                Step::Held => {
                    return match self.at_hold {
                        AtHold::Wait => Ok(()),
                        // Checked again: time passed since the hold began.
                        AtHold::Commit => self.verify_and_commit(rec).await,
                        AtHold::RollBack => self.start_rollback(rec, HELD_ROLLED_BACK.into()).await,
                    };
                }
                Step::RollingBack => return self.roll_back(rec).await,
                Step::Committed | Step::RolledBack | Step::Failed | Step::Skipped => {
                    return Ok(());
                }
            }
        }
    }

    /// The install finished and the device must boot it. If it rebooted by itself since the
    /// install started (power loss, an operator, while the console was away) it already runs
    /// the new software once: never reboot it again before the commit — a second boot would
    /// make the bootloader fall back.
    async fn enter_reboot(&self, rec: &mut UpdateRecord) -> Res {
        let now = boot_id(self.link, &self.plan.settings).await?;
        if rec.boot_id.as_ref().is_some_and(|before| *before != now) {
            rec.rebooted = true;
            rec.last_line = "the device rebooted after the install".into();
            return self.journal.step(rec, Step::Verifying, None).await;
        }
        // Persisted with the step: the boot id to tell a rebooted device by.
        rec.boot_id = Some(now);
        self.journal.step(rec, Step::Rebooting, None).await
    }

    /// Follow the install's job until it ends, through lost connections (the job goes on
    /// without us); (how it ended, its whole output). A follow that breaks is started again
    /// (it replays the job's log from the start); the device may stay unreachable for
    /// `reboot_timeout` since the last time a follow brought new output — so a long install
    /// with one blip goes on, and a device that never answers again ends the update.
    async fn follow(&self, rec: &mut UpdateRecord, dir: &str) -> Result<(JobEnd, String), String> {
        let patience = Duration::from_secs(self.plan.settings.reboot_timeout);
        let mut last_news = Instant::now();
        let mut longest = 0;
        loop {
            let mut output = String::new();
            let mut bar = progress::Progress::default();
            let journal = self.journal;
            let followed = self
                .link
                .follow_job(dir, &mut |line: &str| {
                    if output.len() < OUTPUT_KEPT {
                        output.push_str(line);
                        output.push('\n');
                    }
                    if let Some(p) = bar.feed(line) {
                        rec.percent = Some(p);
                    }
                    if let Some(shown) = progress::display_line(line) {
                        rec.last_line = shown;
                    }
                    journal.progress(rec);
                })
                .await;
            if output.len() > longest {
                longest = output.len();
                last_news = Instant::now();
            }
            match followed {
                Ok(end) => return Ok((end, output)),
                Err(e) if last_news.elapsed() < patience => {
                    tracing::info!(device = %rec.device, "following the install: {e}; again");
                    rec.last_line = format!("reconnecting to follow the install ({e})");
                    self.journal.progress(rec);
                    self.link.disconnect().await;
                    tokio::time::sleep(self.poll).await;
                }
                Err(e) => return Err(format!("lost the install's output: {e}")),
            }
        }
    }

    /// The install ended without a status we can trust (the console was away when it was
    /// killed, or the device rebooted under it). Never guess and never commit: Mender 5 can
    /// say what it left without acting (`resume --stop-before ArtifactCommit_Enter` is a no-op
    /// on a finished install, cli_test.cpp:2460-2478, and rolls an interrupted one back,
    /// standalone.cpp:440-465); Mender 4.0 has no `resume` (4.0.7 cli.cpp:209-211) and 3.x
    /// none at all: stop, with the commands that finish it by hand. Moves `rec` on to the
    /// step that follows from what the device said.
    async fn install_unknown(&self, rec: &mut UpdateRecord, cmds: &Commands, end: JobEnd) -> Res {
        let why = match end {
            JobEnd::Missing => "the install's job is gone from the device".to_string(),
            JobEnd::Lost => {
                "the install stopped without an exit status (killed, or the device rebooted \
                 under it)"
                    .to_string()
            }
            JobEnd::Exited(code) => format!("the install was killed (exit {code})"),
        };
        let Some(cli) = &cmds.mender else {
            return Err(format!(
                "{why}; its outcome is unknown, so it is not run again: check the device, \
                 then commit (c) or roll back (u)"
            ));
        };
        if cli == "mender-update" {
            let (code, out) = self
                .link
                .run(
                    "mender-update resume --stop-before ArtifactCommit_Enter",
                    LONG,
                )
                .await?;
            let said = |t: &str| out.lines().any(|l| l.trim() == t);
            match code {
                0 if said("Rolled back.") => {
                    let reason = format!("{why}; the client rolled the unfinished install back");
                    rec.installed = self.show(cmds).await;
                    return self.journal.step(rec, Step::RolledBack, Some(reason)).await;
                }
                // Installed, stopped before the commit: boot it and check it like any other.
                0 => return self.enter_reboot(rec).await,
                NO_UPDATE_IN_PROGRESS => {
                    return Err(format!(
                        "{why}; the device has no update in progress, so nothing was installed \
                         (show-artifact: {})",
                        self.show(cmds).await.as_deref().unwrap_or("unknown")
                    ));
                }
                _ if out.contains("No such action") => {} // 4.0: below
                _ => {
                    return Err(format!(
                        "{why}; {}",
                        exited(
                            "`mender-update resume --stop-before ArtifactCommit_Enter`",
                            code,
                            &out
                        )
                    ));
                }
            }
        }
        let version = if cli == "mender" { "3.x" } else { "4.0" };
        Err(format!(
            "{why}. Mender {version} cannot tell what an interrupted install left, so fleetdeck \
             stops here. On {}: {} shows the committed artifact; to abandon the update run {}; \
             to keep it: reboot, check the device, then {}",
            rec.device,
            self.by_hand(&format!("{cli} show-artifact")),
            self.by_hand(&format!("{cli} rollback")),
            self.by_hand(&format!("{cli} commit")),
        ))
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
        if self.at_hold == AtHold::Wait && rec.step == Step::Verifying {
            rec.last_line =
                "verified: waiting for the operator's commit (c) or rollback (u)".into();
            return self.journal.step(rec, Step::Held, None).await;
        }
        let Some(commit) = &cmds.commit else {
            rec.installed = self.show(&cmds).await;
            return self.journal.step(rec, Step::Committed, None).await;
        };
        let (code, out) = self.link.run(commit, LONG).await?;
        if let Some(shown) = out.lines().rev().find_map(progress::display_line) {
            rec.last_line = shown;
        }
        if cmds.mender.is_none() {
            return match code {
                0 => {
                    rec.installed = self.show(&cmds).await;
                    rec.percent = Some(100);
                    self.journal.step(rec, Step::Committed, None).await
                }
                _ => {
                    let reason = exited("the commit", code, &out);
                    self.start_rollback(rec, reason).await
                }
            };
        }
        let now = self.show(&cmds).await;
        if let Some(name) = now.as_deref().filter(|n| is_inconsistent(n)) {
            return Err(inconsistent_reason(name));
        }
        match code {
            0 => {
                rec.installed = now;
                rec.percent = Some(100);
                self.journal.step(rec, Step::Committed, None).await
            }
            // Nothing to commit: our commit already went through (its answer was lost with
            // a console restart), or the update is gone — a failed commit's answer lost, or
            // rolled back by hand. Only a new name tells the first case.
            NO_UPDATE_IN_PROGRESS if now.is_some() && now != rec.previous => {
                rec.installed = now;
                rec.percent = Some(100);
                self.journal.step(rec, Step::Committed, None).await
            }
            NO_UPDATE_IN_PROGRESS => {
                let reason = format!(
                    "the device had no update in progress at the commit (show-artifact: {})",
                    now.as_deref().unwrap_or("unknown")
                );
                self.client_rolled_back(rec, reason).await
            }
            // A failed commit: the client rolled back by itself and cleared its state
            // (standalone.cpp:368-390; mender@3.5.3 app/standalone.go:281-288).
            _ if bootloader_fell_back(&out) => {
                let reason = format!(
                    "the device came back on the old software{}: its bootloader fell back \
                     before the commit ({}); the client rolled the update back",
                    rec.previous
                        .as_ref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default(),
                    progress::client_reason(&out).unwrap_or_else(|| "no reason given".into())
                );
                rec.installed = now;
                self.journal.step(rec, Step::RolledBack, Some(reason)).await
            }
            _ => {
                let reason = format!(
                    "the commit failed on the device: {}; the client rolled the update back",
                    progress::client_reason(&out).unwrap_or_else(|| exited(
                        "the commit",
                        code,
                        &out
                    ))
                );
                self.client_rolled_back(rec, reason).await
            }
        }
    }

    /// The client already undid the update (its state is gone, a `rollback` would exit 2),
    /// but a device that booted the new software keeps running it until it reboots: reboot
    /// it back, confirmed by the boot id, and only then record `rolled back`.
    async fn client_rolled_back(&self, rec: &mut UpdateRecord, reason: String) -> Res {
        if !rec.rebooted {
            let cmds = self.commands(rec)?;
            rec.installed = self.show(&cmds).await;
            return self.journal.step(rec, Step::RolledBack, Some(reason)).await;
        }
        self.start_rollback(rec, reason).await
    }

    async fn start_rollback(&self, rec: &mut UpdateRecord, reason: String) -> Res {
        self.journal
            .step(rec, Step::RollingBack, Some(reason))
            .await?;
        self.roll_back(rec).await
    }

    /// Undo the update (a Mender client that already did answers 2: fine); reboot back into
    /// the old software when the device had booted the new one.
    async fn roll_back(&self, rec: &mut UpdateRecord) -> Res {
        let cmds = self.commands(rec)?;
        let reason = rec.reason.clone().unwrap_or_else(|| "rolled back".into());
        if rec.reboot_back {
            // Resumed after the reboot back was ordered: finished when the boot id moved.
            let moved = boot_id(self.link, &self.plan.settings)
                .await
                .is_ok_and(|now| Some(&now) != rec.boot_id.as_ref());
            if !moved {
                self.reboot_back(rec).await?;
            }
            return self.rolled_back(rec, &cmds, reason).await;
        }
        let Some(rollback) = &cmds.rollback else {
            return Err(format!("{reason}; the updater has no rollback command"));
        };
        let (code, out) = self.link.run(rollback, LONG).await?;
        if let Some(shown) = out.lines().rev().find_map(progress::display_line) {
            rec.last_line = shown;
        }
        let done = code == 0 || (cmds.mender.is_some() && code == NO_UPDATE_IN_PROGRESS);
        if !done {
            let now = self.show(&cmds).await;
            let extra = match now.as_deref().filter(|n| is_inconsistent(n)) {
                Some(name) => format!("; {}", inconsistent_reason(name)),
                None => String::new(),
            };
            return Err(format!(
                "{reason}; the rollback failed: {}{extra}",
                progress::client_reason(&out).unwrap_or_else(|| exited("it", code, &out))
            ));
        }
        if rec.rebooted {
            self.reboot_back(rec).await?;
        }
        self.rolled_back(rec, &cmds, reason).await
    }

    /// Order the reboot into the old software (persisted first) and wait for it.
    async fn reboot_back(&self, rec: &mut UpdateRecord) -> Res {
        rec.boot_id = Some(boot_id(self.link, &self.plan.settings).await?);
        rec.reboot_back = true;
        self.journal.save(rec).await?;
        self.reboot(rec, false).await
    }

    async fn rolled_back(&self, rec: &mut UpdateRecord, cmds: &Commands, reason: String) -> Res {
        let now = self.show(cmds).await;
        if let Some(name) = now.as_deref().filter(|n| is_inconsistent(n)) {
            return Err(format!("{reason}; {}", inconsistent_reason(name)));
        }
        rec.installed = now;
        let reason = if rec.reboot_back {
            format!(
                "{reason}; rebooted into the old software{}",
                rec.installed
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            )
        } else {
            reason
        };
        self.journal.step(rec, Step::RolledBack, Some(reason)).await
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
                    if self.at_hold == AtHold::Wait {
                        rec.last_line = "verified: waiting for the operator's commit (c)".into();
                        return self.journal.step(rec, Step::Held, None).await;
                    }
                    return self.journal.step(rec, Step::Committed, None).await;
                }
                Step::Held => {
                    return match self.at_hold {
                        AtHold::Wait => Ok(()),
                        AtHold::Commit => self.journal.step(rec, Step::Committed, None).await,
                        AtHold::RollBack => Err(format!(
                            "{HELD_ROLLED_BACK}, but an appliance update has no rollback: the \
                             device keeps the new software"
                        )),
                    };
                }
                Step::Committed | Step::RolledBack | Step::Failed | Step::Skipped => {
                    return Ok(());
                }
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

/// What an operator's commit or rollback did; `reboot_needed`: the device still runs the new
/// software and must reboot to run the old one (no client says so itself: CONTRACT.md row 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub message: String,
    pub reboot_needed: bool,
    /// The client had no update in progress (nothing to commit or roll back): after a
    /// commit, "go back" is a new update to the previous artifact.
    pub nothing_in_progress: bool,
}

impl Manual {
    fn done(message: String) -> Self {
        Manual {
            message,
            reboot_needed: false,
            nothing_in_progress: false,
        }
    }
}

/// Has the device booted since `last`'s install started? None: fleetdeck cannot tell.
fn booted_since(last: Option<&UpdateRecord>, now: Option<&str>) -> Option<bool> {
    let last = last?;
    if last.reboot_back {
        // Already rebooted back into the old software.
        return Some(false);
    }
    Some(last.boot_id.as_deref()? != now?)
}

/// An operator's commit, rollback or "clear failed flag and restart" on a device that no
/// rollout is driving. `last`: the device's newest update record, if fleetdeck has one.
pub async fn manual(
    link: &dyn DeviceLink,
    plan: &Plan,
    device: &str,
    action: &crate::model::ResourceAction,
    last: Option<&UpdateRecord>,
) -> Result<Manual, String> {
    use crate::model::ResourceAction as A;
    if let A::ClearFailed = action {
        let flag = sh_quote(&plan.settings.failed_flag);
        let cmd = plan
            .settings
            .appliance_clear
            .replace("{failed_flag}", &flag);
        let (code, out) = link.run(&cmd, LONG).await?;
        return if code == 0 {
            Ok(Manual::done(format!(
                "{device}: failed flag cleared, appliance restarted"
            )))
        } else {
            Err(exited("clearing the failed flag", code, &out))
        };
    }
    let commit = matches!(action, A::Commit);
    let verb = if commit { "commit" } else { "rollback" };
    let cli = match plan.updater {
        UpdaterKind::Mender => detect_mender(link).await?,
        UpdaterKind::Custom => {
            let c = plan.custom.clone().unwrap_or_default();
            let cmd = if commit { c.commit } else { c.rollback };
            let cmd = cmd
                .ok_or_else(|| format!("the custom updater of {device} has no `{verb}` command"))?;
            let (code, out) = link.run(&substitute(&cmd, "", device), LONG).await?;
            return match code {
                0 if commit => Ok(Manual::done(format!("{device}: committed"))),
                0 => Ok(Manual::done(format!("{device}: rolled back"))),
                _ => Err(exited(&format!("the {verb}"), code, &out)),
            };
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
    let now = boot_id(link, &plan.settings).await.ok();
    let booted = booted_since(last, now.as_deref());
    if commit {
        // Before the reboot a commit is harmful either way: Mender 3 commits and removes the
        // bootloader's way back (mender@3.5.3 installer/dual_rootfs_device.go:280-292), 4/5
        // refuse and roll the update back (rootfs-image:255-269).
        match booted {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "refused: {device} has not rebooted since the update was installed (same \
                     boot id), so it does not run the new software yet; a commit now would {}. \
                     Reboot it first",
                    if cli == "mender" {
                        "remove the bootloader's way back to the old software"
                    } else {
                        "make the client roll the update back"
                    }
                ));
            }
            None => {
                return Err(format!(
                    "refused: fleetdeck did not install this update, so it cannot tell whether \
                     {device} booted the new software; check the device, then run `{cli} commit` \
                     there"
                ));
            }
        }
        if let Some(check) = &plan.settings.verify_command {
            let (code, out) = link.run(check, LONG).await?;
            if code != 0 {
                return Err(format!(
                    "not committed: {}",
                    exited("the health check", code, &out)
                ));
            }
        }
    }
    let (code, out) = link.run(&format!("{cli} {verb}"), LONG).await?;
    let shown = link
        .run(&format!("{cli} show-artifact"), SHORT)
        .await
        .ok()
        .filter(|(c, _)| *c == 0)
        .map(|(_, o)| first_line(&o));
    if let Some(name) = shown.as_deref().filter(|n| is_inconsistent(n)) {
        return Err(inconsistent_reason(name));
    }
    let runs_new = booted != Some(false);
    match code {
        0 if commit => Ok(Manual::done(format!(
            "{device}: committed ({})",
            shown.as_deref().unwrap_or("unknown")
        ))),
        0 => Ok(Manual {
            message: format!(
                "{device}: rolled back to {}{}",
                shown.as_deref().unwrap_or("the old artifact"),
                if runs_new {
                    "; it runs the new software until it reboots"
                } else {
                    ""
                }
            ),
            reboot_needed: runs_new,
            nothing_in_progress: false,
        }),
        NO_UPDATE_IN_PROGRESS => Ok(Manual {
            nothing_in_progress: true,
            ..Manual::done(format!(
                "{device}: no update in progress, nothing to {verb}"
            ))
        }),
        // A failed commit rolled back by itself (standalone.cpp:368-390).
        _ if commit => Ok(Manual {
            message: format!(
                "{device}: the commit failed ({}); the client rolled the update back{}",
                progress::client_reason(&out).unwrap_or_else(|| format!("exit {code}")),
                if runs_new {
                    "; it runs the new software until it reboots"
                } else {
                    ""
                }
            ),
            reboot_needed: runs_new,
            nothing_in_progress: false,
        }),
        _ => Err(format!(
            "the rollback failed: {}",
            progress::client_reason(&out).unwrap_or_else(|| exited("it", code, &out))
        )),
    }
}

/// Reboot the device (an operator's `reboot`, e.g. after a manual rollback) and wait until it
/// answers with another boot id.
pub async fn reboot(
    link: &dyn DeviceLink,
    plan: &Plan,
    poll: Duration,
    device: &str,
) -> Result<String, String> {
    let before = boot_id(link, &plan.settings).await?;
    let started = Instant::now();
    reboot_and_wait(link, &plan.settings, poll, &before, false, &mut |_| {}).await?;
    Ok(format!(
        "{device} rebooted (back after {}s, new boot id)",
        started.elapsed().as_secs()
    ))
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
        // Review M4: a placeholder inside a value is not expanded again.
        assert_eq!(
            substitute(
                "lab-update install {artifact} {device} {x}",
                "http://h/{device}.mender",
                "u$(touch pwned)"
            ),
            r"lab-update install 'http://h/{device}.mender' 'u$(touch pwned)' {x}"
        );
        assert!(is_url("https://h/a.mender"));
        assert!(!is_url("./a.mender"));
    }
}
