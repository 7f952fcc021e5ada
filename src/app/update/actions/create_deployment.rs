//! `U` on Mender devices: ask the artifact's name, then create a deployment to the selection
//! (or every device shown when the table is filtered), confirmed.

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::{AppState, Input, Mode, Prompt, PromptFor};
use crate::app::update::request::refuse;
use crate::model::{Capability, KindSpec, ResourceAction};

pub(in crate::app::update) struct CreateDeployment;

impl RowAction for CreateDeployment {
    fn needs(&self) -> Capability {
        Capability::Act(ResourceAction::CreateDeployment(String::new(), Vec::new()))
    }

    // `U` is also the update key: say where each of the two lives.
    fn unavailable(&self, _spec: &KindSpec) -> String {
        "deployments are created from Mender devices (:mdevices), updates over SSH from fleet devices (:devices)".into()
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        let row = &on.row;
        let (devices, name) = on.targets();
        if state.read_only {
            let ra = ResourceAction::CreateDeployment(String::new(), devices);
            refuse(state, row.key.clone(), row.name.clone(), ra, fx);
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
}

/// The answer: the name of an artifact on the server.
pub(super) fn answer(
    text: &str,
    devices: &[String],
) -> Result<(ResourceAction, Option<String>), String> {
    let artifact = text.trim();
    if artifact.is_empty() {
        return Err("the name of an artifact on the server".into());
    }
    let ra = ResourceAction::CreateDeployment(artifact.to_string(), devices.to_vec());
    Ok((ra, None))
}
