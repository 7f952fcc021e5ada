//! `docker exec`: the interactive shell hand-off and the scriptable non-TTY exec.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::ResizeExecOptionsBuilder;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::connect::Endpoint;
use super::error::human_error;
use crate::backend::{ShellOpts, ShellSession};

/// How long a shell probe may take before the candidate counts as unusable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Run `cmd` without a TTY; returns (exit code, stdout+stderr as they interleaved).
pub async fn run_collect(
    docker: &Docker,
    endpoint: &Endpoint,
    container: &str,
    cmd: &[String],
) -> anyhow::Result<(i64, Vec<u8>)> {
    let fail = |e: bollard::errors::Error| anyhow!(human_error(endpoint, &e));
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions::<String> {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(cmd.to_vec()),
                ..Default::default()
            },
        )
        .await
        .map_err(fail)?;
    let mut output = Vec::new();
    match docker.start_exec(&exec.id, None).await.map_err(fail)? {
        StartExecResults::Attached {
            output: mut stream, ..
        } => {
            while let Some(chunk) = stream.next().await {
                output.extend_from_slice(&chunk.map_err(fail)?.into_bytes());
            }
        }
        StartExecResults::Detached => {}
    }
    // The output ends when the process exits, but the engine may record the exit code a moment
    // later: poll briefly instead of reporting a bogus code.
    for _ in 0..50 {
        let info = docker.inspect_exec(&exec.id).await.map_err(fail)?;
        if info.running != Some(true) {
            return Ok((info.exit_code.unwrap_or(-1), output));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(anyhow!(
        "the command in {container} still runs after its output ended"
    ))
}

/// Does `shell` exist and run in the container? (`<shell> -c 'exit 0'` exits 0.)
async fn probe(docker: &Docker, endpoint: &Endpoint, container: &str, shell: &str) -> bool {
    let cmd = [shell.to_owned(), "-c".to_owned(), "exit 0".to_owned()];
    match tokio::time::timeout(
        PROBE_TIMEOUT,
        run_collect(docker, endpoint, container, &cmd),
    )
    .await
    {
        Ok(Ok((0, _))) => true,
        Ok(Ok((code, out))) => {
            tracing::debug!(%container, %shell, code, out = %String::from_utf8_lossy(&out), "shell probe failed");
            false
        }
        Ok(Err(e)) => {
            tracing::debug!(%container, %shell, error = %e, "shell probe failed");
            false
        }
        Err(_) => false,
    }
}

/// Start an interactive shell: the first of `opts.commands` that exists, with a TTY.
pub async fn shell(
    docker: &Docker,
    endpoint: &Endpoint,
    container: &str,
    name: &str,
    opts: &ShellOpts,
) -> anyhow::Result<ShellSession> {
    let fail = |e: bollard::errors::Error| anyhow!(human_error(endpoint, &e));
    if opts.commands.is_empty() {
        return Err(anyhow!(
            "no shell commands configured (shell.commands in the config)"
        ));
    }
    let mut chosen = None;
    for candidate in &opts.commands {
        if probe(docker, endpoint, container, candidate).await {
            chosen = Some(candidate.clone());
            break;
        }
    }
    let Some(shell) = chosen else {
        return Err(anyhow!(
            "no shell found in {name} (tried {})",
            opts.commands.join(", ")
        ));
    };

    let exec = docker
        .create_exec(
            container,
            CreateExecOptions::<String> {
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(true),
                // Full-screen programs in the container need to know what they draw on.
                env: Some(vec!["TERM=xterm-256color".to_owned()]),
                cmd: Some(vec![shell.clone()]),
                ..Default::default()
            },
        )
        .await
        .map_err(fail)
        .with_context(|| format!("cannot start {shell} in {name}"))?;
    let started = docker
        .start_exec(
            &exec.id,
            Some(StartExecOptions {
                detach: false,
                tty: true,
                output_capacity: None,
            }),
        )
        .await
        .map_err(fail)
        .with_context(|| format!("cannot start {shell} in {name}"))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(anyhow!("Docker started {shell} in {name} detached"));
    };

    // Resizes must follow the start (one sent before the process exists is dropped by the
    // engine, moby/moby#31223): send the initial size now, then forward every change.
    let (resize_tx, mut resize_rx) = mpsc::unbounded_channel::<(u16, u16)>();
    let docker_for_resize = docker.clone();
    let exec_id = exec.id.clone();
    let (cols, rows) = (opts.cols, opts.rows);
    tokio::spawn(async move {
        let resize = |(cols, rows): (u16, u16)| {
            ResizeExecOptionsBuilder::default()
                .w(i32::from(cols))
                .h(i32::from(rows))
                .build()
        };
        if cols > 0
            && rows > 0
            && let Err(e) = docker_for_resize
                .resize_exec(&exec_id, resize((cols, rows)))
                .await
        {
            tracing::debug!(error = %e, "initial exec resize failed");
        }
        // Ends when the session (and so the sender) is dropped.
        while let Some(size) = resize_rx.recv().await {
            if let Err(e) = docker_for_resize.resize_exec(&exec_id, resize(size)).await {
                tracing::debug!(error = %e, "exec resize failed");
            }
        }
    });

    let endpoint = endpoint.clone();
    let output = output
        .map(move |r| match r {
            Ok(out) => Ok(LogOutput::into_bytes(out).to_vec()),
            Err(e) => Err(std::io::Error::other(human_error(&endpoint, &e))),
        })
        .boxed();
    Ok(ShellSession {
        output,
        input,
        resize: resize_tx,
    })
}
