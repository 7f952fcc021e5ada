//! The loop: one `select!` over the terminal, backend events, finished actions, signals and a
//! slow tick. Redraws only when state changed, at most once per frame interval.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::effect::Effect;
use super::msg::Msg;
use super::pace::{DEFAULT_MAX_FPS, Pace};
use super::state::{AppState, View};
use super::update::update;
use crate::audit::{AuditEntry, AuditLog};
use crate::backend::forward::Forwards;
use crate::backend::{Backend, BackendEvent, EventTx, ShellOpts, TaskHandle};
use crate::config::ColorSupport;
use crate::model::{ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus};
use crate::term;

/// When the process started (set by `main`), to report first-frame latency.
pub static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Backend events handled per loop turn before looking at the keyboard again.
const BATCH: usize = 128;

/// Owns the backends and every running stream; performs `Effect`s.
pub struct Runtime {
    backends: Vec<Arc<dyn Backend>>,
    events: EventTx,
    app: mpsc::UnboundedSender<Msg>,
    audit: AuditLog,
    watches: HashMap<(SourceId, ResourceKind), TaskHandle>,
    logs: Option<TaskHandle>,
    stats: Option<TaskHandle>,
    /// One-shot reachability checks (see `Backend::probe`), per source.
    probes: HashMap<SourceId, TaskHandle>,
    /// Each source's timeline feed (`Backend::timeline`), and the audit log's.
    timelines: HashMap<SourceId, TaskHandle>,
    /// The port forwards this console runs (`:forwards`), closed on quit.
    forwards: Forwards,
    /// Until the view on screen has its first lists, see [`Launch`].
    launch: Option<Launch>,
}

/// At launch the lists of the view on screen go first: the watches behind the triage badge,
/// the sources' probes and the timeline's replay start once those lists are in, or after
/// [`Launch::GRACE`]. Started together they made the engine answer the view's list later
/// (Docker 20.10, 1,000 containers: 70 → 88 ms median with the badge's three swarm lists and
/// the event replay beside it; docs/PERFORMANCE.md §17).
struct Launch {
    /// Where the timeline's replay starts (an hour before launch, not before the deferral).
    since: jiff::Timestamp,
    until: Instant,
}

impl Launch {
    /// A source that has not answered by then does not hold the rest back any longer.
    const GRACE: Duration = Duration::from_secs(1);
}

impl Runtime {
    pub fn new(
        backends: Vec<Arc<dyn Backend>>,
        events: EventTx,
        app: mpsc::UnboundedSender<Msg>,
        audit: AuditLog,
    ) -> Self {
        Runtime {
            backends,
            forwards: Forwards::new(events.clone()),
            events,
            app,
            audit,
            watches: HashMap::new(),
            logs: None,
            stats: None,
            probes: HashMap::new(),
            timelines: HashMap::new(),
            launch: None,
        }
    }

    /// Probe every source once so the header shows its status before its views are opened.
    pub fn probe_sources(&mut self) {
        for b in &self.backends {
            if !self.probes.contains_key(b.id())
                && let Some(h) = b.probe(self.events.clone())
            {
                self.probes.insert(b.id().clone(), h);
            }
        }
    }

    /// Feed the timeline from every source and the audit log, from `since` on (what each
    /// engine replays, then live); a switched source's new scope gets its own feed.
    pub fn follow_timelines(&mut self, since: jiff::Timestamp) {
        let audit = SourceId::new("audit");
        if !self.timelines.contains_key(&audit) {
            let path = self.audit.path().to_path_buf();
            let feed = crate::timeline::audit::feed(path, since, None, self.events.clone());
            self.timelines.insert(audit, feed);
        }
        for b in &self.backends {
            if !self.timelines.contains_key(b.id())
                && let Some(h) = b.timeline(since, None, self.events.clone())
            {
                self.timelines.insert(b.id().clone(), h);
            }
        }
    }

    pub fn backend(&self, source: &SourceId) -> Option<Arc<dyn Backend>> {
        self.backends.iter().find(|b| b.id() == source).cloned()
    }

    /// Run exactly the watches the navigation stack needs; dropped handles stop their streams.
    /// Returns the watches it started, with where each asks: (source, kind, endpoint).
    pub fn reconcile_watches(
        &mut self,
        kinds: &[ResourceKind],
    ) -> Vec<(SourceId, ResourceKind, String)> {
        self.watches.retain(|(_, k), _| kinds.contains(k));
        let mut started = Vec::new();
        for b in &self.backends {
            for &k in kinds {
                let key = (b.id().clone(), k);
                if b.kinds().contains(&k) && !self.watches.contains_key(&key) {
                    self.watches.insert(key, b.watch(k, self.events.clone()));
                    let endpoint = b.endpoint().unwrap_or_else(|| b.id().to_string());
                    started.push((b.id().clone(), k, endpoint));
                }
            }
        }
        started
    }

    /// [`Runtime::reconcile_watches`] for `state`'s views; new watches are awaited there.
    fn reconcile(&mut self, state: &mut AppState) {
        let kinds = if self.launching(state) {
            state.viewed_kinds()
        } else {
            state.wanted_kinds()
        };
        for (source, kind, endpoint) in self.reconcile_watches(&kinds) {
            state.watch_started(source, kind, endpoint);
        }
    }

    /// Start with the view's own watches; the rest follows (see [`Launch`]).
    fn start(&mut self, state: &mut AppState) {
        let viewed = state.viewed_kinds();
        for (source, kind, endpoint) in self.reconcile_watches(&viewed) {
            state.watch_started(source, kind, endpoint);
        }
        // The timeline and triage views show the feeds and the badge's kinds themselves.
        let defer = !viewed
            .iter()
            .any(|k| matches!(k, ResourceKind::Timeline | ResourceKind::Triage));
        self.launch = Some(Launch {
            since: crate::timeline::replay_since(jiff::Timestamp::now()),
            until: Instant::now() + if defer { Launch::GRACE } else { Duration::ZERO },
        });
        self.reconcile(state);
    }

    /// Whether the launch is still waiting for the view's first lists; the moment it is not,
    /// the deferred probes and timeline feeds start.
    fn launching(&mut self, state: &AppState) -> bool {
        let Some(launch) = &self.launch else {
            return false;
        };
        let viewed = state.viewed_kinds();
        let waiting =
            Instant::now() < launch.until && state.awaiting.keys().any(|(_, k)| viewed.contains(k));
        if waiting {
            return true;
        }
        let since = launch.since;
        self.launch = None;
        self.probe_sources();
        self.follow_timelines(since);
        false
    }

    pub fn perform(&mut self, state: &AppState, fx: Effect) {
        match fx {
            Effect::OpenLogs {
                stream,
                target,
                opts,
            } => {
                self.logs = self
                    .backend(&target.source)
                    .map(|b| b.logs(&target, opts, stream, self.events.clone()));
            }
            Effect::CloseLogs => self.logs = None,
            Effect::Stats(key) => {
                self.stats = key.and_then(|k| {
                    self.backend(&k.source)
                        .and_then(|b| b.stats(&k, self.events.clone()))
                });
            }
            Effect::Act { key, name, action }
                if matches!(
                    action,
                    ResourceAction::Forward { .. } | ResourceAction::CloseForward
                ) =>
            {
                self.forward(key, name, action)
            }
            Effect::Act { key, name, action } => {
                let Some(b) = self.backend(&key.source) else {
                    return;
                };
                let (audit, app) = (self.audit.clone(), self.app.clone());
                tokio::spawn(async move {
                    let (result, offer) = act_audited(&*b, &audit, &key, &name, &action).await;
                    let _ = app.send(Msg::ActionDone {
                        key,
                        name,
                        action,
                        result,
                        offer,
                    });
                });
            }
            Effect::AuditRefused { key, name, action } => {
                let audit = self.audit.clone();
                tokio::spawn(async move {
                    let entry = AuditEntry::attempt(
                        key.source.as_str(),
                        action_target(&key, &name, &action),
                        action.label(),
                    )
                    .refused("read-only mode");
                    // Nothing ran: a refusal that cannot be written is only logged.
                    if let Err(e) = write_audit(&audit, entry).await {
                        tracing::error!("{e}");
                    }
                });
            }
            Effect::Describe(key) => {
                let Some(b) = self.backend(&key.source) else {
                    return;
                };
                let app = self.app.clone();
                tokio::spawn(async move {
                    let result = b
                        .describe(&key)
                        .await
                        .map_err(|e| format!("describe failed: {e:#}"));
                    let _ = app.send(Msg::Described { key, result });
                });
            }
            Effect::SaveLogs(path) => {
                let result = save_logs(state, &path);
                let _ = self.app.send(Msg::Saved(result));
            }
            Effect::Switch(key) => {
                let Some(b) = self.backend(&key.source) else {
                    return;
                };
                let Some(new) = b.switch(&key) else {
                    return;
                };
                let (old, new_id) = (b.id().clone(), new.id().clone());
                tracing::info!(%old, new = %new_id, "switching source");
                // Dropping the handles stops the old scope's watches; `apply` starts the new.
                self.watches.retain(|(s, _), _| *s != old);
                self.probes.remove(&old);
                self.timelines.remove(&old);
                let at = self.backends.iter().position(|x| *x.id() == old);
                self.backends.retain(|x| *x.id() != old);
                if !self.backends.iter().any(|x| *x.id() == new_id) {
                    let at = at.unwrap_or(self.backends.len()).min(self.backends.len());
                    self.backends.insert(at, new);
                }
                let _ = self.app.send(Msg::SourceSwitched { old, new: new_id });
                self.probe_sources();
                self.follow_timelines(jiff::Timestamp::now());
            }
            Effect::RunCommand { targets, command } => self.run_command(targets, command),
            Effect::ProvidePassphrase {
                key_path,
                passphrase,
            } => crate::ssh::auth::passphrases().provide(&key_path, passphrase.0),
            // Shell needs the terminal and Quit ends the loop: both handled by `run`.
            Effect::Shell(_) | Effect::Quit | Effect::AbortAndQuit(_) | Effect::Copy(_) => {}
        }
    }
}

impl Runtime {
    /// Open or close a port forward (src/backend/forward.rs), audited like a backend action:
    /// the console owns forwards, the backend only says how to reach the port.
    fn forward(&self, key: ResourceKey, name: String, action: ResourceAction) {
        let backend = self.backend(&key.source);
        let (forwards, audit, app) = (self.forwards.clone(), self.audit.clone(), self.app.clone());
        tokio::spawn(async move {
            let run = async {
                match &action {
                    ResourceAction::Forward { remote, local } => {
                        let b = backend.ok_or_else(|| anyhow::anyhow!("the source is gone"))?;
                        let connector = b.forward(&key, *remote).await?;
                        let f = forwards
                            .open(*local, connector, key.clone(), name.clone())
                            .await?;
                        let text = format!("forwarding {} → {}", f.local, f.target);
                        forwards.add(f).await;
                        Ok(text.into())
                    }
                    _ => {
                        let id = key.id.parse::<u64>()?;
                        forwards.close(id).await.map(Into::into)
                    }
                }
            };
            let (result, offer) = audited(&audit, &key, &name, &action, run).await;
            let _ = app.send(Msg::ActionDone {
                key,
                name,
                action,
                result,
                offer,
            });
        });
    }

    /// Quitting: close every forward, each audited (the port is free when this returns).
    async fn close_forwards(&self) {
        for f in self.forwards.take_all().await {
            let key = f.row().key;
            let name = f.local.to_string();
            let text = format!("closed {} → {} (quit)", f.local, f.target);
            let close = async {
                f.close().await;
                Ok(text.into())
            };
            let (done, _) = audited(
                &self.audit,
                &key,
                &name,
                &ResourceAction::CloseForward,
                close,
            )
            .await;
            tracing::info!("{done:?}");
        }
    }

    /// Fan a command out to its targets; results arrive as `RunResult` snapshots per source.
    fn run_command(&mut self, targets: Vec<(ResourceKey, String)>, command: String) {
        use crate::backend::fleet::run::{self, RunTarget};
        let mut rows: std::collections::BTreeMap<SourceId, Vec<crate::model::Resource>> =
            Default::default();
        let mut run_targets = Vec::new();
        for (key, name) in targets {
            let Some(backend) = self.backend(&key.source) else {
                continue;
            };
            rows.entry(key.source.clone())
                .or_default()
                .push(run::result_row(&key, &name, &command, None));
            run_targets.push(RunTarget { backend, key, name });
        }
        let (events, audit) = (self.events.clone(), self.audit.clone());
        tokio::spawn(async move {
            for (source, resources) in &rows {
                let _ = events
                    .send(BackendEvent::Snapshot {
                        source: source.clone(),
                        kind: ResourceKind::RunResult,
                        resources: resources.clone(),
                    })
                    .await;
            }
            let (tx, mut rx) = mpsc::unbounded_channel::<run::RunOutcome>();
            let cmd = command.clone();
            let fan = tokio::spawn(async move {
                run::run_all(run_targets, cmd, run::CONCURRENCY, Some(audit), |o| {
                    let _ = tx.send(o.clone());
                })
                .await
            });
            while let Some(o) = rx.recv().await {
                let Some(list) = rows.get_mut(&o.key.source) else {
                    continue;
                };
                if let Some(r) = list.iter_mut().find(|r| r.key.id == o.key.id) {
                    *r = run::result_row(&o.key, &o.name, &command, Some(&o));
                }
                let _ = events
                    .send(BackendEvent::Snapshot {
                        source: o.key.source.clone(),
                        kind: ResourceKind::RunResult,
                        resources: list.clone(),
                    })
                    .await;
            }
            let _ = fan.await;
        });
    }
}

/// Run `action` on `key` through its backend, audited before and after: (the message or the
/// error, what the backend offers next). Durability over convenience: an action whose
/// attempt cannot be audited does not run, and the operator sees why.
async fn act_audited(
    b: &dyn Backend,
    audit: &AuditLog,
    key: &ResourceKey,
    name: &str,
    action: &ResourceAction,
) -> (Result<String, String>, Option<ResourceAction>) {
    audited(audit, key, name, action, b.act_outcome(key, action)).await
}

/// Run `act` audited before and after (see [`act_audited`]): backend actions and the
/// console's own (port forwards).
async fn audited(
    audit: &AuditLog,
    key: &ResourceKey,
    name: &str,
    action: &ResourceAction,
    act: impl std::future::Future<Output = anyhow::Result<crate::model::ActionOutcome>>,
) -> (Result<String, String>, Option<ResourceAction>) {
    let entry = AuditEntry::attempt(
        key.source.as_str(),
        action_target(key, name, action),
        action.label(),
    );
    if let Err(e) = write_audit(audit, entry.clone()).await {
        return (Err(format!("{} {name} refused: {e}", action.name())), None);
    }
    let (result, offer) = match act.await {
        Ok(o) => (Ok(o.message), o.offer),
        Err(e) => (Err(format!("{} {name} failed: {e:#}", action.name())), None),
    };
    let done = match &result {
        Ok(t) => entry.result(true, t),
        Err(e) => entry.result(false, e),
    };
    // It ran: its outcome stands, and the missing line is said with it.
    let result = match (write_audit(audit, done).await, result) {
        (Ok(()), r) => r,
        (Err(e), Ok(t)) => Err(format!("{t} (but {e})")),
        (Err(e), Err(t)) => Err(format!("{t} (and {e})")),
    };
    (result, offer)
}

/// What an action's audit lines name: `kind/name`; an update lists each of its devices
/// (`devices/r1,devices/r2`), as the CLI and the update journal do.
fn action_target(key: &ResourceKey, name: &str, action: &ResourceAction) -> String {
    match action {
        ResourceAction::StartUpdate(req) if !req.devices.is_empty() => {
            crate::audit::devices_target(&req.devices)
        }
        _ => format!("{}/{}", key.kind.name(), name),
    }
}

/// Append off the UI thread (fsync); the error names the log.
async fn write_audit(audit: &AuditLog, entry: AuditEntry) -> Result<(), String> {
    let audit = audit.clone();
    match tokio::task::spawn_blocking(move || audit.append(&entry)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("audit log: {e}")),
    }
}

fn save_logs(state: &AppState, path: &std::path::Path) -> Result<String, String> {
    let Some(View::Logs(l)) = state.stack.last() else {
        return Err("no log view".into());
    };
    let write = || -> std::io::Result<usize> {
        let f = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::new(f);
        l.buffer.write_to(&mut w, l.timestamps)?;
        std::io::Write::flush(&mut w)?;
        Ok(l.buffer.len())
    };
    // The absolute path: a relative one says nothing about where the console was started.
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    write()
        .map(|n| format!("saved {n} lines to {}", shown.display()))
        .map_err(|e| format!("save to {} failed: {e}", shown.display()))
}

/// Run the console until the user quits, the terminal goes away, or SIGTERM/SIGHUP arrives.
pub async fn run(
    mut state: AppState,
    backends: Vec<Arc<dyn Backend>>,
    audit: AuditLog,
) -> anyhow::Result<()> {
    let (ev_tx, mut ev_rx) = mpsc::channel::<BackendEvent>(256);
    let (app_tx, mut app_rx) = mpsc::unbounded_channel::<Msg>();
    for b in &backends {
        state
            .sources
            .insert(b.id().clone(), SourceStatus::Connecting);
    }
    state.served = Some(backends.iter().flat_map(|b| b.kinds()).copied().collect());
    // The view left last time with these sources, unless `--view` or `start_view:` chose one.
    let memo_key = crate::app::last_view::sources_key(backends.iter().map(|b| b.id()));
    let memo_file = crate::app::last_view::file();
    if state.settings.config.start_view.is_none()
        && let Some(memo) = crate::app::last_view::load(&memo_file, &memo_key)
    {
        tracing::info!("starting on the last view: {memo:?}");
        crate::app::update::restore_view(&mut state, &memo);
    }
    let mut rt = Runtime::new(backends, ev_tx, app_tx.clone(), audit);

    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;

    let _guard = term::Guard;
    let classic_sgr = matches!(
        state.settings.theme.support(),
        ColorSupport::Ansi16 | ColorSupport::NoColor
    );
    let ascii = state
        .settings
        .config
        .ascii
        .unwrap_or_else(|| !term::ascii::utf8_locale(|k| std::env::var(k).ok()));
    let mut terminal = term::enter(classic_sgr, ascii)?;
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // When a large snapshot or many log lines arrived: give the freed heap back (crate::mem).
    let mut trim = crate::mem::TrimPolicy::default();

    rt.start(&mut state);
    // Keys redraw at once; streams and watches wait for the pace's next slot.
    let mut pace = Pace::new(
        state.settings.config.max_fps.unwrap_or(DEFAULT_MAX_FPS),
        Pace::budget_for(state.settings.config.max_bytes_per_sec, |k| {
            std::env::var(k).ok()
        }),
    );
    let mut urgent = true;
    let mut rows_drawn = false;
    loop {
        if state.dirty && (urgent || Instant::now() >= pace.due()) {
            let before = term::bytes_written();
            terminal.draw(|f| crate::ui::render(f, &mut state))?;
            state.dirty = false;
            if let Some(t0) = STARTED.get() {
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                if !pace.has_drawn() {
                    tracing::info!("first frame drawn {ms:.1} ms after start");
                }
                // Where launch time goes (docs/PERFORMANCE.md §17): with the connect and list
                // lines of `FLEETDECK_LOG=debug`, this splits it into engine and console.
                if !rows_drawn && matches!(state.top(), View::Table(t) if !t.rows.is_empty()) {
                    rows_drawn = true;
                    tracing::info!("first rows drawn {ms:.1} ms after start");
                }
            }
            pace.drawn(Instant::now(), term::bytes_written() - before);
        }
        urgent = false;
        let redraw_at = tokio::time::Instant::from_std(pace.due());
        let msg = tokio::select! {
            biased;
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            _ = sigint.recv() => break,
            _ = sigquit.recv() => break,
            ev = input.next() => match ev {
                Some(Ok(ev)) => { urgent = true; Msg::Term(ev) }
                // The terminal is gone (hang-up, closed pty): nobody is watching, exit now.
                Some(Err(_)) | None => break,
            },
            Some(m) = app_rx.recv() => { urgent = true; m }
            Some(ev) = ev_rx.recv() => {
                trim.saw(&ev);
                let mut fx = update(&mut state, Msg::Backend(ev));
                for _ in 1..BATCH {
                    match ev_rx.try_recv() {
                        Ok(ev) => {
                            trim.saw(&ev);
                            fx.extend(update(&mut state, Msg::Backend(ev)));
                        }
                        Err(_) => break,
                    }
                }
                if apply(&mut state, &mut rt, fx, &mut terminal, &mut input).await? { break }
                continue;
            }
            _ = tick.tick() => {
                // On the tick after, not at once: by then the backend has dropped the engine's
                // objects it decoded the snapshot from, and the rows they replaced are gone.
                if trim.take_due() {
                    crate::mem::trim();
                }
                Msg::Tick
            }
            _ = tokio::time::sleep_until(redraw_at), if state.dirty => continue,
        };
        let fx = update(&mut state, msg);
        if apply(&mut state, &mut rt, fx, &mut terminal, &mut input).await? {
            break;
        }
    }
    drop(terminal);
    term::restore();
    rt.close_forwards().await;
    // After the terminal is back: the next start opens here (best effort, a log line if not).
    if let Some(memo) = crate::app::last_view::current(&state)
        && let Err(e) = crate::app::last_view::save(&memo_file, &memo_key, &memo)
    {
        tracing::warn!("last view: cannot save {}: {e}", memo_file.display());
    }
    Ok(())
}

/// Perform effects; returns true when the console must quit.
async fn apply(
    state: &mut AppState,
    rt: &mut Runtime,
    fx: Vec<Effect>,
    terminal: &mut term::Tui,
    input: &mut EventStream,
) -> anyhow::Result<bool> {
    for e in fx {
        match e {
            Effect::Quit => return Ok(true),
            Effect::AbortAndQuit(keys) => {
                // Waited for (bounded): the abort must be on disk before the process ends.
                for key in keys {
                    let Some(b) = rt.backend(&key.source) else {
                        continue;
                    };
                    let action = ResourceAction::AbortDeployment;
                    let done = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        act_audited(&*b, &rt.audit, &key, &key.id, &action),
                    )
                    .await;
                    tracing::info!("abort {} before quitting: {done:?}", key.id);
                }
                return Ok(true);
            }
            Effect::Shell(key) => {
                let result = shell(state, rt, &key, terminal, input).await;
                // Whatever happened, the TUI comes back exactly where it was.
                term::resume(terminal)?;
                state.dirty = true;
                let _ = rt.app.send(Msg::ShellDone(result));
            }
            Effect::Copy(text) => {
                // A few KiB at most (osc52::MAX_TEXT), written like a frame.
                if let Err(e) = term::copy_to_clipboard(terminal, &text) {
                    tracing::warn!("copy (OSC 52): {e}");
                }
            }
            other => rt.perform(state, other),
        }
    }
    // Always, not only after effects: a `:stacks` typed in the command bar changes the views
    // without any effect, and its watch must start all the same. Cheap: a few map lookups.
    rt.reconcile(state);
    Ok(state.quit)
}

async fn shell(
    state: &AppState,
    rt: &Runtime,
    key: &ResourceKey,
    terminal: &mut term::Tui,
    input: &mut EventStream,
) -> Result<String, String> {
    let backend = rt.backend(&key.source).ok_or("source is gone")?;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let opts = ShellOpts {
        commands: state.settings.config.shell.commands.clone(),
        cols,
        rows,
    };
    let name = match state.top() {
        View::Table(t) => t
            .selected_row()
            .map(|r| r.name.clone())
            .unwrap_or_else(|| key.id.clone()),
        _ => key.id.clone(),
    };
    if let Some(cmd) = backend.local_shell(key) {
        *input = EventStream::new();
        let _ = terminal.flush();
        term::suspend().map_err(|e| e.to_string())?;
        let banner = format!("fleetdeck: shell on {name} ({}, this machine)", key.source);
        return match term::handoff::run_here(cmd, &banner).await {
            Ok(status) => Ok(format!("shell on {name} exited ({status})")),
            Err(e) => Err(format!("shell on {name}: {e}")),
        };
    }
    let session = tokio::time::timeout(Duration::from_secs(15), backend.shell(key, &opts))
        .await
        .map_err(|_| format!("shell into {name}: timed out"))?
        .map_err(|e| format!("shell into {name}: {e:#}"))?;
    // The event reader thread must not compete with the session for keystrokes.
    // Replacing the stream drops the old one, which stops its reader thread; the new one does
    // not read until it is polled again after the session.
    *input = EventStream::new();
    let _ = terminal.flush();
    term::suspend().map_err(|e| e.to_string())?;
    let ended = term::handoff::bridge(
        session,
        &format!("fleetdeck: shell in {name} on {}", key.source),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(match ended {
        term::handoff::Ended::Remote => format!("shell in {name} exited"),
        term::handoff::Ended::Escape => format!("detached from {name}"),
        term::handoff::Ended::LocalClosed => "terminal closed".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ctrl-s with a relative name: the toast names the absolute path the file went to.
    #[test]
    fn saving_logs_names_the_absolute_path() {
        let mut state = AppState::new(crate::config::Settings::default(), false);
        let key = ResourceKey {
            source: SourceId::new("docker:local"),
            kind: crate::model::ResourceKind::Container,
            id: "id".into(),
        };
        state
            .stack
            .push(View::Logs(Box::new(crate::app::state::LogView::new(
                "web".into(),
                key,
                1,
                crate::model::LogOpts {
                    follow: true,
                    tail: None,
                    since_secs: None,
                    previous: false,
                },
                10,
            ))));
        let dir = tempfile::tempdir_in(".").unwrap();
        let name = std::path::Path::new(".")
            .join(dir.path().file_name().unwrap())
            .join("out.log");
        assert!(name.is_relative());
        let text = save_logs(&state, &name).unwrap();
        let abs = std::path::absolute(&name).unwrap();
        assert!(abs.is_absolute());
        assert_eq!(text, format!("saved 0 lines to {}", abs.display()));
    }
}
