//! One log source of a Docker log view, kept attached across its container's restarts and the
//! engine's reconnects.
//!
//! A followed container's stream ends when the container stops. If it starts again (restart
//! policy, `docker restart`, a crash loop) the stream is reopened from just after the last line
//! received (`since` = that line's second, lines at or before its stamp dropped: none doubled,
//! none lost as far as the engine keeps them) behind a `── restarted HH:MM:SS ──` marker (the
//! new instance's `State.StartedAt`). While it stays stopped the view says so and inspect is
//! polled every [`POLL`] (one request a second per stopped container, only while its view is
//! open: the producer lives inside the view's log task). A transport error retries with
//! [`Backoff`] and resumes behind `── reconnected HH:MM:SS ──`.
//!
//! A Swarm task runs once (the service replaces it with a new task, which the service's view
//! picks up, see logs.rs), so a followed task is only resumed across a reconnect; non-follow
//! views are streamed once.

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::{InspectContainerOptions, LogsOptions};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use super::Inner;
use super::connect::Endpoint;
use super::error::{human_error, is_not_found, is_transport_error};
use super::paced;
use crate::backend::supervise::Backoff;
use crate::logs::marker::{Mark, marker, nanos};
use crate::logs::split_timestamp;
use crate::model::LogLine;

/// How often a stopped container is inspected for a new start.
pub const POLL: Duration = Duration::from_secs(1);
/// Frames handed over at once (whatever is ready, up to this): one channel hop per chunk keeps a
/// flood's cost per line where the single merged stream had it.
const CHUNK: usize = 64;

/// What a source producer tells the view's consumer.
pub(super) enum Piece {
    Frames(Vec<LogOutput>),
    /// One instance's stream ended: emit its unterminated last lines; more may follow.
    Ended,
    /// A marker line to show where the stream resumed.
    Mark(LogLine),
    /// The source waits (Some: why) or streams again (None).
    Note(Option<String>),
    /// The source is finished: None when it simply ended, else why.
    Done(Option<String>),
}

pub(super) type Tagged = (usize, Piece);

/// Where one source's frames come from.
pub(super) enum Origin {
    Container,
    Task,
}

/// One source of a view and the channel its pieces go to.
pub(super) struct Producer<'a> {
    pub inner: &'a Inner,
    pub endpoint: &'a Endpoint,
    pub out: mpsc::Sender<Tagged>,
    pub idx: usize,
    pub origin: Origin,
    pub id: String,
    pub label: Option<Arc<str>>,
    pub options: LogsOptions,
    /// Follow the container across restarts and reconnects.
    pub reattach: bool,
}

/// What a container's state says about resuming its log.
struct Instance {
    started: Option<String>,
    /// When the previous run ended (the engine keeps it until the next stop).
    finished: Option<String>,
    running: bool,
    exit: Option<i64>,
    restarting: bool,
}

/// How one instance's stream ended.
enum End {
    /// The engine closed it (the container stopped, or a non-follow read finished).
    Closed,
    /// The connection to the engine failed.
    Lost(String),
    /// Any other error: the source is done.
    Failed(String),
}

impl Producer<'_> {
    async fn send(&self, piece: Piece) -> Result<(), ()> {
        self.out.send((self.idx, piece)).await.map_err(|_| ())
    }

    /// Tell the view why the source waits, when that changed.
    async fn note(&self, current: &mut Option<String>, new: Option<String>) -> Result<(), ()> {
        if *current == new {
            return Ok(());
        }
        *current = new.clone();
        self.send(Piece::Note(new)).await
    }

    async fn inspect(&self, docker: &Docker) -> Result<Instance, bollard::errors::Error> {
        if let Origin::Task = self.origin {
            // A task has one run: what matters after a reconnect is only that it still exists
            // (its stream then resumes and ends by itself if the task ended meanwhile).
            docker.inspect_task(&self.id).await?;
            return Ok(Instance {
                started: None,
                finished: None,
                running: true,
                exit: None,
                restarting: false,
            });
        }
        let c = docker
            .inspect_container(&self.id, None::<InspectContainerOptions>)
            .await?;
        let st = c.state.unwrap_or_default();
        Ok(Instance {
            started: st.started_at,
            finished: st.finished_at,
            running: st.running.unwrap_or(false),
            exit: st.exit_code,
            restarting: st.restarting.unwrap_or(false),
        })
    }

    /// Stream the source until it is done or the view is gone.
    pub async fn run(self, mut docker: Docker) {
        // The instance being streamed: a different StartedAt later means a restart.
        let mut started = None;
        // An error here is left to the logs request, which says it in the view's words.
        if self.reattach
            && let Ok(i) = self.inspect(&docker).await
        {
            started = i.started;
        }
        let mut last: Option<i64> = None;
        let mut options = self.options.clone();
        loop {
            let end = match self.pump(&docker, options.clone(), &mut last).await {
                Ok(end) => end,
                Err(()) => return,
            };
            if self.send(Piece::Ended).await.is_err() {
                return;
            }
            let lost = match end {
                End::Closed if self.reattach && matches!(self.origin, Origin::Container) => None,
                End::Lost(e) if self.reattach => Some(e),
                End::Closed => {
                    let _ = self.send(Piece::Done(None)).await;
                    return;
                }
                End::Lost(e) | End::Failed(e) => {
                    let _ = self.send(Piece::Done(Some(e))).await;
                    return;
                }
            };
            let Some((marks, client)) = self.wait(&mut docker, &mut started, lost, last).await
            else {
                return;
            };
            docker = client;
            for m in marks {
                if self.send(Piece::Mark(m)).await.is_err() {
                    return;
                }
            }
            // Resume from the last line's second; `pump` drops what was already shown.
            if let Some(ns) = last {
                options.since = i32::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(i32::MAX);
                options.tail = "all".into();
            }
        }
    }

    /// One instance's frames, in batches: read on a thread of their own where the engine is
    /// dialled directly (paced.rs: many lines per read), else through bollard.
    fn frames(&self, docker: &Docker, options: LogsOptions) -> BoxStream<'static, paced::Batch> {
        let what = match self.origin {
            Origin::Container => "containers",
            Origin::Task => "tasks",
        };
        if let Ok(query) = serde_urlencoded::to_string(&options)
            && let Some(mut rx) =
                paced::open(self.endpoint, format!("/{what}/{}/logs?{query}", self.id))
        {
            return futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed();
        }
        match self.origin {
            Origin::Container => docker.logs(&self.id, Some(options)).boxed(),
            Origin::Task => docker.task_logs(&self.id, Some(options)).boxed(),
        }
        .ready_chunks(CHUNK)
        .boxed()
    }

    /// Forward one instance's frames; `last` keeps the newest stamp seen (and frames at or
    /// before its value on entry are dropped: a resumed stream starts at that second).
    async fn pump(
        &self,
        docker: &Docker,
        options: LogsOptions,
        last: &mut Option<i64>,
    ) -> Result<End, ()> {
        let mut chunks = self.frames(docker, options);
        let mut cut = *last;
        // The newest frame's stamp, parsed only when the stream ends (a flood pays a copy of a
        // few bytes per frame, not a parse).
        let mut stamp: Vec<u8> = Vec::with_capacity(40);
        let mut end = End::Closed;
        while let Some(chunk) = chunks.next().await {
            let mut out = Vec::with_capacity(chunk.len());
            for item in chunk {
                match item {
                    Ok(frame) => {
                        let bytes = frame_bytes(&frame);
                        if let Some(c) = cut {
                            match split_timestamp(bytes).0 {
                                Some(ts) if ts <= c => continue,
                                _ => cut = None,
                            }
                        }
                        keep_stamp(bytes, &mut stamp);
                        out.push(frame);
                    }
                    Err(e) => {
                        self.inner.forget_if_transport(&e).await;
                        let text = human_error(self.endpoint, &e);
                        end = if is_transport_error(&e) {
                            End::Lost(text)
                        } else {
                            End::Failed(text)
                        };
                        break;
                    }
                }
            }
            if !out.is_empty() {
                self.send(Piece::Frames(out)).await?;
            }
            if !matches!(end, End::Closed) {
                break;
            }
        }
        if let Some(ts) = split_timestamp(&stamp).0 {
            *last = Some(ts);
        }
        Ok(end)
    }

    /// After a stream ended: wait until there is a new instance to stream (or the engine is
    /// back). Returns the markers to show and the client to use; None when the source is done.
    async fn wait(
        &self,
        docker: &mut Docker,
        started: &mut Option<String>,
        mut lost: Option<String>,
        last: Option<i64>,
    ) -> Option<(Vec<LogLine>, Docker)> {
        let mut backoff = Backoff::default();
        let mut marks = Vec::new();
        // The note the view shows now (sent only when it changes).
        let mut note: Option<String> = None;
        let mut seen_running = false;
        loop {
            if let Some(why) = &lost {
                let delay = backoff.next_delay();
                let text = format!("reconnecting in {}s: {why}", delay.as_secs());
                self.note(&mut note, Some(text)).await.ok()?;
                tokio::time::sleep(delay).await;
                match self.inner.connection().await {
                    Ok(c) => *docker = c.0.docker.clone(),
                    Err(e) => {
                        lost = Some(e);
                        continue;
                    }
                }
            }
            match self.inspect(docker).await {
                Err(e) if is_transport_error(&e) => {
                    self.inner.forget_if_transport(&e).await;
                    lost = Some(human_error(self.endpoint, &e));
                    continue;
                }
                Err(e) if is_not_found(&e) => {
                    let what = match self.origin {
                        Origin::Container => "the container was removed",
                        Origin::Task => "the task was removed",
                    };
                    self.send(Piece::Done(Some(what.into()))).await.ok()?;
                    return None;
                }
                Err(e) => {
                    self.send(Piece::Done(Some(human_error(self.endpoint, &e))))
                        .await
                        .ok()?;
                    return None;
                }
                Ok(now) => {
                    if lost.take().is_some() {
                        // Sorted just after the last line shown: what the engine logged while
                        // it was unreachable follows the marker.
                        let at = jiff::Timestamp::now();
                        marks.push(marker(
                            Mark::Reconnected,
                            at,
                            last.map(|n| n + 1),
                            self.label.clone(),
                        ));
                    }
                    if now.started.is_some() && now.started != *started {
                        let at = now
                            .started
                            .as_deref()
                            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                            .unwrap_or_else(jiff::Timestamp::now);
                        marks.push(marker(
                            Mark::Restarted,
                            at,
                            restart_sort_key(now.finished.as_deref(), at),
                            self.label.clone(),
                        ));
                        *started = now.started;
                        break;
                    }
                    // The same instance still runs (the engine ended the stream anyway, or
                    // has not marked the stop yet): look once more before resuming it.
                    if now.running && (seen_running || !marks.is_empty()) {
                        break;
                    }
                    seen_running |= now.running;
                    if !now.running {
                        self.note(&mut note, Some(stopped_note(&now))).await.ok()?;
                    }
                }
            }
            tokio::time::sleep(POLL).await;
            if self.out.is_closed() {
                return None;
            }
        }
        self.note(&mut note, None).await.ok()?;
        Some((marks, docker.clone()))
    }
}

/// "stopped (exit 1), waiting for it to start"
fn stopped_note(i: &Instance) -> String {
    let what = if i.restarting {
        "restarting"
    } else {
        "stopped"
    };
    match i.exit {
        Some(code) => format!("{what} (exit {code}), waiting for it to start"),
        None => format!("{what}, waiting for it to start"),
    }
}

pub(super) fn frame_bytes(frame: &LogOutput) -> &[u8] {
    match frame {
        LogOutput::StdErr { message }
        | LogOutput::StdOut { message }
        | LogOutput::Console { message }
        | LogOutput::StdIn { message } => message,
    }
}

/// Remember the stamp a frame starts with (`2024-05-01T11:00:22.123456789Z `).
fn keep_stamp(bytes: &[u8], stamp: &mut Vec<u8>) {
    let head = &bytes[..bytes.len().min(40)];
    if let Some(sp) = head.iter().position(|&b| b == b' ') {
        stamp.clear();
        stamp.extend_from_slice(&head[..=sp]);
    }
}

/// Where a `restarted` marker sorts among the lines: just after the old run ended
/// (`finished`, the engine's FinishedAt), not at the new StartedAt (`started`): the engine stamps
/// StartedAt after the process started, so the new run's first line can be older than it (seen
/// under load). StartedAt when the end is unknown (never finished: year 1) or later than it.
fn restart_sort_key(finished: Option<&str>, started: jiff::Timestamp) -> Option<i64> {
    finished
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .filter(|f| f.as_second() > 0 && *f <= started)
        .and_then(nanos)
        .map(|n| n + 1)
        .or_else(|| nanos(started))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_stamp_is_kept_and_parsed_later() {
        let mut s = Vec::new();
        keep_stamp(b"2024-05-01T11:00:22.5Z hello world", &mut s);
        keep_stamp(
            b"no-space-within-forty-bytes-of-the-start-at-all-really",
            &mut s,
        );
        assert_eq!(split_timestamp(&s).0, Some(1_714_561_222_500_000_000));
    }

    #[test]
    fn a_restart_marker_sorts_after_the_old_run_not_at_the_new_start() {
        let started: jiff::Timestamp = "2026-11-27T10:00:05.200Z".parse().unwrap();
        let ended = nanos("2026-11-27T10:00:04Z".parse().unwrap()).unwrap();
        assert_eq!(
            restart_sort_key(Some("2026-11-27T10:00:04Z"), started),
            Some(ended + 1)
        );
        for unknown in [
            None,
            Some("0001-01-01T00:00:00Z"),
            Some("2026-11-27T11:00:00Z"),
        ] {
            assert_eq!(
                restart_sort_key(unknown, started),
                nanos(started),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn stopped_notes() {
        let i = Instance {
            started: None,
            finished: None,
            running: false,
            exit: Some(137),
            restarting: false,
        };
        assert_eq!(
            stopped_note(&i),
            "stopped (exit 137), waiting for it to start"
        );
    }
}
