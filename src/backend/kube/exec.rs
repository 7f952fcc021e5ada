//! `kubectl exec` over the websocket exec API (v5/v4.channel.k8s.io): the interactive shell
//! hand-off (TTY, stdin, resize on channel 4) and the scriptable non-TTY exec.

use anyhow::{Context as _, anyhow};
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{AttachParams, AttachedProcess, TerminalSize};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::Inner;
use super::error;
use super::map::split_id;
use crate::backend::{ShellOpts, ShellSession};
use crate::model::{ResourceKey, ResourceKind};

/// kubectl's annotation naming the container `exec`/`logs` use by default.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// (namespace, pod, container) of a pod or pod-container row; a pod's container is its
/// default-container annotation, else its first container.
pub async fn pod_container(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
) -> anyhow::Result<(String, String, String)> {
    let (ns, rest) = split_id(&target.id);
    let ns = ns
        .map(str::to_string)
        .or_else(|| inner.namespace.clone())
        .unwrap_or_else(|| "default".into());
    match target.kind {
        ResourceKind::PodContainer => {
            let (pod, c) = rest
                .split_once('/')
                .ok_or_else(|| anyhow!("bad container id {}", target.id))?;
            Ok((ns, pod.to_string(), c.to_string()))
        }
        ResourceKind::Pod => {
            let pods: Api<super::objects::Pod> = Api::namespaced(client, &ns);
            let p = pods
                .get(rest)
                .await
                .map_err(|e| anyhow!(error::text(inner, "get", "pods", &e)))?;
            let annotated = p
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DEFAULT_CONTAINER))
                .cloned();
            let first = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .map(|c| c.name.clone());
            let c = annotated
                .or(first)
                .ok_or_else(|| anyhow!("pod {rest} has no containers"))?;
            Ok((ns, rest.to_string(), c))
        }
        _ => Err(anyhow!("only pods and their containers have a shell")),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `sh -c` that runs the first of `candidates` the container has (`/bin/bash`, then `/bin/sh`).
pub fn shell_command(candidates: &[String]) -> Vec<String> {
    let mut script: Vec<String> = candidates
        .iter()
        .map(|c| {
            let q = quote(c);
            format!("command -v {q} >/dev/null 2>&1 && exec {q}")
        })
        .collect();
    script.push("exec sh".into());
    vec!["/bin/sh".into(), "-c".into(), script.join("; ")]
}

/// Start an interactive shell with a TTY in the pod's container.
pub async fn shell(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
    opts: &ShellOpts,
) -> anyhow::Result<ShellSession> {
    if opts.commands.is_empty() {
        return Err(anyhow!(
            "no shell commands configured (shell.commands in the config)"
        ));
    }
    let (ns, pod, container) = pod_container(inner, client.clone(), target).await?;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let ap = AttachParams::interactive_tty().container(container.clone());
    let mut proc = pods
        .exec(&pod, shell_command(&opts.commands), &ap)
        .await
        .map_err(|e| anyhow!(error::text(inner, "create", "pods/exec", &e)))
        .with_context(|| format!("cannot start a shell in {pod}/{container}"))?;
    let input = proc.stdin().ok_or_else(|| anyhow!("exec gave no stdin"))?;
    let stdout = proc
        .stdout()
        .ok_or_else(|| anyhow!("exec gave no stdout"))?;
    let mut size = proc
        .terminal_size()
        .ok_or_else(|| anyhow!("exec gave no terminal size channel"))?;

    let (resize_tx, mut resize_rx) = mpsc::unbounded_channel::<(u16, u16)>();
    let (cols, rows) = (opts.cols, opts.rows);
    tokio::spawn(async move {
        if cols > 0 && rows > 0 {
            let _ = size
                .send(TerminalSize {
                    width: cols,
                    height: rows,
                })
                .await;
        }
        // Ends when the session (and so the sender) is dropped.
        while let Some((width, height)) = resize_rx.recv().await {
            if size.send(TerminalSize { width, height }).await.is_err() {
                break;
            }
        }
    });

    // The process handle lives as long as the output stream: dropping it ends the session.
    let output = futures::stream::unfold(
        (stdout, proc, vec![0u8; 8192]),
        |(mut out, proc, mut buf)| async move {
            match out.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => Some((Ok(buf[..n].to_vec()), (out, proc, buf))),
                Err(e) => Some((Err(e), (out, proc, buf))),
            }
        },
    )
    .boxed();
    Ok(ShellSession {
        output,
        input: Box::pin(input),
        resize: resize_tx,
    })
}

/// The exit code in an exec's final status (Success → 0, `ExitCode` cause → its value).
fn exit_code(status: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>) -> i64 {
    let Some(s) = status else { return -1 };
    if s.status.as_deref() == Some("Success") {
        return 0;
    }
    s.details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref()?.parse().ok())
        .unwrap_or(1)
}

/// Run `cmd` without a TTY; returns (exit code, stdout then stderr).
pub async fn run_collect(
    inner: &Inner,
    client: kube::Client,
    target: &ResourceKey,
    cmd: &[String],
) -> anyhow::Result<(i64, String)> {
    let (ns, pod, container) = pod_container(inner, client.clone(), target).await?;
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let ap = AttachParams::default()
        .container(container)
        .stdout(true)
        .stderr(true);
    let mut proc: AttachedProcess = pods
        .exec(&pod, cmd.to_vec(), &ap)
        .await
        .map_err(|e| anyhow!(error::text(inner, "create", "pods/exec", &e)))?;
    let status = proc.take_status();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let stdout = proc.stdout();
    let stderr = proc.stderr();
    let read_out = async {
        if let Some(mut s) = stdout {
            let _ = s.read_to_end(&mut out).await;
        }
    };
    let read_err = async {
        if let Some(mut s) = stderr {
            let _ = s.read_to_end(&mut err).await;
        }
    };
    tokio::join!(read_out, read_err);
    let status = match status {
        Some(f) => f.await,
        None => None,
    };
    out.extend_from_slice(&err);
    Ok((
        exit_code(status.as_ref()),
        String::from_utf8_lossy(&out).into_owned(),
    ))
}
