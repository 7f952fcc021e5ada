//! Keys while a dialog is open: confirmations (y/n or the name typed), prompts for an action's
//! argument, the sandbox picker, the passphrase, `:run`'s and quitting's confirmations, the
//! save path and help. Each takes the dialog out of the state and returns the mode that
//! follows: itself (still open), `Normal`, or the dialog its answer opened.

use crossterm::event::{KeyCode, KeyEvent};

use super::actions;
use super::actions::{passphrase, sandbox};
use super::input::{Edited, edit};
use super::request::{act, request_action};
use super::run::start_run;
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{AppState, Confirm, Input, Mode, Picker, Prompt, RunConfirm, SecretPrompt};
use crate::config::KeyContext;
use crate::model::Work;

/// A y/n confirmation, or a typed one: only the exact name followed by Enter runs the action.
pub(super) fn confirm(
    state: &mut AppState,
    mut c: Confirm,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> Mode {
    match c.typed.take() {
        Some(input) => match edit(input, key) {
            Edited::Open(i) => {
                c.typed = Some(i);
                Mode::Confirm(c)
            }
            Edited::Cancel => Mode::Normal,
            Edited::Submit(text) if text == c.name => {
                act_on_all(state, c, fx);
                Mode::Normal
            }
            Edited::Submit(text) => {
                state.toast(format!("`{text}` is not `{}`: nothing done", c.name), true);
                Mode::Normal
            }
        },
        None => match state.settings.keymap.lookup(KeyContext::Dialog, &key) {
            Some(Action::Confirm) => {
                act_on_all(state, c, fx);
                Mode::Normal
            }
            Some(Action::Cancel | Action::Back) => Mode::Normal,
            _ => Mode::Confirm(c),
        },
    }
}

/// The confirmed action on its object, then on the others it was asked for.
fn act_on_all(state: &mut AppState, c: Confirm, fx: &mut Vec<Effect>) {
    for (key, name) in c.also {
        act(state, key, name, c.action.clone(), fx);
    }
    act(state, c.key, c.name, c.action, fx);
}

/// An action's argument: the unit that opened the prompt reads the answer ([`actions::answer`]);
/// a bad one keeps the prompt open with why.
pub(super) fn prompt(
    state: &mut AppState,
    mut p: Prompt,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> Mode {
    match edit(p.input, key) {
        Edited::Open(i) => {
            p.input = i;
            p.error = None;
            Mode::Prompt(p)
        }
        Edited::Cancel => Mode::Normal,
        Edited::Submit(text) => match actions::answer(&p.purpose, &text)
            .and_then(|(ra, detail)| actions::preflight::check(state, &p.key, ra, detail))
        {
            Ok((ra, detail)) => {
                request_action(state, p.key, p.name, ra, detail, fx);
                // Keep the confirmation the action asked for.
                std::mem::replace(&mut state.mode, Mode::Normal)
            }
            Err(e) => {
                p.error = Some(e);
                p.input = Input { text };
                Mode::Prompt(p)
            }
        },
    }
}

/// A list to choose from (a device's sandboxes): arrows or j/k, a digit, Enter, Esc.
pub(super) fn pick(mut p: Picker, key: KeyEvent, fx: &mut Vec<Effect>) -> Mode {
    match key.code {
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
            sandbox::picked(&p, fx);
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
    }
}

/// A key's passphrase, typed masked.
pub(super) fn secret(
    state: &mut AppState,
    mut p: SecretPrompt,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> Mode {
    match edit(std::mem::take(&mut p.input), key) {
        Edited::Open(i) => {
            p.input = i;
            Mode::Secret(p)
        }
        Edited::Cancel => Mode::Normal,
        Edited::Submit(text) => {
            passphrase::answered(state, p, text, fx);
            Mode::Normal
        }
    }
}

/// Quitting while this console drives rollouts: `l` leaves them running, `a` aborts them.
pub(super) fn confirm_quit(
    state: &mut AppState,
    work: Vec<Work>,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> Mode {
    match (
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
    }
}

/// `:run CMD`'s confirmation.
pub(super) fn confirm_run(
    state: &mut AppState,
    c: RunConfirm,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> Mode {
    match state.settings.keymap.lookup(KeyContext::Dialog, &key) {
        Some(Action::Confirm) => {
            start_run(state, c, fx);
            Mode::Normal
        }
        Some(Action::Cancel | Action::Back) => Mode::Normal,
        _ => Mode::ConfirmRun(c),
    }
}

/// The file the log buffer is saved to.
pub(super) fn save_path(input: Input, key: KeyEvent, fx: &mut Vec<Effect>) -> Mode {
    match edit(input, key) {
        Edited::Open(i) => Mode::SavePath(i),
        Edited::Cancel => Mode::Normal,
        Edited::Submit(path) => {
            if !path.trim().is_empty() {
                fx.push(Effect::SaveLogs(path.trim().into()));
            }
            Mode::Normal
        }
    }
}

/// The help screen: scroll it, or close it.
pub(super) fn help(state: &AppState, scroll: u16, key: KeyEvent) -> Mode {
    match state.settings.keymap.lookup(KeyContext::Help, &key) {
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
        // The draw clamps it to the last page.
        Some(Action::Bottom) => Mode::Help { scroll: u16::MAX },
        _ => Mode::Help { scroll },
    }
}
