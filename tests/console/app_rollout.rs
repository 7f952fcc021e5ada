//! The reducer with updates over SSH (#6): `U` on devices (prompt, options, confirmation, the
//! exact `StartUpdate` request, the `:updates` view opening), read-only refusal, commit /
//! clear-failed / rollback on devices and device updates, pause / resume / abort on rollouts,
//! drill-down and help truth.

use fleetdeck::app::state::{Mode, PromptFor, View};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    FailureLimit, Health, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId,
    UpdateRequest,
};

use crate::support::console::*;

fn src() -> SourceId {
    SourceId::new("fleet:site-a")
}

fn row(kind: ResourceKind, id: &str, parent: Option<&str>, health: Health) -> Resource {
    let mut cells = vec![String::new(); kind.spec().columns.len()];
    cells[0] = id.into();
    Resource {
        key: ResourceKey {
            source: src(),
            kind,
            id: id.into(),
        },
        name: id.into(),
        parent: parent.map(String::from),
        health,
        cells,
        created: None,
        labels: Default::default(),
        facts: Default::default(),
    }
}

fn device(name: &str, tag: &str) -> Resource {
    let mut r = row(ResourceKind::Device, name, None, Health::Ok);
    r.cells[1] = "up".into();
    r.cells[11] = tag.into();
    r.labels.insert("tags".into(), tag.into());
    r
}

fn on_devices(read_only: bool, filter: &str) -> AppState {
    let mut st = state(read_only);
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Device,
        vec![
            device("gw-1", "prod"),
            device("gw-2", "prod"),
            device("gw-3", "prod"),
            device("lab-1", "lab"),
        ],
    );
    command(&mut st, &format!("devices {filter}"));
    st
}

#[test]
fn update_one_device_prompt_options_confirm_then_the_updates_view() {
    let mut st = on_devices(false, "");
    // About the views' own watches, not the problem kinds every view watches by default.
    st.settings.config.triage.watch_always = false;
    let fx = key(&mut st, 'U');
    assert!(acts_with_keys(&fx).is_empty());
    let Mode::Prompt(p) = &st.mode else {
        panic!("update prompt expected: {}", toast(&st))
    };
    assert_eq!(p.purpose, PromptFor::Update(vec!["gw-1".into()]));
    assert!(p.question.starts_with("Update gw-1 to"), "{}", p.question);
    assert!(p.question.contains("-p N") && p.question.contains("X%"));

    // A bad option keeps the dialog, with the answer and an error.
    typed(&mut st, "https://a.example/rel-2.mender -p 0");
    let fx = key(&mut st, "enter");
    assert!(acts_with_keys(&fx).is_empty());
    let Mode::Prompt(p) = &st.mode else {
        panic!("the prompt stays")
    };
    assert!(
        p.error.as_deref().unwrap_or("").contains("1 to 100"),
        "{:?}",
        p.error
    );
    assert_eq!(p.input.text, "https://a.example/rel-2.mender -p 0");
    // Typing clears the error.
    key(&mut st, "backspace");
    let Mode::Prompt(p) = &st.mode else { panic!() };
    assert_eq!(p.error, None);
    typed(&mut st, "2 -f 10%");
    key(&mut st, "enter");

    let wanted = UpdateRequest {
        artifact: "https://a.example/rel-2.mender".into(),
        devices: vec!["gw-1".into()],
        parallel: 2,
        max_failures: FailureLimit::Percent(10),
        ..UpdateRequest::EMPTY
    };
    let Mode::Confirm(c) = &st.mode else {
        panic!("confirmation expected: {}", toast(&st))
    };
    assert_eq!(c.action, ResourceAction::StartUpdate(wanted.clone()));
    assert_eq!(c.name, "gw-1");
    assert!(c.typed.is_none(), "y/n");
    assert_eq!(
        c.detail.as_deref(),
        Some("Devices reboot when their updater asks; their SSH sessions drop and come back.")
    );
    assert_eq!(
        c.action.label(),
        "update gw-1 to https://a.example/rel-2.mender (parallel 2, stop after 10%)"
    );
    assert_eq!(top_table(&st).0, ResourceKind::Device, "nothing moved yet");

    let fx = key(&mut st, 'y');
    let a = acts_with_keys(&fx);
    assert_eq!(a.len(), 1, "{fx:?}");
    assert_eq!(a[0].0.kind, ResourceKind::Device);
    assert_eq!(a[0].0.id, "gw-1");
    assert_eq!(a[0].0.source, src());
    assert_eq!(a[0].1, "gw-1");
    assert_eq!(a[0].2, ResourceAction::StartUpdate(wanted));
    assert!(matches!(st.mode, Mode::Normal));
    assert_eq!(top_table(&st), (ResourceKind::DeviceUpdate, None));
    assert_eq!(st.stack.len(), 1, "a fresh navigation, like :updates");
    assert_eq!(
        st.wanted_kinds(),
        [ResourceKind::DeviceUpdate],
        "its watch runs"
    );
}

#[test]
fn update_on_a_filtered_table_targets_every_shown_device() {
    let mut st = on_devices(false, "prod");
    key(&mut st, "down");
    key(&mut st, 'U');
    let Mode::Prompt(p) = &st.mode else {
        panic!("update prompt expected: {}", toast(&st))
    };
    assert_eq!(
        p.purpose,
        PromptFor::Update(vec!["gw-1".into(), "gw-2".into(), "gw-3".into()])
    );
    assert!(
        p.question.starts_with("Update 3 devices to"),
        "{}",
        p.question
    );
    assert!(p.question.contains("(default 3)"), "{}", p.question);
    typed(&mut st, "~/builds/rel-2.mender");
    key(&mut st, "enter");
    let Mode::Confirm(c) = &st.mode else {
        panic!("confirmation expected: {}", toast(&st))
    };
    assert_eq!(
        c.action.label(),
        "update 3 devices to ~/builds/rel-2.mender (parallel 3, stop after 1 failure)"
    );
    // Enter does not confirm a y/n dialog (it shows only [y]).
    assert!(acts_with_keys(&key(&mut st, "enter")).is_empty());
    let fx = key(&mut st, 'y');
    let a = acts_with_keys(&fx);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].1, "3 devices");
    assert_eq!(
        a[0].2,
        ResourceAction::StartUpdate(UpdateRequest {
            artifact: "~/builds/rel-2.mender".into(),
            devices: vec!["gw-1".into(), "gw-2".into(), "gw-3".into()],
            parallel: 3,
            max_failures: FailureLimit::Count(1),
            ..UpdateRequest::EMPTY
        })
    );
    assert_eq!(top_table(&st), (ResourceKind::DeviceUpdate, None));
}

#[test]
fn update_cancelled_or_declined_does_nothing() {
    let mut st = on_devices(false, "");
    key(&mut st, 'U');
    let fx = key(&mut st, "esc");
    assert!(fx.is_empty() && matches!(st.mode, Mode::Normal));
    key(&mut st, 'U');
    typed(&mut st, "a.mender");
    key(&mut st, "enter");
    assert!(matches!(st.mode, Mode::Confirm(_)));
    let fx = key(&mut st, 'n');
    assert!(acts_with_keys(&fx).is_empty());
    assert_eq!(top_table(&st).0, ResourceKind::Device);
}

#[test]
fn update_without_confirmations_acts_at_once_and_opens_updates() {
    let mut st = on_devices(false, "");
    st.settings.config.confirm_destructive = false;
    key(&mut st, 'U');
    typed(&mut st, "http://x/a.mender --parallel=1 --max-failures 2");
    let fx = key(&mut st, "enter");
    assert_eq!(
        acts_with_keys(&fx)[0].2,
        ResourceAction::StartUpdate(UpdateRequest {
            artifact: "http://x/a.mender".into(),
            devices: vec!["gw-1".into()],
            parallel: 1,
            max_failures: FailureLimit::Count(2),
            ..UpdateRequest::EMPTY
        })
    );
    assert!(matches!(st.mode, Mode::Normal));
    assert_eq!(top_table(&st), (ResourceKind::DeviceUpdate, None));
}

#[test]
fn update_is_refused_and_audited_in_read_only_mode() {
    let mut st = on_devices(true, "prod");
    let fx = key(&mut st, 'U');
    assert!(matches!(st.mode, Mode::Normal), "no dialog");
    assert!(acts_with_keys(&fx).is_empty());
    let refused: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::AuditRefused { name, action, .. } => Some((name.clone(), action.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{fx:?}");
    let ResourceAction::StartUpdate(req) = &refused[0].1 else {
        panic!("{refused:?}")
    };
    assert_eq!(req.devices, ["gw-1", "gw-2", "gw-3"]);
    assert!(toast(&st).contains("read-only"), "{}", toast(&st));
}

#[test]
fn u_elsewhere_says_where_updates_start() {
    let mut st = state(false);
    command(&mut st, "rollouts");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Rollout,
        vec![row(
            ResourceKind::Rollout,
            "20261123-153012",
            None,
            Health::Pending,
        )],
    );
    let fx = key(&mut st, 'U');
    assert!(fx.is_empty() && matches!(st.mode, Mode::Normal));
    assert!(
        toast(&st).contains("fleet devices (:devices)"),
        "{}",
        toast(&st)
    );
}

fn updates() -> Vec<Resource> {
    let mut failed = row(
        ResourceKind::DeviceUpdate,
        "gw-2",
        Some("20261123-153012"),
        Health::Failed,
    );
    failed.cells[1] = "failed".into();
    failed
        .labels
        .insert("reason".into(), "verify failed".into());
    vec![
        row(
            ResourceKind::DeviceUpdate,
            "gw-1",
            Some("20261123-153012"),
            Health::Pending,
        ),
        failed,
        row(
            ResourceKind::DeviceUpdate,
            "lab-1",
            Some("20261120-090000"),
            Health::Ok,
        ),
    ]
}

#[test]
fn commit_clear_failed_and_rollback_on_device_updates_are_confirmed() {
    let mut st = state(false);
    command(&mut st, "updates");
    snapshot(&mut st, &src(), ResourceKind::DeviceUpdate, updates());
    for (k, wanted) in [
        ('c', ResourceAction::Commit),
        ('C', ResourceAction::ClearFailed),
        ('u', ResourceAction::Rollback),
    ] {
        let fx = key(&mut st, k);
        assert!(
            acts_with_keys(&fx).is_empty(),
            "{k}: nothing before the confirmation"
        );
        let Mode::Confirm(c) = &st.mode else {
            panic!("{k}: confirmation expected: {}", toast(&st))
        };
        assert_eq!(c.action, wanted);
        assert!(c.typed.is_none());
        let fx = key(&mut st, 'y');
        let a = acts_with_keys(&fx);
        assert_eq!(a.len(), 1, "{k}");
        assert_eq!(
            (a[0].0.kind, a[0].0.id.as_str(), a[0].1.as_str()),
            (ResourceKind::DeviceUpdate, "gw-1", "gw-1")
        );
        assert_eq!(a[0].2, wanted);
        assert_eq!(top_table(&st).0, ResourceKind::DeviceUpdate, "view kept");
    }

    // Read-only: refused and audited, no dialog.
    st.read_only = true;
    let fx = key(&mut st, 'c');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::AuditRefused {
            action: ResourceAction::Commit,
            ..
        }
    )));
}

#[test]
fn commit_clear_failed_and_rollback_on_devices() {
    let mut st = on_devices(false, "");
    for (k, wanted) in [
        ('c', ResourceAction::Commit),
        ('C', ResourceAction::ClearFailed),
        ('u', ResourceAction::Rollback),
    ] {
        key(&mut st, k);
        let Mode::Confirm(c) = &st.mode else {
            panic!("{k}: confirmation expected: {}", toast(&st))
        };
        assert_eq!(c.action, wanted);
        let fx = key(&mut st, 'y');
        let a = acts_with_keys(&fx);
        assert_eq!(
            (a[0].0.kind, a[0].2.clone()),
            (ResourceKind::Device, wanted)
        );
    }
}

#[test]
fn r_reboots_a_device_after_a_confirmation() {
    let mut st = on_devices(false, "");
    key(&mut st, 'r');
    let Mode::Confirm(c) = &st.mode else {
        panic!("confirmation expected: {}", toast(&st))
    };
    assert_eq!(c.action, ResourceAction::Reboot);
    let a = acts_with_keys(&key(&mut st, 'y'));
    assert_eq!(a[0].2, ResourceAction::Reboot);
    assert_eq!(a[0].1, "gw-1");
}

#[test]
fn a_rollback_that_needs_a_reboot_offers_it_in_a_dialog() {
    let mut st = on_devices(false, "");
    let gw1 = ResourceKey {
        source: src(),
        kind: ResourceKind::Device,
        id: "gw-1".into(),
    };
    let said = "gw-1: rolled back to release-1; it runs the new software until it reboots";
    update(
        &mut st,
        Msg::ActionDone {
            key: gw1.clone(),
            name: "gw-1".into(),
            action: ResourceAction::Rollback,
            result: Ok(said.into()),
            offer: Some(ResourceAction::Reboot),
        },
    );
    let Mode::Confirm(c) = &st.mode else {
        panic!("the reboot is offered: {}", toast(&st))
    };
    assert_eq!(
        (&c.key, c.action.clone(), c.detail.as_deref()),
        (&gw1, ResourceAction::Reboot, Some(said))
    );
    // Declined: nothing happens. Accepted: the reboot is acted (and so audited).
    assert!(acts_with_keys(&key(&mut st, 'n')).is_empty());
    update(
        &mut st,
        Msg::ActionDone {
            key: gw1.clone(),
            name: "gw-1".into(),
            action: ResourceAction::Rollback,
            result: Ok(said.into()),
            offer: Some(ResourceAction::Reboot),
        },
    );
    let a = acts_with_keys(&key(&mut st, 'y'));
    assert_eq!(a, [(gw1, "gw-1".to_string(), ResourceAction::Reboot)]);
}

#[test]
fn rollouts_pause_resume_abort_and_drill_into_their_devices() {
    let mut st = state(false);
    // About the views' own watches, not the problem kinds every view watches by default.
    st.settings.config.triage.watch_always = false;
    command(&mut st, "rollouts");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Rollout,
        vec![row(
            ResourceKind::Rollout,
            "20261123-153012",
            None,
            Health::Pending,
        )],
    );
    snapshot(&mut st, &src(), ResourceKind::DeviceUpdate, updates());
    let id = "20261123-153012";

    // P pauses (confirmed).
    key(&mut st, 'P');
    assert!(matches!(&st.mode, Mode::Confirm(c) if c.action == ResourceAction::Pause));
    let a = acts_with_keys(&key(&mut st, 'y'));
    assert_eq!(
        (a[0].0.kind, a[0].0.id.as_str(), a[0].2.clone()),
        (ResourceKind::Rollout, id, ResourceAction::Pause)
    );
    // a resumes (nothing to confirm).
    let a = acts_with_keys(&key(&mut st, 'a'));
    assert_eq!(
        (a[0].0.id.as_str(), a[0].2.clone()),
        (id, ResourceAction::Activate)
    );
    assert!(matches!(st.mode, Mode::Normal));
    // x aborts (confirmed): on rollouts x is abort, not stop.
    let fx = key(&mut st, 'x');
    assert!(acts_with_keys(&fx).is_empty());
    assert!(matches!(&st.mode, Mode::Confirm(c) if c.action == ResourceAction::AbortDeployment));
    let a = acts_with_keys(&key(&mut st, 'y'));
    assert_eq!(
        (a[0].1.as_str(), a[0].2.clone()),
        (id, ResourceAction::AbortDeployment)
    );

    // Enter shows the rollout's devices only; Esc comes back.
    key(&mut st, "enter");
    assert_eq!(
        top_table(&st),
        (ResourceKind::DeviceUpdate, Some(id.to_string()))
    );
    let View::Table(t) = st.top() else { panic!() };
    let names: Vec<&str> = t.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["gw-1", "gw-2"]);
    assert_eq!(
        st.wanted_kinds(),
        [ResourceKind::Rollout, ResourceKind::DeviceUpdate]
    );
    key(&mut st, "esc");
    assert_eq!(top_table(&st).0, ResourceKind::Rollout);

    // Read-only: pause is refused.
    st.read_only = true;
    let fx = key(&mut st, 'P');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::AuditRefused {
            action: ResourceAction::Pause,
            ..
        }
    )));
}

fn help_text(st: &AppState) -> Vec<String> {
    let theme = st.settings.theme.clone();
    fleetdeck::ui::help::lines(st, &theme)
        .iter()
        .map(|l| l.to_string())
        // The key table only, not the command list.
        .take_while(|l| !l.starts_with("Commands"))
        .collect()
}

fn help_line<'a>(text: &'a [String], key: &str) -> Option<&'a String> {
    text.iter()
        .find(|l| l.split_whitespace().next() == Some(key))
}

#[test]
fn help_lists_the_update_keys_only_where_they_apply() {
    // Device updates: commit, clear failed, rollback, the updater's output; no update, no start.
    let mut st = state(false);
    command(&mut st, "updates");
    let text = help_text(&st);
    assert!(
        help_line(&text, "c")
            .unwrap()
            .contains("Commit the installed update")
    );
    assert!(help_line(&text, "C").unwrap().contains("failed flag"));
    assert!(help_line(&text, "u").unwrap().contains("device update"));
    assert!(help_line(&text, "l").is_some(), "{text:#?}");
    for absent in ["U", "t", "P", "S"] {
        assert!(help_line(&text, absent).is_none(), "{absent}: {text:#?}");
    }

    // Rollouts: pause, activate, abort; enter drills.
    command(&mut st, "rollouts");
    let text = help_text(&st);
    assert!(
        help_line(&text, "P")
            .unwrap()
            .contains("the rollout (nothing new starts)")
    );
    assert!(
        help_line(&text, "a")
            .unwrap()
            .contains("resume the rollout")
    );
    assert!(
        help_line(&text, "x")
            .unwrap()
            .contains("rollout (confirmed)")
    );
    // c commits the devices the rollout holds before commit; ctrl-d clears finished ones.
    assert!(help_line(&text, "c").is_some(), "{text:#?}");
    assert!(help_line(&text, "ctrl-d").is_some(), "{text:#?}");
    for absent in ["C", "u", "U"] {
        assert!(help_line(&text, absent).is_none(), "{absent}: {text:#?}");
    }

    // Devices: U is update (not create_deployment), plus c, C, u.
    command(&mut st, "devices");
    let text = help_text(&st);
    let u = help_line(&text, "U").unwrap();
    assert!(u.contains("over SSH"), "{u}");
    for present in ["c", "C", "u", "A", "S"] {
        assert!(help_line(&text, present).is_some(), "{present}: {text:#?}");
    }

    // Containers: none of them.
    command(&mut st, "containers");
    let text = help_text(&st);
    for absent in ["c", "C", "u", "U", "P"] {
        assert!(help_line(&text, absent).is_none(), "{absent}: {text:#?}");
    }
}

fn driving(st: &mut AppState) -> ResourceKey {
    let key = ResourceKey {
        source: src(),
        kind: ResourceKind::Rollout,
        id: "20261127-140000".into(),
    };
    update(
        st,
        Msg::Backend(BackendEvent::Work {
            source: src(),
            work: vec![fleetdeck::model::Work {
                key: key.clone(),
                summary: "2 device(s) mid-update, 3 to start".into(),
            }],
        }),
    );
    key
}

/// Review (UX bug 3): quitting while this console drives a rollout asks first — leave it
/// running, abort it, or stay; ctrl-c and `:q!` still quit at once (never trapped).
#[test]
fn quitting_while_updating_asks_first() {
    let mut st = on_devices(false, "");
    let fx = key(&mut st, 'q');
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Quit)),
        "no work: quits"
    );

    let mut st = on_devices(false, "");
    let rollout = driving(&mut st);
    let fx = key(&mut st, 'q');
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)));
    let Mode::ConfirmQuit(work) = &st.mode else {
        panic!("asked")
    };
    assert_eq!(work[0].key, rollout);
    key(&mut st, "esc");
    assert!(matches!(st.mode, Mode::Normal) && !st.quit, "stayed");

    key(&mut st, 'q');
    let fx = key(&mut st, 'a');
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::AbortAndQuit(k) if *k == [rollout.clone()])),
        "abort, then quit"
    );

    let mut st = on_devices(false, "");
    driving(&mut st);
    key(&mut st, 'q');
    let fx = key(&mut st, 'l');
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)), "left running");

    let mut st = on_devices(false, "");
    driving(&mut st);
    let fx = key(&mut st, "ctrl-c");
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Quit)),
        "ctrl-c never traps"
    );
    let mut st = on_devices(false, "");
    driving(&mut st);
    command(&mut st, "q!");
    assert!(st.quit);
    // The work is gone (the rollout ended): q quits again.
    let mut st = on_devices(false, "");
    driving(&mut st);
    update(
        &mut st,
        Msg::Backend(BackendEvent::Work {
            source: src(),
            work: Vec::new(),
        }),
    );
    let fx = key(&mut st, 'q');
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
}
