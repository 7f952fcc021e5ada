//! `S` on services, deployments and statefulsets: ask the replica count, then scale (confirmed
//! when it is 0).

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::{AppState, Input, Mode, Prompt, PromptFor};
use crate::app::update::request::refuse;
use crate::model::{Capability, ResourceAction};

/// Upper bound of a scale dialog: a typo of 30000 instead of 3 should not reach the cluster.
pub(in crate::app::update) const MAX_REPLICAS: u64 = 1000;

pub(in crate::app::update) struct Scale;

impl RowAction for Scale {
    fn needs(&self) -> Capability {
        Capability::Act(ResourceAction::Scale(0))
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        let row = &on.row;
        if state.read_only {
            // Refused before asking: a count typed for nothing would only annoy.
            refuse(
                state,
                row.key.clone(),
                row.name.clone(),
                ResourceAction::Scale(0),
                fx,
            );
            return;
        }
        // Pre-filled with the desired count: the usual change is a step from there.
        let (question, current) = match row.facts.replicas {
            Some(r) => (
                format!(
                    "Replicas for {} (now {}/{} running)",
                    row.name, r.running, r.desired
                ),
                r.desired.to_string(),
            ),
            None => (format!("Replicas for {}", row.name), String::new()),
        };
        state.mode = Mode::Prompt(Prompt {
            key: row.key.clone(),
            name: row.name.clone(),
            question,
            input: Input { text: current },
            error: None,
            purpose: PromptFor::Scale,
        });
    }
}

/// The answer: a whole number up to [`MAX_REPLICAS`].
pub(super) fn answer(text: &str) -> Result<(ResourceAction, Option<String>), String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n <= MAX_REPLICAS => Ok((ResourceAction::Scale(n), None)),
        _ => Err(format!("a whole number from 0 to {MAX_REPLICAS}")),
    }
}
