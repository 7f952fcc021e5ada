//! The `:` command bar: completion, kind names, `:q`, `:help`, `:run`.

use crossterm::event::{KeyCode, KeyEvent};

use super::input::{Edited, edit};
use super::nav::open_kind;
use super::run::request_run;
use crate::app::state::*;
use crate::model::ResourceKind;

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
pub(super) const COMMANDS: &[&str] = &["quit", "help", "run"];

/// What Tab cycles through for `prefix`: its completions, or with nothing typed the kinds'
/// names and the commands (the aliases would only repeat them).
pub fn cycle_list(prefix: &str) -> Vec<&'static str> {
    if prefix.trim().is_empty() {
        ResourceKind::all()
            .map(|k| k.name())
            .chain(COMMANDS.iter().copied())
            .collect()
    } else {
        completions(prefix)
    }
}

pub(super) fn on_command_key(state: &mut AppState, input: Input, key: KeyEvent) -> Mode {
    // Tab / shift-Tab cycle the completions of what was typed before the first Tab.
    if matches!(key.code, KeyCode::Tab | KeyCode::BackTab) {
        let mut input = input;
        let (prefix, at) = match state.completing.take() {
            Some((prefix, at)) => (prefix, Some(at)),
            None => (input.text.clone(), None),
        };
        let list = cycle_list(&prefix);
        if list.is_empty() {
            return Mode::Command(input);
        }
        let n = list.len();
        let next = match (key.code, at) {
            (KeyCode::Tab, None) => 0,
            (KeyCode::Tab, Some(i)) => (i + 1) % n,
            (_, None) => n - 1,
            (_, Some(i)) => (i + n - 1) % n,
        };
        input.text = list[next].to_string();
        state.completing = Some((prefix, next));
        return Mode::Command(input);
    }
    state.completing = None;
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
pub(super) fn request_quit(state: &mut AppState) {
    let mut work: Vec<crate::model::Work> = state.work.values().flatten().cloned().collect();
    if work.is_empty() {
        state.quit = true;
    } else {
        work.sort_by(|a, b| a.key.id.cmp(&b.key.id));
        state.mode = Mode::ConfirmQuit(work);
    }
}

pub(super) fn run_command(state: &mut AppState, text: &str) {
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
