//! `l` and `s`: the selection's logs, a shell in it.

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::AppState;
use crate::app::update::logs::open_logs;
use crate::model::{Capability, KindSpec};

pub(in crate::app::update) struct Logs;

impl RowAction for Logs {
    fn needs(&self) -> Capability {
        Capability::Logs
    }

    fn unavailable(&self, spec: &KindSpec) -> String {
        format!("{} have no logs", spec.title.to_lowercase())
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        open_logs(state, &on.row, fx);
    }
}

pub(in crate::app::update) struct Shell;

impl RowAction for Shell {
    fn needs(&self) -> Capability {
        Capability::Shell
    }

    fn unavailable(&self, spec: &KindSpec) -> String {
        format!("no shell for {}", spec.title.to_lowercase())
    }

    // The runtime hands the terminal over; the session's end comes back as `ShellDone`.
    fn start(&self, _state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        fx.push(Effect::Shell(on.row.key.clone()));
    }
}
