//! `S` on a device: pick one of its sandboxes (from the fleet file), then open a shell in it.

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::{AppState, Mode, Picker};
use crate::model::{Capability, KindSpec};

pub(in crate::app::update) struct Sandbox;

impl RowAction for Sandbox {
    fn needs(&self) -> Capability {
        Capability::Sandboxes
    }

    fn unavailable(&self, _spec: &KindSpec) -> String {
        "sandboxes are a device feature".into()
    }

    fn start(&self, state: &mut AppState, on: &Selection, _fx: &mut Vec<Effect>) {
        let row = &on.row;
        let options = row.facts.sandboxes.clone();
        if options.is_empty() {
            state.toast(
                format!("{} has no sandboxes in the fleet file", row.name),
                true,
            );
            return;
        }
        state.mode = Mode::Pick(Picker {
            key: row.key.clone(),
            name: row.name.clone(),
            title: format!("Sandbox on {}", row.name),
            options,
            selected: 0,
        });
    }
}

/// The answer: a shell on `DEVICE/SANDBOX` (the fleet backend resolves the sandbox).
pub(in crate::app::update) fn picked(p: &Picker, fx: &mut Vec<Effect>) {
    if let Some(opt) = p.options.get(p.selected) {
        let mut key = p.key.clone();
        key.id = format!("{}/{opt}", p.key.id);
        fx.push(Effect::Shell(key));
    }
}
