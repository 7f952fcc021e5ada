//! Device logs: `journalctl -f -u UNIT` or `tail -F FILE` over one exec channel, split into
//! lines, sanitised and batched like the docker log pipeline (1,000 lines or 15 ms).

use std::sync::Arc;

use tokio::time::{Instant, sleep_until};

use super::{Inner, log_command};
use crate::backend::batch::{BATCH_DELAY, BATCH_LINES};
use crate::backend::{BackendEvent, EventTx, StreamId};
use crate::model::{LogLine, LogOpts, ResourceKey};
use crate::ssh::client;
use crate::term::sanitize::{LineSplitter, sanitize};

pub async fn run(
    inner: Arc<Inner>,
    target: ResourceKey,
    opts: LogOpts,
    stream: StreamId,
    tx: EventTx,
) {
    let error = stream_logs(&inner, &target, &opts, stream, &tx).await;
    if let Ok(error) = error {
        let _ = tx.send(BackendEvent::LogEnded { stream, error }).await;
    }
}

fn line(raw: &[u8]) -> LogLine {
    LogLine {
        ts: None,
        source: None,
        text: sanitize(raw),
    }
}

/// Ok(error text or None when the command ended); Err when the UI went away.
async fn stream_logs(
    inner: &Inner,
    target: &ResourceKey,
    opts: &LogOpts,
    stream: StreamId,
    tx: &EventTx,
) -> Result<Option<String>, ()> {
    let Some(dev) = inner.device(&target.id) else {
        return Ok(Some(format!("no device {}", target.id)));
    };
    let conn = match inner.connection(dev).await {
        Ok(c) => c,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let cmd = log_command(&dev.spec, opts);
    let session = conn.clone();
    let mut rx = match client::exec_stream(conn, &cmd).await {
        Ok(rx) => rx,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let mut splitter = LineSplitter::new();
    let mut pending: Vec<LogLine> = Vec::with_capacity(BATCH_LINES);
    let mut first_at: Option<Instant> = None;
    loop {
        let timer = async {
            match first_at {
                Some(t) => sleep_until(t + BATCH_DELAY).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(bytes) => {
                    if pending.is_empty() {
                        first_at = Some(Instant::now());
                    }
                    splitter.push(&bytes, |l| pending.push(line(l)));
                    if pending.len() >= BATCH_LINES {
                        first_at = None;
                        let lines = std::mem::take(&mut pending);
                        tx.send(BackendEvent::LogLines { stream, lines }).await.map_err(|_| ())?;
                    }
                }
                None => break,
            },
            _ = timer => {
                first_at = None;
                if !pending.is_empty() {
                    let lines = std::mem::take(&mut pending);
                    tx.send(BackendEvent::LogLines { stream, lines }).await.map_err(|_| ())?;
                }
            }
        }
    }
    splitter.finish(|l| pending.push(line(l)));
    if !pending.is_empty() {
        tx.send(BackendEvent::LogLines {
            stream,
            lines: pending,
        })
        .await
        .map_err(|_| ())?;
    }
    // A frozen or vanished device ends the stream through the keepalives: say so, rather than
    // look like a command that ended.
    if let Some(why) = session.lost() {
        inner.forget(dev).await;
        return Ok(Some(format!("connection lost: {why}")));
    }
    Ok(None)
}
