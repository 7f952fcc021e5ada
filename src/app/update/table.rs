//! Keys on a table: movement, filter, sort, drill-down, logs/describe/shell and the row actions.

use crossterm::event::KeyEvent;

use super::actions::accept_host_key::accept_host_key;
use super::actions::update::default_parallel;
use super::actions::{applies, resource_action};
use super::describe::open_describe;
use super::input::{Edited, edit};
use super::logs::open_logs;
use super::nav::{forget_source, pop_view, refresh_top};
use super::request::{refuse, request_action};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::logs::Matcher;
use crate::model::{ResourceAction, ResourceKind, UpdateRequest};

pub(super) fn on_filter_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
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

pub(super) fn move_selection(t: &mut TableView, action: Action, page: usize) -> bool {
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

pub(super) fn on_table_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
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

/// The devices a deployment or an update is for: every row the table shows of the selection's
/// source when it is filtered, else the selection; and how to name them ("gw-1", "3 devices").
pub(super) fn targets_of(t: &TableView, row: &crate::model::Resource) -> (Vec<String>, String) {
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
