//! Key presses: ctrl-c, then the open dialog or input line, else the keymap's action.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::actions::update::{UPDATE_DETAIL, parse_update_answer};
use super::actions::{MAX_REPLICAS, applies};
use super::command_bar::on_command_key;
use super::input::{Edited, edit};
use super::logs::on_search_key;
use super::on_action;
use super::request::{act, request_action};
use super::run::start_run;
use super::table::on_filter_key;
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::config::KeyContext;
use crate::model::ResourceAction;

pub(super) fn context_of(view: &View) -> KeyContext {
    match view {
        View::Table(_) => KeyContext::Table,
        View::Logs(_) => KeyContext::Logs,
        View::Describe(_) => KeyContext::Describe,
    }
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, fx: &mut Vec<Effect>) {
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
                    passphrase: crate::app::effect::Secret(text),
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
