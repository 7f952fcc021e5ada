//! `U` on fleet devices: ask the artifact (and `-p`/`-f` options), then update the selection
//! (or every device shown when the table is filtered) over SSH as a rollout, confirmed.

use super::{RowAction, Selection};
use crate::app::effect::Effect;
use crate::app::state::{AppState, Input, Mode, Prompt, PromptFor};
use crate::app::update::request::refuse;
use crate::model::{Capability, FailureLimit, KindSpec, ResourceAction, UpdateRequest};

pub(in crate::app::update) struct Update;

impl RowAction for Update {
    fn needs(&self) -> Capability {
        Capability::Act(ResourceAction::StartUpdate(UpdateRequest::EMPTY))
    }

    fn unavailable(&self, _spec: &KindSpec) -> String {
        "updates start from fleet devices (:devices)".into()
    }

    fn start(&self, state: &mut AppState, on: &Selection, fx: &mut Vec<Effect>) {
        let (devices, name) = on.targets();
        let parallel = default_parallel(devices.len());
        let key = on.row.key.clone();
        if state.read_only {
            let ra = ResourceAction::StartUpdate(UpdateRequest {
                devices,
                parallel,
                ..UpdateRequest::EMPTY
            });
            refuse(state, key, name, ra, fx);
            return;
        }
        state.mode = Mode::Prompt(Prompt {
            key,
            question: format!(
                "Update {name} to (a URL the device downloads, or a local file)\n\
                 options: -p N parallel (default {parallel}), -f K or X% failures (default 1),\n\
                 -H hold each device before its commit (a canary: c commits it)"
            ),
            name,
            input: Input::default(),
            error: None,
            purpose: PromptFor::Update(devices),
        });
    }
}

/// The answer: [`parse_update_answer`]; the confirmation warns of the reboots.
pub(super) fn answer(
    text: &str,
    devices: &[String],
) -> Result<(ResourceAction, Option<String>), String> {
    let req = parse_update_answer(text, devices.to_vec())?;
    Ok((ResourceAction::StartUpdate(req), Some(UPDATE_DETAIL.into())))
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
    let mut hold_before_commit = false;
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
            "-H" | "--hold" | "--hold-before-commit" => hold_before_commit = true,
            other if other.starts_with('-') => {
                return Err(format!(
                    "unknown option `{other}`: -p N (parallel), -f K or X% (failures), -H (hold \
                     before commit)"
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
        hold_before_commit,
        skip: Vec::new(),
    })
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
