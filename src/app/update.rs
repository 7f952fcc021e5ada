//! The one place state changes. Pure apart from reading the clock: returns effects for the
//! runtime to perform, so every interaction is unit-testable without a terminal or an engine.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::effect::Effect;
use super::msg::Msg;
use super::state::*;
use crate::backend::BackendEvent;
use crate::config::KeyContext;
use crate::logs::Matcher;
use crate::model::{
    Confirmation, FailureLimit, LogOpts, ResourceAction, ResourceKind, UpdateRequest,
};

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Term(Event::Key(key)) if key.kind != KeyEventKind::Release => {
            on_key(state, key, &mut fx);
            state.dirty = true;
        }
        Msg::Action(action) => {
            if matches!(state.mode, Mode::Normal) {
                on_action(state, action, &mut fx);
            }
            state.dirty = true;
        }
        Msg::Term(Event::Resize(..)) => state.dirty = true,
        Msg::Term(_) => {}
        Msg::Backend(ev) => on_backend(state, ev),
        Msg::ActionDone {
            key,
            name,
            result,
            offer,
            ..
        } => match (result, offer) {
            // A follow-up the action offers is asked for, unless the user is busy elsewhere.
            (Ok(text), Some(next)) if matches!(state.mode, Mode::Normal) => {
                state.mode = Mode::Confirm(Confirm {
                    key,
                    name,
                    action: next,
                    typed: None,
                    detail: Some(text),
                });
                state.dirty = true;
            }
            (Ok(text), _) => state.toast(text, false),
            (Err(text), _) => state.toast(text, true),
        },
        Msg::Described { key, result } => {
            for v in state.stack.iter_mut() {
                if let View::Describe(d) = v
                    && d.key == key
                {
                    d.text = Some(result.clone());
                }
            }
            state.dirty = true;
        }
        Msg::ShellDone(result) | Msg::Saved(result) => match result {
            Ok(text) => state.toast(text, false),
            Err(text) => state.toast(text, true),
        },
        Msg::SourceSwitched { old, new } => {
            if old != new {
                state.sources.remove(&old);
                forget_source(state, &old);
            }
            state
                .sources
                .entry(new)
                .or_insert(crate::model::SourceStatus::Connecting);
            state.dirty = true;
        }
        Msg::Tick => on_tick(state),
    }
    for (key, name, action) in std::mem::take(&mut state.pending_refusals) {
        fx.push(Effect::AuditRefused { key, name, action });
    }
    reconcile_stats(state, &mut fx);
    if state.quit {
        fx.push(Effect::Quit);
    }
    fx
}

fn on_tick(state: &mut AppState) {
    if state
        .toast
        .as_ref()
        .is_some_and(|t| t.until <= std::time::Instant::now())
    {
        state.toast = None;
        state.dirty = true;
    }
    // Ages change as time passes: redraw each second while a young row shows seconds,
    // otherwise once a minute. No other idle redraws.
    if let View::Table(t) = state.top() {
        let now = jiff::Timestamp::now();
        let young = t.rows.iter().any(|r| {
            r.created
                .is_some_and(|c| now.as_second() - c.as_second() < 120)
        });
        if young || now.as_second() % 60 == 0 {
            state.dirty = true;
        }
    }
    // A first list still awaited: its note turns from "loading…" into "no answer … after Ns".
    if let View::Table(t) = state.top()
        && state.awaiting.keys().any(|(_, k)| *k == t.kind)
    {
        state.dirty = true;
    }
}

fn on_backend(state: &mut AppState, ev: BackendEvent) {
    match ev {
        BackendEvent::Status(source, status) => {
            state.sources.insert(source, status);
            state.dirty = true;
        }
        BackendEvent::Work { source, work } => {
            if work.is_empty() {
                state.work.remove(&source);
            } else {
                state.work.insert(source, work);
            }
        }
        BackendEvent::Unavailable {
            source,
            kind,
            reason,
        } => {
            if let Some(m) = state.data.get_mut(&kind) {
                m.remove(&source);
            }
            state.incomplete.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            state.unavailable.insert((source, kind), reason);
            refresh_tables(state, kind);
        }
        BackendEvent::Incomplete {
            source,
            kind,
            resources,
            note,
            loading,
        } => {
            state.unavailable.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            state.incomplete.insert(
                (source.clone(), kind),
                ListNote {
                    text: note,
                    loading,
                },
            );
            if let Some(resources) = resources {
                let entry = state.data.entry(kind).or_default();
                entry.insert(source, resources.into_iter().map(Arc::new).collect());
            }
            refresh_tables(state, kind);
        }
        BackendEvent::Snapshot {
            source,
            kind,
            resources,
        } => {
            state.unavailable.remove(&(source.clone(), kind));
            state.incomplete.remove(&(source.clone(), kind));
            state.awaiting.remove(&(source.clone(), kind));
            if kind == ResourceKind::Device {
                ask_passphrase(state, &resources);
            }
            let entry = state.data.entry(kind).or_default();
            entry.insert(source, resources.into_iter().map(Arc::new).collect());
            refresh_tables(state, kind);
        }
        BackendEvent::LogLines { stream, lines } => {
            let is_top = matches!(state.top(), View::Logs(l) if l.stream == stream);
            if let Some(l) = log_view_mut(state, stream) {
                for line in &lines {
                    if let Some(src) = &line.source
                        && !l.prefixes.contains_key(src)
                    {
                        let n = l.prefixes.len();
                        l.prefixes.insert(src.clone(), n);
                    }
                }
                if l.paused {
                    l.held.extend(lines);
                    let cap = l.opts.tail.unwrap_or(usize::MAX).max(100_000);
                    if l.held.len() > cap {
                        let excess = l.held.len() - cap;
                        l.held.drain(..excess);
                    }
                } else {
                    l.buffer.push_batch(lines);
                }
                state.dirty |= is_top;
            }
        }
        BackendEvent::LogEnded { stream, error } => {
            if let Some(l) = log_view_mut(state, stream) {
                l.ended = Some(error.clone().unwrap_or_else(|| "stream ended".into()));
            }
            if let Some(e) = error {
                state.toast(format!("logs: {e}"), true);
            }
            state.dirty = true;
        }
        BackendEvent::Stats { key, sample } => {
            if let Some(s) = state.stats.as_mut()
                && s.key == key
            {
                s.latest = Some(sample);
                push_bounded(&mut s.cpu, (sample.cpu_percent * 100.0).round() as u64);
                push_bounded(&mut s.mem, sample.mem_bytes);
                state.dirty = true;
            }
        }
    }
}

/// Drop every row and notice of `source` (its scope changed) and refresh the tables.
fn forget_source(state: &mut AppState, source: &crate::model::SourceId) {
    for m in state.data.values_mut() {
        m.remove(source);
    }
    state.unavailable.retain(|(s, _), _| s != source);
    state.incomplete.retain(|(s, _), _| s != source);
    state.awaiting.retain(|(s, _), _| s != source);
    let now = jiff::Timestamp::now();
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v {
            t.refresh(state.data.get(&t.kind), now);
        }
    }
    state.dirty = true;
}

/// A device needs a key's passphrase: ask once per (key, failed attempts), when no other
/// dialog is open. A wrong answer raises the failure count, so the question comes again.
fn ask_passphrase(state: &mut AppState, rows: &[crate::model::Resource]) {
    if !matches!(state.mode, Mode::Normal) {
        return;
    }
    for r in rows {
        let Some(path) = r.labels.get("passphrase_needed") else {
            continue;
        };
        let failures = r
            .labels
            .get("passphrase_failures")
            .cloned()
            .unwrap_or_default();
        if state.asked_passphrases.insert((path.clone(), failures)) {
            state.mode = Mode::Secret(SecretPrompt {
                key_path: path.clone(),
                input: Input::default(),
            });
            state.dirty = true;
            return;
        }
    }
}

/// `:run CMD`: on the selected device, or on every device the table shows when it is filtered
/// (`:devices prod` then `:run uptime` runs on the prod devices). Always confirmed.
fn request_run(state: &mut AppState, command: &str) {
    let command = command.trim();
    if command.is_empty() {
        state.toast(
            "usage: :run COMMAND (on the selected device, or all shown when filtered)",
            true,
        );
        return;
    }
    let View::Table(t) = state.top() else {
        state.toast(":run works from the device table (:devices)", true);
        return;
    };
    if t.kind != ResourceKind::Device {
        state.toast(":run works from the device table (:devices)", true);
        return;
    }
    let targets: Vec<(crate::model::ResourceKey, String)> = if t.filter.is_some() {
        t.rows
            .iter()
            .map(|r| (r.key.clone(), r.name.clone()))
            .collect()
    } else {
        t.selected_row()
            .map(|r| vec![(r.key.clone(), r.name.clone())])
            .unwrap_or_default()
    };
    if targets.is_empty() {
        state.toast("no device to run on", true);
        return;
    }
    if state.read_only {
        state.toast(format!("read-only mode: run `{command}` refused"), true);
        state.pending_refusals = targets
            .into_iter()
            .map(|(key, name)| (key, name, ResourceAction::Run(command.to_string())))
            .collect();
        return;
    }
    state.mode = Mode::ConfirmRun(RunConfirm {
        targets,
        command: command.to_string(),
    });
}

fn start_run(state: &mut AppState, c: RunConfirm, fx: &mut Vec<Effect>) {
    if state.read_only {
        state.toast(format!("read-only mode: run `{}` refused", c.command), true);
        for (key, name) in c.targets {
            fx.push(Effect::AuditRefused {
                key,
                name,
                action: ResourceAction::Run(c.command.clone()),
            });
        }
        return;
    }
    let mut view = TableView::new(ResourceKind::RunResult, None);
    view.refresh(
        state.data.get(&ResourceKind::RunResult),
        jiff::Timestamp::now(),
    );
    state.stack.push(View::Table(view));
    state.toast(
        format!("running `{}` on {} device(s)", c.command, c.targets.len()),
        false,
    );
    fx.push(Effect::RunCommand {
        targets: c.targets,
        command: c.command,
    });
}

/// Re-filter every open table of `kind` after its data changed.
fn refresh_tables(state: &mut AppState, kind: ResourceKind) {
    let now = jiff::Timestamp::now();
    let data = state.data.get(&kind);
    for v in state.stack.iter_mut() {
        if let View::Table(t) = v
            && t.kind == kind
        {
            t.refresh(data, now);
        }
    }
    state.dirty = true;
}

fn push_bounded(q: &mut std::collections::VecDeque<u64>, v: u64) {
    if q.len() == STATS_HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

fn log_view_mut(state: &mut AppState, stream: u64) -> Option<&mut LogView> {
    state.stack.iter_mut().find_map(|v| match v {
        View::Logs(l) if l.stream == stream => Some(l.as_mut()),
        _ => None,
    })
}

/// Stats stream only for the container selected in the table on screen.
fn reconcile_stats(state: &mut AppState, fx: &mut Vec<Effect>) {
    let wanted = match state.top() {
        View::Table(t) if t.kind.spec().has_stats => t.selected_row().map(|r| r.key.clone()),
        _ => None,
    };
    let current = state.stats.as_ref().map(|s| s.key.clone());
    if wanted != current {
        state.stats = wanted.clone().map(|key| StatsView {
            key,
            latest: None,
            cpu: Default::default(),
            mem: Default::default(),
        });
        fx.push(Effect::Stats(wanted));
    }
}

fn context_of(view: &View) -> KeyContext {
    match view {
        View::Table(_) => KeyContext::Table,
        View::Logs(_) => KeyContext::Logs,
        View::Describe(_) => KeyContext::Describe,
    }
}

fn on_key(state: &mut AppState, key: KeyEvent, fx: &mut Vec<Effect>) {
    // ctrl-c always quits, whatever the keymap says: an operator must never be trapped.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return;
    }
    let mode = std::mem::replace(&mut state.mode, Mode::Normal);
    state.mode = match mode {
        Mode::Normal => {
            let ctx = context_of(state.top());
            let actions = state.settings.keymap.lookup_all(ctx, &key);
            // A key bound to several actions runs the first that applies to this table's kind.
            let action = match state.top() {
                View::Table(t) => actions
                    .iter()
                    .find(|a| applies(t.kind, **a))
                    .or(actions.first())
                    .copied(),
                _ => actions.first().copied(),
            };
            if let Some(action) = action {
                on_action(state, action, fx);
            }
            return;
        }
        Mode::Pick(mut p) => match key.code {
            KeyCode::Esc => Mode::Normal,
            KeyCode::Up | KeyCode::Char('k') => {
                p.selected = p.selected.saturating_sub(1);
                Mode::Pick(p)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                p.selected = (p.selected + 1).min(p.options.len().saturating_sub(1));
                Mode::Pick(p)
            }
            KeyCode::Enter => {
                if let Some(opt) = p.options.get(p.selected) {
                    let mut key = p.key.clone();
                    key.id = format!("{}/{opt}", p.key.id);
                    fx.push(Effect::Shell(key));
                }
                Mode::Normal
            }
            KeyCode::Char(c) if c.is_ascii_digit() => {
                let i = (c as usize).wrapping_sub('1' as usize);
                if i < p.options.len() {
                    p.selected = i;
                }
                Mode::Pick(p)
            }
            _ => Mode::Pick(p),
        },
        Mode::Secret(mut p) => match edit(p.input, key) {
            Edited::Open(i) => {
                p.input = i;
                Mode::Secret(p)
            }
            Edited::Cancel => Mode::Normal,
            Edited::Submit(text) => {
                fx.push(Effect::ProvidePassphrase {
                    key_path: p.key_path.clone().into(),
                    passphrase: super::effect::Secret(text),
                });
                state.toast(format!("trying the passphrase for {}", p.key_path), false);
                Mode::Normal
            }
        },
        Mode::ConfirmQuit(work) => match (
            key.code,
            state.settings.keymap.lookup(KeyContext::Dialog, &key),
        ) {
            (KeyCode::Char('l'), _) | (_, Some(Action::Confirm)) => {
                state.quit = true;
                Mode::Normal
            }
            (KeyCode::Char('a'), _) => {
                fx.push(Effect::AbortAndQuit(
                    work.into_iter().map(|w| w.key).collect(),
                ));
                Mode::Normal
            }
            (_, Some(Action::Cancel | Action::Back | Action::Quit)) => Mode::Normal,
            _ => Mode::ConfirmQuit(work),
        },
        Mode::ConfirmRun(c) => match state.settings.keymap.lookup(KeyContext::Dialog, &key) {
            Some(Action::Confirm) => {
                start_run(state, c, fx);
                return;
            }
            Some(Action::Cancel | Action::Back) => Mode::Normal,
            _ => Mode::ConfirmRun(c),
        },
        Mode::Command(input) => on_command_key(state, input, key),
        Mode::Filter(input) => on_filter_key(state, input, key),
        Mode::Search(input) => on_search_key(state, input, key),
        Mode::SavePath(input) => match edit(input, key) {
            Edited::Open(i) => Mode::SavePath(i),
            Edited::Cancel => Mode::Normal,
            Edited::Submit(path) => {
                if !path.trim().is_empty() {
                    fx.push(Effect::SaveLogs(path.trim().into()));
                }
                Mode::Normal
            }
        },
        Mode::Confirm(mut c) => match c.typed.take() {
            // Typed confirmation: only the exact name followed by Enter runs the action.
            Some(input) => match edit(input, key) {
                Edited::Open(i) => {
                    c.typed = Some(i);
                    Mode::Confirm(c)
                }
                Edited::Cancel => Mode::Normal,
                Edited::Submit(text) if text == c.name => {
                    act(state, c.key, c.name, c.action, fx);
                    Mode::Normal
                }
                Edited::Submit(text) => {
                    state.toast(format!("`{text}` is not `{}`: nothing done", c.name), true);
                    Mode::Normal
                }
            },
            None => match state.settings.keymap.lookup(KeyContext::Dialog, &key) {
                Some(Action::Confirm) => {
                    act(state, c.key, c.name, c.action, fx);
                    Mode::Normal
                }
                Some(Action::Cancel | Action::Back) => Mode::Normal,
                _ => Mode::Confirm(c),
            },
        },
        Mode::Prompt(mut p) => match edit(p.input, key) {
            Edited::Open(i) => {
                p.input = i;
                p.error = None;
                Mode::Prompt(p)
            }
            Edited::Cancel => Mode::Normal,
            Edited::Submit(text) if matches!(p.purpose, PromptFor::Deployment(_)) => {
                let artifact = text.trim().to_string();
                if artifact.is_empty() {
                    p.error = Some("the name of an artifact on the server".into());
                    p.input = Input { text };
                    Mode::Prompt(p)
                } else {
                    let PromptFor::Deployment(devices) = p.purpose else {
                        unreachable!("matched above")
                    };
                    request_action(
                        state,
                        p.key,
                        p.name,
                        ResourceAction::CreateDeployment(artifact, devices),
                        fx,
                    );
                    std::mem::replace(&mut state.mode, Mode::Normal)
                }
            }
            Edited::Submit(text) if matches!(p.purpose, PromptFor::Update(_)) => {
                let PromptFor::Update(devices) = &p.purpose else {
                    unreachable!("matched above")
                };
                match parse_update_answer(&text, devices.clone()) {
                    Ok(req) => {
                        request_action(state, p.key, p.name, ResourceAction::StartUpdate(req), fx);
                        if let Mode::Confirm(c) = &mut state.mode {
                            c.detail = Some(UPDATE_DETAIL.into());
                        }
                        std::mem::replace(&mut state.mode, Mode::Normal)
                    }
                    Err(e) => {
                        p.error = Some(e);
                        p.input = Input { text };
                        Mode::Prompt(p)
                    }
                }
            }
            Edited::Submit(text) => match text.trim().parse::<u64>() {
                Ok(n) if n <= MAX_REPLICAS => {
                    request_action(state, p.key, p.name, ResourceAction::Scale(n), fx);
                    std::mem::replace(&mut state.mode, Mode::Normal)
                }
                _ => {
                    p.error = Some(format!("a whole number from 0 to {MAX_REPLICAS}"));
                    p.input = Input { text };
                    Mode::Prompt(p)
                }
            },
        },
        Mode::Help { scroll } => match state.settings.keymap.lookup(KeyContext::Help, &key) {
            Some(Action::Back | Action::Help | Action::Quit | Action::Cancel) => Mode::Normal,
            Some(Action::Down) => Mode::Help {
                scroll: scroll.saturating_add(1),
            },
            Some(Action::Up) => Mode::Help {
                scroll: scroll.saturating_sub(1),
            },
            Some(Action::PageDown) => Mode::Help {
                scroll: scroll.saturating_add(10),
            },
            Some(Action::PageUp) => Mode::Help {
                scroll: scroll.saturating_sub(10),
            },
            Some(Action::Top) => Mode::Help { scroll: 0 },
            _ => Mode::Help { scroll },
        },
    };
}

enum Edited {
    Open(Input),
    Cancel,
    Submit(String),
}

/// Line editing shared by every input: type, backspace, ctrl-u clears, Enter submits, Esc cancels.
fn edit(mut input: Input, key: KeyEvent) -> Edited {
    match key.code {
        KeyCode::Esc => return Edited::Cancel,
        KeyCode::Enter => return Edited::Submit(input.text),
        KeyCode::Backspace => {
            input.text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => input.text.clear(),
        KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            let trimmed = input.text.trim_end().len();
            let cut = input.text[..trimmed].rfind(' ').map(|i| i + 1).unwrap_or(0);
            input.text.truncate(cut);
        }
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            input.text.push(c)
        }
        _ => {}
    }
    Edited::Open(input)
}

/// Completions for the command bar: every alias starting with what was typed, canonical first.
pub fn completions(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.trim().to_ascii_lowercase();
    let mut out: Vec<&'static str> = ResourceKind::all()
        .map(|k| k.name())
        .chain(ResourceKind::all_aliases())
        .chain(COMMANDS.iter().copied())
        .filter(|a| a.starts_with(&prefix))
        .collect();
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(*a));
    out
}

/// Command-bar words that are not resource kinds.
const COMMANDS: &[&str] = &["quit", "help", "run"];

fn on_command_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    if key.code == KeyCode::Tab {
        let mut input = input;
        if let Some(first) = completions(&input.text).first() {
            input.text = first.to_string();
        }
        return Mode::Command(input);
    }
    match edit(input, key) {
        Edited::Open(i) => Mode::Command(i),
        Edited::Cancel => Mode::Normal,
        Edited::Submit(text) => {
            run_command(state, &text);
            // A command may open a dialog (help, :run's confirmation): keep it.
            std::mem::replace(&mut state.mode, Mode::Normal)
        }
    }
}

/// Quit, unless this console drives rollouts: then ask (leave them running, abort them, stay).
/// Quitting never loses an update — installs run detached on the devices and the next console
/// resumes the rollouts — but nothing moves on until one does, so the operator decides.
fn request_quit(state: &mut AppState) {
    let mut work: Vec<crate::model::Work> = state.work.values().flatten().cloned().collect();
    if work.is_empty() {
        state.quit = true;
    } else {
        work.sort_by(|a, b| a.key.id.cmp(&b.key.id));
        state.mode = Mode::ConfirmQuit(work);
    }
}

fn run_command(state: &mut AppState, text: &str) {
    let mut words = text.split_whitespace();
    let Some(word) = words.next() else { return };
    let arg = words.next();
    match word {
        "q" | "quit" => request_quit(state),
        "q!" | "quit!" => state.quit = true,
        "run" => {
            let rest = text.trim_start().strip_prefix("run").unwrap_or("");
            request_run(state, rest);
        }
        "help" | "?" => state.mode = Mode::Help { scroll: 0 },
        _ => match ResourceKind::from_alias(word) {
            Some(kind) => open_kind(state, kind, arg),
            None => state.toast(
                format!("unknown command `{word}` (Tab completes; try :containers)"),
                true,
            ),
        },
    }
}

/// Start a fresh navigation at `kind`'s table, like k9s; `filter` pre-fills the filter.
/// The runtime starts the watch of the new view (it follows the navigation stack).
fn open_kind(state: &mut AppState, kind: ResourceKind, filter: Option<&str>) {
    let mut view = TableView::new(kind, None);
    if let Some(arg) = filter
        && let Ok(Some(m)) = Matcher::parse(arg)
    {
        view.filter = Some((arg.to_string(), m));
    }
    view.refresh(state.data.get(&kind), jiff::Timestamp::now());
    state.stack = vec![View::Table(view)];
    state.dirty = true;
}

fn on_filter_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    let (mode, text) = match edit(input, key) {
        Edited::Open(i) => {
            let t = i.text.clone();
            (Mode::Filter(i), Some(t))
        }
        Edited::Cancel => (Mode::Normal, None),
        Edited::Submit(t) => (Mode::Normal, Some(t)),
    };
    let mut error = None;
    if let View::Table(t) = state.top_mut() {
        t.filter = match text.as_deref().map(Matcher::parse) {
            Some(Ok(Some(m))) => Some((text.clone().unwrap_or_default(), m)),
            Some(Err(e)) => {
                error = Some(e);
                t.filter.take()
            }
            _ => None,
        };
    }
    refresh_top(state);
    if let (Some(e), Mode::Normal) = (error, &mode) {
        state.toast(e, true);
    }
    mode
}

fn refresh_top(state: &mut AppState) {
    let now = jiff::Timestamp::now();
    let AppState { stack, data, .. } = state;
    if let Some(View::Table(t)) = stack.last_mut() {
        t.refresh(data.get(&t.kind), now);
    }
}

fn on_search_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    match edit(input, key) {
        Edited::Open(i) => Mode::Search(i),
        Edited::Cancel => Mode::Normal,
        Edited::Submit(text) => {
            let parsed = Matcher::parse(&text);
            match parsed {
                Err(e) => state.toast(e, true),
                Ok(m) => {
                    if let View::Logs(l) = state.top_mut() {
                        l.search = m.map(|m| (text, m));
                        l.current_match = None;
                        // Start from the newest line and go back, as in `less +G` then `?`.
                        jump_to_match(l, false);
                    }
                }
            }
            Mode::Normal
        }
    }
}

/// Move the current match to the next (forward) or previous match, wrapping around.
fn jump_to_match(l: &mut LogView, forward: bool) {
    let Some((_, m)) = &l.search else { return };
    let len = l.buffer.len();
    if len == 0 {
        return;
    }
    let start = l.current_match.unwrap_or(if forward { len - 1 } else { 0 });
    let found = (1..=len)
        .map(|step| {
            if forward {
                (start + step) % len
            } else {
                (start + len - step % len) % len
            }
        })
        .find(|&i| {
            l.buffer
                .get(i)
                .is_some_and(|line| m.is_match(&line.text.text))
        });
    if let Some(i) = found {
        l.current_match = Some(i);
        l.follow = false;
        // Centre the match in the last known page.
        let displayed = l.displayed();
        let pos = displayed.iter().position(|&d| d == i).unwrap_or(0);
        l.top = pos.saturating_sub(l.page / 2);
    }
}

fn on_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => request_quit(state),
        Action::Help => state.mode = Mode::Help { scroll: 0 },
        Action::Command => state.mode = Mode::Command(Input::default()),
        _ => {}
    }
    if matches!(action, Action::Quit | Action::Help | Action::Command) {
        return;
    }
    match state.top() {
        View::Table(_) => on_table_action(state, action, fx),
        View::Logs(_) => on_logs_action(state, action, fx),
        View::Describe(_) => on_describe_action(state, action),
    }
}

fn pop_view(state: &mut AppState, fx: &mut Vec<Effect>) {
    if state.stack.len() > 1 {
        if let Some(View::Logs(_)) = state.stack.pop() {
            fx.push(Effect::CloseLogs);
        }
        refresh_top(state);
    }
}

fn move_selection(t: &mut TableView, action: Action, page: usize) -> bool {
    let last = t.rows.len().saturating_sub(1);
    let target = match action {
        Action::Up => t.selected.saturating_sub(1),
        Action::Down => (t.selected + 1).min(last),
        Action::PageUp => t.selected.saturating_sub(page),
        Action::PageDown => (t.selected + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    t.select(target);
    true
}

fn on_table_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let read_only = state.read_only;
    let View::Table(t) = state.top_mut() else {
        return;
    };
    if move_selection(t, action, 10) {
        return;
    }
    let kind = t.kind;
    let spec = kind.spec();
    let selected = t.selected_row().cloned();
    match action {
        Action::Back => {
            if t.filter.take().is_some() {
                refresh_top(state);
            } else {
                pop_view(state, fx);
            }
        }
        Action::Filter => {
            let text = t
                .filter
                .as_ref()
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            state.mode = Mode::Filter(Input { text });
        }
        Action::SortNext | Action::SortPrev | Action::SortReverse => {
            let n = spec.columns.len();
            match action {
                Action::SortNext => t.sort.column = (t.sort.column + 1) % n,
                Action::SortPrev => t.sort.column = (t.sort.column + n - 1) % n,
                _ => t.sort.descending = !t.sort.descending,
            }
            let msg = format!(
                "sorted by {}{}",
                spec.columns[t.sort.column].name,
                if t.sort.descending { " ↓" } else { "" }
            );
            refresh_top(state);
            state.toast(msg, false);
        }
        Action::Enter => {
            let Some(row) = selected else { return };
            if let Some(child) = spec.drill {
                let mut view = TableView::new(child, Some(row.name.clone()));
                view.refresh(state.data.get(&child), jiff::Timestamp::now());
                state.stack.push(View::Table(view));
            } else if kind.offers(&ResourceAction::Switch) {
                // A context or namespace: it becomes the source's scope; the old rows go now,
                // the new scope's arrive with its watches.
                forget_source(state, &row.key.source);
                state.sources.insert(
                    row.key.source.clone(),
                    crate::model::SourceStatus::Connecting,
                );
                state.toast(
                    format!("{} {}", kind.name().trim_end_matches('s'), row.name),
                    false,
                );
                fx.push(Effect::Switch(row.key.clone()));
            } else if spec.has_logs {
                open_logs(state, &row, fx);
            } else {
                open_describe(state, &row, fx);
            }
        }
        Action::Logs => match selected {
            Some(row) if spec.has_logs => open_logs(state, &row, fx),
            Some(_) => state.toast(format!("{} have no logs", spec.title.to_lowercase()), true),
            None => {}
        },
        Action::Describe => {
            if let Some(row) = selected {
                open_describe(state, &row, fx);
            }
        }
        Action::Sandbox => {
            let Some(row) = selected else { return };
            if kind != ResourceKind::Device {
                state.toast("sandboxes are a device feature", true);
                return;
            }
            let options: Vec<String> = row
                .labels
                .get("sandboxes")
                .map(|s| s.split(',').map(String::from).collect())
                .unwrap_or_default();
            if options.is_empty() {
                state.toast(
                    format!("{} has no sandboxes in the fleet file", row.name),
                    true,
                );
            } else {
                state.mode = Mode::Pick(Picker {
                    key: row.key.clone(),
                    name: row.name.clone(),
                    title: format!("Sandbox on {}", row.name),
                    options,
                    selected: 0,
                });
            }
        }
        Action::Shell => match selected {
            Some(row) if spec.has_shell => fx.push(Effect::Shell(row.key.clone())),
            Some(_) => state.toast(format!("no shell for {}", spec.title.to_lowercase()), true),
            None => {}
        },
        Action::Scale => {
            let Some(row) = selected else { return };
            if !kind.offers(&ResourceAction::Scale(0)) {
                state.toast(
                    format!("scale is not available for {}", spec.title.to_lowercase()),
                    true,
                );
            } else if read_only {
                refuse(
                    state,
                    row.key.clone(),
                    row.name.clone(),
                    ResourceAction::Scale(0),
                    fx,
                );
            } else {
                // The REPLICAS (swarm) or READY (kubernetes) column reads "running/desired".
                let col = spec
                    .columns
                    .iter()
                    .position(|c| matches!(c.name, "REPLICAS" | "READY"))
                    .unwrap_or(2);
                let now = row.cells.get(col).cloned().unwrap_or_default();
                let current = now.split('/').nth(1).unwrap_or("").to_string();
                state.mode = Mode::Prompt(Prompt {
                    key: row.key.clone(),
                    name: row.name.clone(),
                    question: format!("Replicas for {} (now {now} running)", row.name),
                    input: Input { text: current },
                    error: None,
                    purpose: PromptFor::Scale,
                });
            }
        }
        Action::CreateDeployment => {
            let Some(row) = selected else { return };
            if kind != ResourceKind::MenderDevice {
                state.toast(
                    "deployments are created from Mender devices (:mdevices), updates over SSH from fleet devices (:devices)",
                    true,
                );
                return;
            }
            let (devices, name) = targets_of(t, &row);
            if read_only {
                refuse(
                    state,
                    row.key.clone(),
                    row.name.clone(),
                    ResourceAction::CreateDeployment(String::new(), devices),
                    fx,
                );
                return;
            }
            state.mode = Mode::Prompt(Prompt {
                key: row.key.clone(),
                question: format!("Artifact to deploy to {name}"),
                name,
                input: Input::default(),
                error: None,
                purpose: PromptFor::Deployment(devices),
            });
        }
        Action::Update => {
            let Some(row) = selected else { return };
            if !applies(kind, Action::Update) {
                state.toast("updates start from fleet devices (:devices)", true);
                return;
            }
            let (devices, name) = targets_of(t, &row);
            let parallel = default_parallel(devices.len());
            if read_only {
                refuse(
                    state,
                    row.key.clone(),
                    name,
                    ResourceAction::StartUpdate(UpdateRequest {
                        devices,
                        parallel,
                        ..UpdateRequest::EMPTY
                    }),
                    fx,
                );
                return;
            }
            state.mode = Mode::Prompt(Prompt {
                key: row.key.clone(),
                question: format!(
                    "Update {name} to (a URL the device downloads, or a local file)\n\
                     options: -p N parallel (default {parallel}), -f K or X% failures (default 1)"
                ),
                name,
                input: Input::default(),
                error: None,
                purpose: PromptFor::Update(devices),
            });
        }
        _ => {
            let Some(ra) = resource_action(action) else {
                return;
            };
            let Some(row) = selected else { return };
            if !kind.offers(&ra) {
                state.toast(
                    format!(
                        "{} is not available for {}",
                        ra.name(),
                        spec.title.to_lowercase()
                    ),
                    true,
                );
            } else if let ResourceAction::AcceptHostKey(_) = ra {
                accept_host_key(state, &row, fx);
            } else {
                request_action(state, row.key.clone(), row.name.clone(), ra, fx);
            }
        }
    }
}

/// `A` on a device: the dialog shows the fingerprint of the unknown key the last poll saw, and
/// the action carries it, so the backend trusts that key and no other (a key switched after
/// the poll is refused). Without an unknown key there is nothing to accept.
fn accept_host_key(state: &mut AppState, row: &crate::model::Resource, fx: &mut Vec<Effect>) {
    let fp = row
        .labels
        .get("fingerprint")
        .filter(|_| row.labels.get("host_key").map(String::as_str) == Some("unknown"));
    let Some(fp) = fp.cloned().or_else(|| state.read_only.then(String::new)) else {
        let why = match row.labels.get("host_key").map(String::as_str) {
            Some("changed") => "its host key CHANGED; fleetdeck never accepts a changed key",
            Some("revoked") => "its host key is REVOKED",
            _ => "no unknown host key is recorded for it (yet)",
        };
        state.toast(format!("{}: {why}", row.name), true);
        return;
    };
    let detail = format!("Presented key: {fp}");
    let ra = ResourceAction::AcceptHostKey(fp);
    request_action(state, row.key.clone(), row.name.clone(), ra, fx);
    if let Mode::Confirm(c) = &mut state.mode {
        c.detail = Some(detail);
    }
}

/// The devices a deployment or an update is for: every row the table shows of the selection's
/// source when it is filtered, else the selection; and how to name them ("gw-1", "3 devices").
fn targets_of(t: &TableView, row: &crate::model::Resource) -> (Vec<String>, String) {
    let devices: Vec<String> = if t.filter.is_some() {
        t.rows
            .iter()
            .filter(|r| r.key.source == row.key.source)
            .map(|r| r.key.id.clone())
            .collect()
    } else {
        vec![row.key.id.clone()]
    };
    let name = if devices.len() == 1 {
        row.name.clone()
    } else {
        format!("{} devices", devices.len())
    };
    (devices, name)
}

/// Does `action` do anything on a table of `kind`? Help and footer hints list only these.
pub fn applies(kind: ResourceKind, action: Action) -> bool {
    let spec = kind.spec();
    match action {
        Action::Logs => spec.has_logs,
        Action::Shell => spec.has_shell,
        Action::Scale => kind.offers(&ResourceAction::Scale(0)),
        Action::Sandbox => kind == ResourceKind::Device,
        Action::CreateDeployment => kind == ResourceKind::MenderDevice,
        Action::Update => kind.offers(&ResourceAction::StartUpdate(UpdateRequest::EMPTY)),
        a => match resource_action(a) {
            Some(ra) => kind.offers(&ra),
            None => true,
        },
    }
}

/// Upper bound of a scale dialog: a typo of 30000 instead of 3 should not reach the cluster.
const MAX_REPLICAS: u64 = 1000;

/// The backend action a key action stands for, when it is one.
fn resource_action(action: Action) -> Option<ResourceAction> {
    Some(match action {
        Action::Start => ResourceAction::Start,
        Action::Stop => ResourceAction::Stop,
        Action::Restart => ResourceAction::Restart,
        Action::Kill => ResourceAction::Kill,
        Action::Remove => ResourceAction::Remove,
        Action::Redeploy => ResourceAction::Redeploy,
        Action::Rollback => ResourceAction::Rollback,
        Action::Drain => ResourceAction::Drain,
        Action::PauseNode => ResourceAction::Pause,
        Action::Activate => ResourceAction::Activate,
        // The fingerprint comes from the row ([`accept_host_key`]).
        Action::AcceptHostKey => ResourceAction::AcceptHostKey(String::new()),
        Action::AbortDeployment => ResourceAction::AbortDeployment,
        Action::Commit => ResourceAction::Commit,
        Action::ClearFailed => ResourceAction::ClearFailed,
        Action::Reboot => ResourceAction::Reboot,
        _ => return None,
    })
}

/// The update confirmation's warning.
const UPDATE_DETAIL: &str =
    "Devices reboot when their updater asks; their SSH sessions drop and come back.";

/// Most devices updated at once by default: a group update starts with a handful.
const DEFAULT_PARALLEL: usize = 5;

fn default_parallel(devices: usize) -> usize {
    devices.clamp(1, DEFAULT_PARALLEL)
}

/// The update prompt's answer: `ARTIFACT [-p N|--parallel N] [-f K|-f X%|--max-failures ...]`
/// (`--opt=value` works too). The artifact is kept as typed (`~/a.mender` is expanded by the
/// engine).
fn parse_update_answer(text: &str, devices: Vec<String>) -> Result<UpdateRequest, String> {
    let mut words = text.split_whitespace();
    let artifact = match words.next() {
        None => return Err("an artifact: a URL or a local file, then any options".into()),
        Some(w) if w.starts_with('-') => {
            return Err(format!(
                "the artifact (a URL or a local file) comes first, not `{w}`"
            ));
        }
        Some(w) => w.to_string(),
    };
    let mut parallel = default_parallel(devices.len());
    let mut max_failures = FailureLimit::Count(1);
    while let Some(word) = words.next() {
        let (opt, inline) = match word.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (word, None),
        };
        let mut value = |what: &str| {
            inline
                .map(str::to_string)
                .or_else(|| words.next().map(str::to_string))
                .ok_or_else(|| format!("{opt} needs {what}"))
        };
        match opt {
            "-p" | "--parallel" => {
                let v = value("a number of devices (1 to 100)")?;
                parallel = UpdateRequest::parse_parallel(&v).map_err(|e| format!("{opt}: {e}"))?;
            }
            "-f" | "--max-failures" => {
                let v = value("a count (1, 2 ...) or a percentage (10%)")?;
                max_failures = FailureLimit::parse(&v).map_err(|e| format!("{opt}: {e}"))?;
            }
            other if other.starts_with('-') => {
                return Err(format!(
                    "unknown option `{other}`: -p N (parallel), -f K or X% (failures)"
                ));
            }
            other => {
                return Err(format!(
                    "one artifact only (`{other}` is extra); options are -p N and -f K or X%"
                ));
            }
        }
    }
    Ok(UpdateRequest {
        artifact,
        devices,
        parallel,
        max_failures,
    })
}

/// Read-only mode: say so and audit the refused attempt.
fn refuse(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    ra: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    state.toast(
        format!("read-only mode: {} {name} refused", ra.name()),
        true,
    );
    fx.push(Effect::AuditRefused {
        key,
        name,
        action: ra,
    });
}

/// Run `ra` on the object, through read-only refusal and its confirmation first.
fn request_action(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    ra: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    let confirm = state.settings.config.confirm_destructive;
    if state.read_only && ra.is_mutating() {
        refuse(state, key, name, ra, fx);
        return;
    }
    match ra.confirmation(key.kind) {
        // Typing the name is never skipped: it guards whole stacks.
        Confirmation::TypeName => {
            state.mode = Mode::Confirm(Confirm {
                key,
                name,
                action: ra,
                typed: Some(Input::default()),
                detail: None,
            })
        }
        Confirmation::YesNo if confirm => {
            state.mode = Mode::Confirm(Confirm {
                key,
                name,
                action: ra,
                typed: None,
                detail: None,
            })
        }
        _ => act(state, key, name, ra, fx),
    }
}

/// Emit the action. An update just started also opens the `:updates` view, so its progress
/// shows at once (the runtime starts the view's watch: it follows the navigation stack).
fn act(
    state: &mut AppState,
    key: crate::model::ResourceKey,
    name: String,
    action: ResourceAction,
    fx: &mut Vec<Effect>,
) {
    let started_update = matches!(action, ResourceAction::StartUpdate(_));
    fx.push(Effect::Act { key, name, action });
    if started_update {
        open_kind(state, ResourceKind::DeviceUpdate, None);
    }
}

fn open_describe(state: &mut AppState, row: &crate::model::Resource, fx: &mut Vec<Effect>) {
    if row.key.kind == ResourceKind::RunResult {
        // Results live only in the console: describe them from the row itself.
        let doc = serde_json::json!({
            "device": row.name,
            "source": row.key.source.as_str(),
            "command": row.labels.get("command"),
            "state": row.cells.get(1),
            "exit": row.cells.get(2),
            "seconds": row.cells.get(3),
            "output": row.labels.get("output"),
        });
        state.stack.push(View::Describe(DescribeView {
            title: format!("{} result", row.name),
            key: row.key.clone(),
            text: Some(serde_saphyr::to_string(&doc).map_err(|e| e.to_string())),
            scroll: 0,
        }));
        return;
    }
    state.stack.push(View::Describe(DescribeView {
        title: row.name.clone(),
        key: row.key.clone(),
        text: None,
        scroll: 0,
    }));
    fx.push(Effect::Describe(row.key.clone()));
}

fn open_logs(state: &mut AppState, row: &crate::model::Resource, fx: &mut Vec<Effect>) {
    let cfg = &state.settings.config.logs;
    let opts = LogOpts {
        follow: true,
        tail: Some(cfg.tail),
        since_secs: None,
        previous: false,
    };
    let stream = state.next_stream;
    state.next_stream += 1;
    let mut view = LogView::new(
        row.name.clone(),
        row.key.clone(),
        stream,
        opts.clone(),
        cfg.buffer_lines,
    );
    view.timestamps = cfg.timestamps;
    view.wrap = cfg.wrap;
    state.stack.push(View::Logs(Box::new(view)));
    fx.push(Effect::OpenLogs {
        stream,
        target: row.key.clone(),
        opts,
    });
}

fn on_logs_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let next_stream = state.next_stream;
    let default_tail = state.settings.config.logs.tail;
    let View::Logs(l) = state.top_mut() else {
        return;
    };
    let shown = l.displayed().len();
    let page = l.page.max(1);
    let max_top = shown.saturating_sub(page);
    match action {
        Action::Back => {
            if l.search.take().is_some() {
                l.current_match = None;
                l.matches_only = false;
            } else {
                pop_view(state, fx);
            }
        }
        Action::Up | Action::PageUp => {
            let by = if action == Action::Up { 1 } else { page };
            let from = if l.follow { max_top } else { l.top };
            l.top = from.saturating_sub(by);
            l.follow = false;
        }
        Action::Down | Action::PageDown => {
            let by = if action == Action::Down { 1 } else { page };
            l.top = (l.top + by).min(max_top);
            l.follow = l.top >= max_top;
        }
        Action::Top => {
            l.top = 0;
            l.follow = false;
        }
        Action::Bottom => l.follow = true,
        Action::Left => l.hscroll = l.hscroll.saturating_sub(8),
        Action::Right if !l.wrap => l.hscroll = l.hscroll.saturating_add(8),
        Action::ToggleFollow => {
            l.follow = !l.follow;
            if !l.follow {
                l.top = max_top;
            }
        }
        Action::ToggleTimestamps => l.timestamps = !l.timestamps,
        Action::ToggleWrap => {
            l.wrap = !l.wrap;
            l.hscroll = 0;
        }
        Action::TogglePause => {
            l.paused = !l.paused;
            if !l.paused {
                let held = std::mem::take(&mut l.held);
                l.buffer.push_batch(held);
            }
        }
        Action::Search => {
            let text = l
                .search
                .as_ref()
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            state.mode = Mode::Search(Input { text });
        }
        Action::SearchNext => jump_to_match(l, true),
        Action::SearchPrev => jump_to_match(l, false),
        Action::ToggleMatchesOnly => {
            if l.search.is_some() {
                l.matches_only = !l.matches_only;
                l.follow = true;
            } else {
                state.toast("search first (/) to show only matching lines", true);
            }
        }
        Action::Save => {
            let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string();
            let safe: String = l
                .title
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            state.mode = Mode::SavePath(Input {
                text: format!("fleetdeck-{safe}-{stamp}.log"),
            });
        }
        Action::TogglePrevious => {
            l.opts.previous = !l.opts.previous;
            let label = if l.opts.previous {
                "previous container"
            } else {
                "current container"
            };
            reopen_logs(l, next_stream, fx);
            state.next_stream += 1;
            state.toast(format!("logs: {label}"), false);
        }
        Action::SinceCycle => {
            l.since_step = (l.since_step + 1) % SINCE_STEPS.len();
            let (since, label) = SINCE_STEPS[l.since_step];
            l.opts = match since {
                None => LogOpts {
                    since_secs: None,
                    tail: Some(default_tail),
                    ..l.opts.clone()
                },
                Some(0) => LogOpts {
                    since_secs: None,
                    tail: None,
                    ..l.opts.clone()
                },
                Some(s) => LogOpts {
                    since_secs: Some(s),
                    tail: None,
                    ..l.opts.clone()
                },
            };
            reopen_logs(l, next_stream, fx);
            state.next_stream += 1;
            state.toast(format!("history: {label}"), false);
        }
        _ => {}
    }
}

/// Restart the stream under a new id (so late lines of the old one are ignored) with `l.opts`.
fn reopen_logs(l: &mut LogView, stream: crate::backend::StreamId, fx: &mut Vec<Effect>) {
    l.stream = stream;
    l.buffer.clear();
    l.held.clear();
    l.ended = None;
    l.current_match = None;
    l.follow = true;
    fx.push(Effect::OpenLogs {
        stream,
        target: l.target.clone(),
        opts: l.opts.clone(),
    });
}

fn on_describe_action(state: &mut AppState, action: Action) {
    let View::Describe(d) = state.top_mut() else {
        return;
    };
    match action {
        Action::Back => {
            state.stack.pop();
            refresh_top(state);
        }
        Action::Up => d.scroll = d.scroll.saturating_sub(1),
        Action::Down => d.scroll = d.scroll.saturating_add(1),
        Action::PageUp => d.scroll = d.scroll.saturating_sub(20),
        Action::PageDown => d.scroll = d.scroll.saturating_add(20),
        Action::Top => d.scroll = 0,
        Action::Bottom => {
            let lines = d
                .text
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|t| t.lines().count())
                .unwrap_or(0);
            d.scroll = lines.saturating_sub(10).min(u16::MAX as usize) as u16;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devs(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("gw-{i}")).collect()
    }

    #[test]
    fn update_answers_parse_with_defaults_and_options() {
        let r = parse_update_answer("  https://x/a.mender ", devs(1)).unwrap();
        assert_eq!(
            (r.artifact.as_str(), r.parallel, r.max_failures),
            ("https://x/a.mender", 1, FailureLimit::Count(1))
        );
        assert_eq!(parse_update_answer("a", devs(12)).unwrap().parallel, 5);
        let r = parse_update_answer("~/a.mender -p 3 -f 10%", devs(12)).unwrap();
        assert_eq!(
            (r.artifact.as_str(), r.parallel, r.max_failures),
            ("~/a.mender", 3, FailureLimit::Percent(10))
        );
        assert_eq!(r.devices, devs(12));
        let r = parse_update_answer("a --max-failures=2 --parallel 100", devs(2)).unwrap();
        assert_eq!((r.parallel, r.max_failures), (100, FailureLimit::Count(2)));
    }

    #[test]
    fn bad_update_answers_say_why() {
        for (answer, wanted) in [
            ("", "an artifact"),
            ("-p 2 a.mender", "comes first"),
            ("a -p", "-p needs"),
            ("a -p 0", "from 1 to 100"),
            ("a -p 101", "from 1 to 100"),
            ("a -p x", "from 1 to 100"),
            ("a -f 0", "-f: expected a count"),
            ("a -f 200%", "-f: expected a count"),
            ("a -x 1", "unknown option `-x`"),
            ("a b", "one artifact only"),
        ] {
            let e = parse_update_answer(answer, devs(3)).unwrap_err();
            assert!(e.contains(wanted), "{answer}: {e}");
        }
    }
}
