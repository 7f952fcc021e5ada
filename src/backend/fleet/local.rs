//! A `host: local` device's commands: `sh -c CMD` run here as the console's user (tokio
//! processes), with the same contract as the SSH functions in `src/ssh/client.rs` they stand
//! in for (`exec`, `exec_each`, `exec_with_input`, `exec_stream`): same outputs, same limits,
//! so everything above the [`super::session::Session`] seam has one code path.
//!
//! Like an SSH exec: stdin is empty (never the console's terminal), the working directory is
//! `$HOME`, and a process killed by a signal has no exit code (`None`). A command still
//! running when its caller gives up (a timeout, a closed log view) is killed.

use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::ssh::client::{ExecOutput, SshError};

/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;
/// Output kept by [`exec_with_input`] (as over SSH).
const INPUT_OUTPUT_LIMIT: usize = 16 * 1024;

fn command(cmd: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(cmd).kill_on_drop(true);
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        c.current_dir(home);
    }
    c
}

fn spawn(mut c: Command, stdin: Stdio) -> Result<Child, SshError> {
    c.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SshError::Connect(format!("cannot start sh: {e}")))
}

fn code(status: std::process::ExitStatus) -> Option<u32> {
    status.code().and_then(|c| u32::try_from(c).ok())
}

fn wait_error(e: std::io::Error) -> SshError {
    SshError::Connect(format!("waiting for the command: {e}"))
}

/// The child's stdout and stderr as one channel of (is stderr, bytes); it ends when both
/// reach their end (the command and whatever it left running closed them).
fn output(child: &mut Child) -> mpsc::Receiver<(bool, Vec<u8>)> {
    let (tx, rx) = mpsc::channel(16);
    if let Some(o) = child.stdout.take() {
        tokio::spawn(pump(o, false, tx.clone()));
    }
    if let Some(e) = child.stderr.take() {
        tokio::spawn(pump(e, true, tx));
    }
    rx
}

async fn pump(mut r: impl AsyncRead + Unpin, is_err: bool, tx: mpsc::Sender<(bool, Vec<u8>)>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send((is_err, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn push_limited(buf: &mut Vec<u8>, data: &[u8], limit: usize) {
    let room = limit.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// [`crate::ssh::client::exec`]: at most `limit` bytes of each stream are kept (the rest is
/// read and dropped, so the command never blocks on a full pipe).
pub async fn exec(cmd: &str, limit: usize) -> Result<ExecOutput, SshError> {
    let mut child = spawn(command(cmd), Stdio::null())?;
    let mut rx = output(&mut child);
    let mut out = ExecOutput::default();
    while let Some((is_err, data)) = rx.recv().await {
        let buf = if is_err {
            &mut out.stderr
        } else {
            &mut out.stdout
        };
        push_limited(buf, &data, limit);
    }
    out.code = code(child.wait().await.map_err(wait_error)?);
    Ok(out)
}

/// [`crate::ssh::client::exec_each`]: stdout and stderr bytes to `on_data` as they arrive.
pub async fn exec_each(
    cmd: &str,
    on_data: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<Option<u32>, SshError> {
    let mut child = spawn(command(cmd), Stdio::null())?;
    let mut rx = output(&mut child);
    while let Some((_, data)) = rx.recv().await {
        on_data(&data);
    }
    Ok(code(child.wait().await.map_err(wait_error)?))
}

/// [`crate::ssh::client::exec_with_input`]: `input` is the command's stdin (an upload).
pub async fn exec_with_input(
    cmd: &str,
    mut input: impl AsyncRead + Unpin + Send,
    sent: &mut (dyn FnMut(u64) + Send),
) -> Result<(Option<u32>, String), SshError> {
    let err = |what: &str, e: &dyn std::fmt::Display| SshError::Connect(format!("{what}: {e}"));
    let mut child = spawn(command(cmd), Stdio::piped())?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| SshError::Connect("upload: no stdin".into()))?;
    let mut rx = output(&mut child);
    // The reader runs beside the writer: a command that fails early must not leave us
    // blocked on a full pipe.
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some((_, data)) = rx.recv().await {
            push_limited(&mut out, &data, INPUT_OUTPUT_LIMIT);
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    let write_result: Result<(), SshError> = async {
        loop {
            let n = input.read(&mut buf).await.map_err(|e| err("read", &e))?;
            if n == 0 {
                break;
            }
            stdin
                .write_all(&buf[..n])
                .await
                .map_err(|e| err("upload", &e))?;
            total += n as u64;
            sent(total);
        }
        stdin.shutdown().await.map_err(|e| err("upload", &e))
    }
    .await;
    drop(stdin);
    let out = reader.await.map_err(|e| err("upload", &e))?;
    let status = code(child.wait().await.map_err(wait_error)?);
    // A command that exited early closed its stdin: its status says why, not the write.
    if status == Some(0) {
        write_result?;
    }
    Ok((status, out))
}

/// [`crate::ssh::client::exec_stream`]: stdout and stderr bytes until the command exits; the
/// command is killed when the receiver is dropped (the log view closed).
pub fn exec_stream(cmd: &str) -> Result<mpsc::Receiver<Vec<u8>>, SshError> {
    let mut child = spawn(command(cmd), Stdio::null())?;
    let mut out = output(&mut child);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                chunk = out.recv() => match chunk {
                    Some((_, data)) => {
                        if tx.send(data).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                _ = tx.closed() => break,
            }
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exec_keeps_both_streams_their_limit_and_the_code() {
        let out = exec("printf 'abcdef'; printf err >&2; exit 3", 4)
            .await
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_slice(), out.stderr.as_slice()),
            (Some(3), &b"abcd"[..], &b"err"[..])
        );
        let killed = exec("kill -9 $$", 16).await.unwrap();
        assert_eq!(killed.code, None);
    }

    #[tokio::test]
    async fn input_is_the_commands_stdin() {
        let data = vec![b'x'; 200_000];
        let mut seen = 0;
        let (code, out) = exec_with_input("wc -c", &data[..], &mut |n| seen = n)
            .await
            .unwrap();
        assert_eq!((code, out.trim(), seen), (Some(0), "200000", 200_000));
        // A command that does not read its input ends with its own status.
        let (code, _) = exec_with_input("exit 4", &data[..], &mut |_| {})
            .await
            .unwrap();
        assert_eq!(code, Some(4));
    }
}
