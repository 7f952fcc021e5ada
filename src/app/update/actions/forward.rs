//! `F` on a container, pod or device: ask which port (the ports the object exposes are
//! listed, the first pre-filled) and which local one, then open the forward (audited; the
//! runtime owns it, `:forwards` lists it). Not refused in read-only mode: it changes nothing
//! on the object (`ResourceAction::is_mutating`).

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::{AppState, Input, Mode, Prompt, PromptFor};
use crate::model::{Capability, ResourceAction};

pub(in crate::app::update) struct PortForward;

impl RowAction for PortForward {
    fn needs(&self) -> Capability {
        Capability::Act(ResourceAction::Forward {
            remote: 0,
            local: 0,
        })
    }

    fn start(&self, state: &mut AppState, on: &Selection, _fx: &mut Vec<Effect>) {
        let row = &on.row;
        let ports = &row.facts.ports;
        let listed = match ports.len() {
            0 => String::new(),
            _ => format!(
                " (exposes {})",
                ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        state.mode = Mode::Prompt(Prompt {
            key: row.key.clone(),
            name: row.name.clone(),
            question: format!(
                "Forward to {}{listed}: PORT, or LOCAL:PORT (127.0.0.1)",
                row.name
            ),
            input: Input {
                text: ports.first().map(u16::to_string).unwrap_or_default(),
            },
            error: None,
            purpose: PromptFor::Forward,
        });
    }
}

/// The answer: `PORT` (an ephemeral local port), `LOCAL:PORT` or `:PORT`.
pub(super) fn answer(text: &str) -> Result<(ResourceAction, Option<String>), String> {
    let (local, remote) = crate::backend::forward::parse_ports(text)?;
    Ok((ResourceAction::Forward { remote, local }, None))
}
