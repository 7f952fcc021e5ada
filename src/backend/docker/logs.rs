//! Container and compose-project logs → batched, sanitised `LogLine`s.
//!
//! Pipeline per container: `docker logs -f --timestamps` frames → one `LineSplitter` per
//! stdout/stderr (a partial stderr line must not glue onto stdout) → `split_timestamp` →
//! `sanitize`. Lines are sent in batches (1,000 lines, or 15 ms after the first pending one) so a
//! container printing 50k lines/s costs the UI ~50 messages/s, and the bounded channel pushes
//! back on the engine connection instead of growing memory.

use std::collections::HashSet;
use std::sync::Arc;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;

use super::Inner;
use super::containers::container_name;
use super::error::human_error;
use super::follow::{Origin, Piece, Producer, Tagged};
use super::list::project_containers;
use super::swarm;
use crate::backend::batch::{Batcher, Gone};
use crate::backend::report::{log_note, waiting_note};
use crate::backend::{EventTx, StreamId};
use crate::logs::marker::{Mark, marker, nanos};
use crate::logs::split_timestamp;
use crate::model::{LogLine, LogOpts, ResourceKey, ResourceKind};
use crate::term::sanitize::{LineSplitter, sanitize, sanitize_plain};
use bollard::query_parameters::InspectServiceOptions;

/// How often a followed service's view looks for tasks started since it opened.
const TASK_DISCOVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// One container's stream state.
struct Source {
    name: String,
    label: Option<Arc<str>>,
    stdout: Half,
    stderr: Half,
    /// Why this source waits (its container stopped), shown with the others'.
    note: Option<String>,
    done: bool,
}

impl Source {
    fn new(name: String, label: Option<Arc<str>>) -> Self {
        Source {
            name,
            label,
            stdout: Half::default(),
            stderr: Half::default(),
            note: None,
            done: false,
        }
    }
}

/// One of a container's two output streams. Public (hidden) only so the fuzzer can feed it
/// engine frames without an engine (fuzz/fuzz_targets/docker_log_frames.rs).
#[doc(hidden)]
#[derive(Default)]
pub struct Half {
    splitter: LineSplitter,
    /// The last frame did not end a line. The engine splits long lines (16 KiB) into partial
    /// messages and, with `timestamps=true`, stamps each one: the stamp of a continuation must
    /// be dropped or it would land in the middle of the line's text.
    mid_line: bool,
}

impl Half {
    /// One frame's payload; `emit` gets every complete line (still raw, stamped).
    pub fn push(&mut self, frame: &[u8], mut emit: impl FnMut(&[u8])) {
        let mut data = frame;
        if self.mid_line
            && let (Some(_), rest) = split_timestamp(data)
        {
            data = rest;
        }
        if let Some(&last) = data.last() {
            self.mid_line = last != b'\n';
        }
        self.splitter.push(data, &mut emit);
    }

    /// The stream ended: emit its unterminated last line.
    pub fn finish(&mut self, emit: impl FnMut(&[u8])) {
        self.splitter.finish(emit);
    }
}

/// A raw line as the view gets it: its stamp parsed off, its text sanitised.
#[doc(hidden)]
pub fn to_line(raw: &[u8], source: &Option<Arc<str>>) -> LogLine {
    let (ts, rest) = split_timestamp(raw);
    LogLine {
        ts,
        source: source.clone(),
        text: sanitize(rest),
        marker: false,
    }
}

fn logs_options(opts: &LogOpts) -> bollard::query_parameters::LogsOptions {
    let tail = opts
        .tail
        .map_or_else(|| "all".to_owned(), |n| n.to_string());
    let mut b = LogsOptionsBuilder::default()
        .follow(opts.follow)
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .tail(&tail);
    if let Some(secs) = opts.since_secs {
        let since = jiff::Timestamp::now()
            .as_second()
            .saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX));
        b = b.since(i32::try_from(since.max(0)).unwrap_or(i32::MAX));
    }
    b.build()
}

/// One stream of a log view: (origin, engine id, display name, prefix shown per line).
type Target = (Origin, String, String, Option<Arc<str>>);

/// The streams `target` means: a container; every container of a compose project; a task; every
/// task of a service or of a whole stack (per task, so each line carries its `svc.N@node` prefix).
async fn targets(docker: &Docker, target: &ResourceKey) -> Result<Vec<Target>, TargetError> {
    let mut out: Vec<Target> = match target.kind {
        ResourceKind::Container => {
            return Ok(vec![(
                Origin::Container,
                target.id.clone(),
                target.id.clone(),
                None,
            )]);
        }
        ResourceKind::Task => {
            return Ok(vec![(
                Origin::Task,
                target.id.clone(),
                target.id.clone(),
                None,
            )]);
        }
        ResourceKind::Project => {
            let list = project_containers(docker, &target.id)
                .await
                .map_err(TargetError::Engine)?;
            list.iter()
                .filter_map(|c| {
                    let id = c.id.clone()?;
                    let name = container_name(c);
                    Some((
                        Origin::Container,
                        id,
                        name.clone(),
                        Some(Arc::from(sanitize_plain(&name).as_str())),
                    ))
                })
                .collect()
        }
        ResourceKind::Service | ResourceKind::Stack => service_tasks(docker, target)
            .await?
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
        other => {
            return Err(TargetError::NoLogs {
                kinds: other.spec().title.to_lowercase(),
            });
        }
    };
    if out.is_empty() {
        return Err(TargetError::Empty {
            what: target.kind.name().trim_end_matches('s').to_string(),
            id: target.id.clone(),
        });
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    Ok(out)
}

/// The streams of a service's (or a whole stack's) tasks, each with its task's creation time:
/// one per task that got a container (the others have no logs to ask for), labelled
/// `svc.N@node`.
async fn service_tasks(
    docker: &Docker,
    target: &ResourceKey,
) -> Result<Vec<(Target, Option<jiff::Timestamp>)>, TargetError> {
    let services = if target.kind == ResourceKind::Stack {
        swarm::stack_services(docker, &target.id).await
    } else {
        docker
            .inspect_service(&target.id, None::<InspectServiceOptions>)
            .await
            .map(|s| vec![s])
    }
    .map_err(TargetError::Engine)?;
    let nodes = swarm::nodes(docker).await.map_err(TargetError::Engine)?;
    let mut out = Vec::new();
    for s in &services {
        let Some(sid) = s.id.as_deref() else { continue };
        let name = swarm::map::service_name(s);
        for t in swarm::tasks_of_service(docker, sid)
            .await
            .map_err(TargetError::Engine)?
        {
            if swarm::map::task_container_id(&t).is_none() {
                continue;
            }
            let Some(tid) = t.id.clone() else { continue };
            let label = swarm::task_label(&t, &name, &nodes);
            let created = t.created_at.as_deref().and_then(|c| c.parse().ok());
            let prefix = Some(Arc::from(sanitize_plain(&label).as_str()));
            out.push(((Origin::Task, tid, label, prefix), created));
        }
    }
    Ok(out)
}

/// The tasks of a followed service view that were not streamed yet (the service replaced a
/// failed task, scaled up or rolled out an update), behind a `── started ──` marker each.
/// An engine error is left for the next round: the task streams say the reconnect.
async fn new_tasks(
    docker: &Docker,
    target: &ResourceKey,
    known: &mut HashSet<String>,
) -> Result<Vec<(Target, LogLine)>, TargetError> {
    let found = service_tasks(docker, target).await?;
    let mut out = Vec::new();
    for (t, created) in found {
        if known.insert(t.1.clone()) {
            let at = created.unwrap_or_else(jiff::Timestamp::now);
            let mark = marker(Mark::Started, at, nanos(at), t.3.clone());
            out.push((t, mark));
        }
    }
    out.sort_by(|a, b| a.0.2.cmp(&b.0.2));
    Ok(out)
}

/// Why a log view has no stream to open. The view shows the Display; an engine error is
/// shown through [`human_error`] (it needs the endpoint) and may drop the cached client.
#[derive(Debug, thiserror::Error)]
enum TargetError {
    #[error("{0}")]
    Engine(bollard::errors::Error),
    /// "images have no logs"
    #[error("{kinds} have no logs")]
    NoLogs { kinds: String },
    /// "project shop has nothing to show"
    #[error("{what} {id} has nothing to show")]
    Empty { what: String, id: String },
}

/// Stream the logs of `target` as `LogLines`: Ok(why they ended early, or None when they
/// simply ended), Err when the UI went away.
pub async fn stream_logs(
    inner: &Inner,
    target: &ResourceKey,
    opts: &LogOpts,
    stream: StreamId,
    tx: &EventTx,
) -> Result<Option<String>, Gone> {
    let conn = match inner.connection().await {
        Ok(c) => c,
        Err(e) => return Ok(Some(e)),
    };
    let endpoint = &conn.1;
    let docker = &conn.0.docker;
    let sources = match targets(docker, target).await {
        Ok(s) => s,
        Err(TargetError::Engine(e)) => {
            inner.forget_if_transport(&e).await;
            return Ok(Some(human_error(endpoint, &e)));
        }
        Err(e) => return Ok(Some(e.to_string())),
    };

    let options = logs_options(opts);
    let single = sources.len() == 1;
    // A followed service or stack also picks up the tasks started after the view opened.
    let discover =
        opts.follow && matches!(target.kind, ResourceKind::Service | ResourceKind::Stack);
    let mut known: HashSet<String> = sources.iter().map(|t| t.1.clone()).collect();
    // One producer per source (follow.rs: re-attaching across restarts and reconnects), all
    // polled inside this task, so closing the view stops them; this loop splits and batches.
    let (ptx, mut prx) = mpsc::channel::<Tagged>(16);
    let mut state: Vec<Source> = Vec::with_capacity(sources.len());
    let mut producers = FuturesUnordered::new();
    let start = |origin: Origin, id: String, label: Option<Arc<str>>, idx: usize| {
        // A task runs once: followed, it is only resumed across a reconnect (follow.rs).
        let reattach = opts.follow;
        Producer {
            inner,
            endpoint,
            out: ptx.clone(),
            idx,
            origin,
            id,
            label,
            options: options.clone(),
            reattach,
        }
        .run(docker.clone())
    };
    for (idx, (origin, id, name, label)) in sources.into_iter().enumerate() {
        producers.push(start(origin, id, label.clone(), idx));
        state.push(Source::new(name, label));
    }
    let mut batch = Batcher::new(stream);
    let mut errors: Vec<String> = Vec::new();
    let mut shown_note: Option<String> = None;
    let mut look =
        tokio::time::interval_at(tokio::time::Instant::now() + TASK_DISCOVERY, TASK_DISCOVERY);
    let mut discovering = discover;
    loop {
        tokio::select! {
            item = prx.recv() => {
                let Some((idx, piece)) = item else { break };
                let Some(src) = state.get_mut(idx) else { continue };
                if src.done {
                    continue;
                }
                match piece {
                    Piece::Frames(frames) => {
                        for out in frames {
                            let (half, bytes) = match out {
                                LogOutput::StdErr { message } => (&mut src.stderr, message),
                                LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message } => (&mut src.stdout, message),
                            };
                            let label = &src.label;
                            half.push(&bytes, |line| batch.push(to_line(line, label)));
                            if batch.is_full() {
                                batch.flush(tx).await?;
                            }
                        }
                    }
                    Piece::Ended => finish(src, &mut batch),
                    Piece::Mark(line) => batch.push(line),
                    Piece::Note(note) => src.note = note,
                    Piece::Done(error) => {
                        finish(src, &mut batch);
                        src.done = true;
                        src.note = None;
                        if let Some(text) = error {
                            tracing::debug!(container = %src.name, error = %text, "docker log stream failed");
                            errors.push(if single { text } else { format!("{}: {text}", src.name) });
                        }
                    }
                }
                let note = waiting_note(
                    state.iter().map(|s| (s.name.as_str(), s.note.as_deref())),
                    single,
                );
                if note != shown_note {
                    // Lines before the note, in the order they happened.
                    batch.flush(tx).await?;
                    log_note(tx, stream, note.clone()).await?;
                    shown_note = note;
                }
            }
            Some(()) = producers.next(), if !producers.is_empty() => {}
            _ = look.tick(), if discovering => match new_tasks(docker, target, &mut known).await {
                Ok(found) => {
                    for ((origin, id, name, label), mark) in found {
                        batch.push(mark);
                        producers.push(start(origin, id, label.clone(), state.len()));
                        state.push(Source::new(name, label));
                    }
                }
                // The service is gone: its streams end by themselves.
                Err(TargetError::Engine(e)) if super::error::is_not_found(&e) => discovering = false,
                Err(e) => tracing::debug!(error = %e, "looking for new tasks"),
            },
            _ = batch.due() => batch.flush(tx).await?,
        }
        // Every stream ended and no new one can come: what they sent was read above.
        if producers.is_empty() && !discovering && prx.is_empty() {
            break;
        }
    }
    drop(producers);
    batch.flush(tx).await?;
    Ok(if errors.is_empty() {
        None
    } else {
        Some(errors.join("; "))
    })
}

/// Emit the unterminated last lines of an instance's stream (a new one may follow).
fn finish(src: &mut Source, batch: &mut Batcher) {
    let label = src.label.clone();
    src.stdout.finish(|line| batch.push(to_line(line, &label)));
    src.stderr.finish(|line| batch.push(to_line(line, &label)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_errors_read_as_before() {
        let no = TargetError::NoLogs {
            kinds: "images".into(),
        };
        assert_eq!(no.to_string(), "images have no logs");
        let empty = TargetError::Empty {
            what: "project".into(),
            id: "shop".into(),
        };
        assert_eq!(empty.to_string(), "project shop has nothing to show");
    }
}
