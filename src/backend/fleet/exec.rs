//! Commands and shells on a device: one command line over an exec channel (scriptable
//! `exec`, `:run`, the rollout driver's steps), and PTY shells, on the device's own login or,
//! for a sandbox (`DEVICE/SANDBOX`), on a separate login as the sandbox's user.

use std::sync::Arc;

use anyhow::{anyhow, bail};

use super::{Conn, Device, Inner, run, target_of};
use crate::backend::{ShellOpts, ShellSession};
use crate::model::ResourceKey;
use crate::ssh::client;

impl Inner {
    /// Run a shell command line on `dev`: (exit code, stdout+stderr).
    pub async fn run(
        &self,
        dev: &Device,
        cmd: &str,
        limit: usize,
    ) -> Result<(i64, String), String> {
        let conn = self.session(dev).await.map_err(|e| {
            dev.set_conn(Conn::Down(e.clone()));
            e.to_string()
        })?;
        match conn.exec(cmd, limit).await {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Ok((out.code.map(i64::from).unwrap_or(-1), text))
            }
            Err(e) => {
                self.forget(dev).await;
                Err(e.to_string())
            }
        }
    }
}

/// A PTY shell on the device, or in one of its sandboxes (`DEVICE/SANDBOX`).
pub(super) async fn shell(
    inner: &Arc<Inner>,
    target: &ResourceKey,
    opts: &ShellOpts,
) -> anyhow::Result<ShellSession> {
    let (name, sandbox) = match target.id.split_once('/') {
        Some((d, s)) => (d, Some(s)),
        None => (target.id.as_str(), None),
    };
    let dev = inner
        .device(name)
        .ok_or_else(|| anyhow!("no device {name}"))?;
    if dev.spec.is_local() {
        // The console hands its own terminal to a local shell (Backend::local_shell); a
        // sandbox is a separate SSH login, which a local device does not have.
        match sandbox {
            Some(_) => bail!("{name} is this machine (host: local): sandboxes need SSH"),
            None => {
                bail!("{name} is this machine (host: local): its shell is the console's terminal")
            }
        }
    }
    match sandbox {
        None => {
            let conn = inner.connection(dev).await?;
            Ok(client::shell(conn, None, opts.cols, opts.rows).await?)
        }
        Some(sb) => {
            let sb = dev
                .spec
                .sandboxes
                .iter()
                .find(|s| s.name == sb)
                .ok_or_else(|| anyhow!("{name} has no sandbox {sb}"))?;
            // A separate login as the sandbox's user.
            let route = client::resolve(&target_of(&dev.spec, Some(&sb.user)), &inner.opts);
            let conn = Arc::new(client::connect(&route, &inner.opts).await?);
            Ok(client::shell(conn, sb.command.as_deref(), opts.cols, opts.rows).await?)
        }
    }
}

/// The login shell of the console's user (`$SHELL`, else `/bin/sh`) in `$HOME`, for a
/// `host: local` device; None for SSH devices and sandboxes.
///
/// Why the real terminal and not a PTY bridged like an SSH shell: the console already is in
/// a terminal on this machine, so the shell gets a real TTY (resizes, job control, full-screen
/// programs) with no PTY code and no new dependency; the price is that `~.` does not detach
/// (the shell's `exit` returns to the console).
pub(super) fn local_shell(inner: &Inner, target: &ResourceKey) -> Option<std::process::Command> {
    let dev = inner.device(&target.id)?;
    if !dev.spec.is_local() {
        return None;
    }
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut cmd = std::process::Command::new(shell);
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        cmd.current_dir(home);
    }
    Some(cmd)
}

/// One command line, without a TTY (scriptable `exec`, `:run`).
pub(super) async fn exec(
    inner: &Arc<Inner>,
    target: &ResourceKey,
    cmd: &[String],
) -> anyhow::Result<(i64, String)> {
    let dev = inner
        .device(&target.id)
        .ok_or_else(|| anyhow!("no device {}", target.id))?;
    if cmd.is_empty() {
        bail!("exec needs a command");
    }
    // Like ssh: the words are joined and the remote shell interprets them.
    inner
        .run(dev, &cmd.join(" "), run::OUTPUT_LIMIT)
        .await
        .map_err(|e| anyhow!(e))
}
