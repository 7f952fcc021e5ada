//! Update guard-rails in the reducer (#15): the update dialog's pre-flight warnings and the
//! devices it skips, commit/rollback refused before the y/n under a rollout, a held device
//! asked as usual, "go back to the previous artifact" offered and confirmed like an update,
//! `c` on a rollout, and clearing finished rollouts (ctrl-d).

use fleetdeck::app::state::Mode;
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::model::{
    Health, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, UpdateGuard,
    UpdateRequest,
};

use crate::support::console::*;

fn src() -> SourceId {
    SourceId::new("fleet:site-a")
}

fn row(kind: ResourceKind, id: &str, guard: UpdateGuard) -> Resource {
    let mut cells = vec![String::new(); kind.spec().columns.len()];
    cells[0] = id.into();
    let name = id.rsplit('/').next().unwrap().to_string();
    let facts = fleetdeck::model::RowFacts {
        update_guard: Some(Box::new(guard)),
        ..Default::default()
    };
    Resource {
        key: ResourceKey {
            source: src(),
            kind,
            id: id.into(),
        },
        name,
        parent: None,
        health: Health::Ok,
        cells,
        created: None,
        labels: Default::default(),
        facts,
    }
}

fn devices(rows: Vec<Resource>) -> AppState {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Device, rows);
    command(&mut st, "devices");
    st
}

/// Five devices, four of which an update would run into something.
fn fleet() -> AppState {
    let d = |id: &str, g: UpdateGuard| row(ResourceKind::Device, id, g);
    devices(vec![
        d("gw-1", UpdateGuard::default()),
        d(
            "gw-2",
            UpdateGuard {
                failed_flag: Some("/run/appliance_failed".into()),
                ..Default::default()
            },
        ),
        d(
            "gw-3",
            UpdateGuard {
                unreachable: Some("unreachable: connection refused".into()),
                ..Default::default()
            },
        ),
        d(
            "gw-4",
            UpdateGuard {
                rollout: Some("20261127-220000".into()),
                ..Default::default()
            },
        ),
        d(
            "gw-5",
            UpdateGuard {
                mender_daemon: Some("mender-updated.service".into()),
                ..Default::default()
            },
        ),
    ])
}

#[test]
fn the_update_dialog_warns_and_skips_before_it_asks() {
    let mut st = fleet();
    // Every device shown (filtered), with a hold before commit.
    typed(&mut st, "/gw<enter>");
    key(&mut st, 'U');
    typed(&mut st, "https://a.example/rel-3.mender -H<enter>");
    let Mode::Confirm(c) = &st.mode else {
        panic!("confirmation expected: {}", toast(&st))
    };
    let ResourceAction::StartUpdate(req) = &c.action else {
        panic!("{:?}", c.action)
    };
    assert!(req.hold_before_commit);
    assert_eq!(
        req.devices.len(),
        5,
        "asked for all; the skipped ones are named"
    );
    let skipped: Vec<&str> = req.skip.iter().map(|s| s.device.as_str()).collect();
    assert_eq!(skipped, ["gw-2", "gw-3", "gw-4", "gw-5"]);
    let reason = |d: &str| &req.skip.iter().find(|s| s.device == d).unwrap().reason;
    assert!(reason("gw-2").contains("failed flag /run/appliance_failed is set"));
    assert!(reason("gw-3").contains("connection refused"));
    assert!(reason("gw-4").contains("rollout 20261127-220000"));
    assert!(reason("gw-5").contains("mender-updated.service"));
    let detail = c.detail.clone().unwrap();
    let lines: Vec<&str> = detail.lines().collect();
    assert_eq!(
        &lines[..4],
        [
            "⚠ failed flag set (clear it with C first), skipped: gw-2",
            "⚠ unreachable, skipped: gw-3",
            "⚠ already being updated by rollout 20261127-220000, skipped: gw-4",
            "⚠ managed by its Mender server (mender-updated.service): deploy through the server, \
             skipped: gw-5",
        ]
    );
    assert!(
        c.action
            .label()
            .ends_with("(parallel 5, stop after 1 failure, hold before commit, 4 skipped)"),
        "{}",
        c.action.label()
    );
    let screen = draw(&mut st, 100, 30);
    for wanted in ["⚠ failed flag set", "skipped: gw-3", "4 skipped)?"] {
        assert!(screen.contains(wanted), "{wanted}:\n{screen}");
    }
    // y sends the request with its skipped devices: the rollout records them, never starts them.
    let fx = key(&mut st, 'y');
    let a = acts(&fx);
    assert_eq!(a.len(), 1);
    let ResourceAction::StartUpdate(sent) = &a[0].1 else {
        panic!()
    };
    assert_eq!(sent.skip.len(), 4);
}

#[test]
fn a_clean_update_has_no_warnings() {
    let mut st = fleet();
    key(&mut st, 'U');
    typed(&mut st, "https://a.example/rel-3.mender<enter>");
    let Mode::Confirm(c) = &st.mode else { panic!() };
    assert_eq!(
        c.detail.as_deref(),
        Some("Devices reboot when their updater asks; their SSH sessions drop and come back.")
    );
    let ResourceAction::StartUpdate(req) = &c.action else {
        panic!()
    };
    assert!(req.skip.is_empty() && !req.hold_before_commit);
}

#[test]
fn nothing_left_to_update_keeps_the_prompt_open_with_why() {
    let mut st = fleet();
    key(&mut st, "down");
    key(&mut st, 'U');
    typed(&mut st, "https://a.example/rel-3.mender<enter>");
    let Mode::Prompt(p) = &st.mode else {
        panic!("the prompt stays: {}", toast(&st))
    };
    assert_eq!(
        p.error.as_deref(),
        Some("nothing to update: failed flag set (clear it with C first), skipped: gw-2")
    );
}

#[test]
fn commit_and_rollback_under_a_rollout_are_refused_before_asking() {
    let driven = UpdateGuard {
        rollout: Some("20261127-220000".into()),
        ..Default::default()
    };
    let mut st = devices(vec![row(ResourceKind::Device, "gw-01", driven.clone())]);
    for k in ['u', 'c'] {
        let fx = key(&mut st, k);
        assert!(acts(&fx).is_empty());
        assert!(matches!(st.mode, Mode::Normal), "{k}: no y/n");
        assert_eq!(
            toast(&st),
            "gw-01 is being updated by rollout 20261127-220000: pause (P) or abort (x) it in \
             :rollouts, or wait"
        );
    }
    // The same on its row in :updates (id ROLLOUT/DEVICE).
    snapshot(
        &mut st,
        &src(),
        ResourceKind::DeviceUpdate,
        vec![row(
            ResourceKind::DeviceUpdate,
            "20261127-220000/gw-01",
            driven,
        )],
    );
    command(&mut st, "updates");
    key(&mut st, 'u');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(toast(&st).starts_with("gw-01 is being updated by rollout"));
}

#[test]
fn a_held_device_is_asked_and_committed_through_its_rollout() {
    let held = UpdateGuard {
        rollout: Some("20261127-220000".into()),
        held: true,
        ..Default::default()
    };
    let mut st = devices(vec![row(ResourceKind::Device, "gw-01", held)]);
    for (k, wanted) in [
        ('c', ResourceAction::Commit),
        ('u', ResourceAction::Rollback),
    ] {
        key(&mut st, k);
        let Mode::Confirm(c) = &st.mode else {
            panic!("{k}: asked: {}", toast(&st))
        };
        assert_eq!(c.action, wanted);
        let fx = key(&mut st, 'y');
        assert_eq!(acts(&fx), [("gw-01".to_string(), wanted)]);
    }
}

/// The filter is the selection: `c` on a held device of a filtered table commits every held
/// device it shows, after one y/n naming them; devices not held are left alone.
#[test]
fn c_on_a_filtered_table_commits_every_held_device_shown() {
    let held = || UpdateGuard {
        rollout: Some("20261127-220000".into()),
        held: true,
        ..Default::default()
    };
    let d = |id: &str, g: UpdateGuard| row(ResourceKind::Device, id, g);
    let mut st = devices(vec![
        d("canary-1", held()),
        d("canary-2", held()),
        d("canary-3", UpdateGuard::default()),
        d("prod-1", held()),
    ]);
    key(&mut st, '/');
    typed(&mut st, "canary");
    key(&mut st, "enter");
    key(&mut st, 'c');
    let Mode::Confirm(c) = &st.mode else {
        panic!("asked: {}", toast(&st))
    };
    assert_eq!(c.detail.as_deref(), Some("and 1 more: canary-2"));
    let fx = key(&mut st, 'y');
    let mut done = acts(&fx);
    done.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        done,
        [
            ("canary-1".to_string(), ResourceAction::Commit),
            ("canary-2".to_string(), ResourceAction::Commit),
        ]
    );
}

#[test]
fn c_on_a_rollout_and_clearing_finished_rollouts_are_confirmed() {
    let mut st = state(false);
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Rollout,
        vec![row(
            ResourceKind::Rollout,
            "20261127-220000",
            UpdateGuard::default(),
        )],
    );
    command(&mut st, "rollouts");
    key(&mut st, 'c');
    let Mode::Confirm(c) = &st.mode else { panic!() };
    assert_eq!(c.action, ResourceAction::Commit);
    key(&mut st, 'n');
    typed(&mut st, "<ctrl-d>");
    let Mode::Confirm(c) = &st.mode else {
        panic!("{}", toast(&st))
    };
    assert_eq!(c.action, ResourceAction::ClearFinished);
    let screen = draw(&mut st, 100, 30);
    assert!(
        screen.contains("Clear the finished rollouts and their rows?")
            && screen.contains("Deletes their records from the rollout journal"),
        "{screen}"
    );
    let fx = key(&mut st, 'y');
    assert_eq!(acts(&fx)[0].1, ResourceAction::ClearFinished);
}

#[test]
fn go_back_to_the_previous_artifact_is_offered_and_confirmed_like_an_update() {
    let mut st = devices(vec![row(
        ResourceKind::Device,
        "gw-01",
        UpdateGuard::default(),
    )]);
    let back = UpdateRequest {
        artifact: "https://a.example/release-2.mender".into(),
        devices: vec!["gw-01".into()],
        ..UpdateRequest::EMPTY
    };
    let text = "gw-01: no update in progress, nothing to rollback: it runs release-3 (committed). \
                Go back to the previous artifact release-2 from https://a.example/release-2.mender?";
    update(
        &mut st,
        Msg::ActionDone {
            key: ResourceKey {
                source: src(),
                kind: ResourceKind::Device,
                id: "gw-01".into(),
            },
            name: "gw-01".into(),
            action: ResourceAction::Rollback,
            result: Ok(text.into()),
            offer: Some(ResourceAction::StartUpdate(back.clone())),
        },
    );
    let Mode::Confirm(c) = &st.mode else {
        panic!("offered: {}", toast(&st))
    };
    assert_eq!(c.detail.as_deref(), Some(text), "names both artifacts");
    let screen = draw(&mut st, 120, 30);
    assert!(
        screen.contains("Update gw-01 to https://a.example/release-2.mender"),
        "{screen}"
    );
    let fx = key(&mut st, 'y');
    assert_eq!(
        acts(&fx),
        [("gw-01".to_string(), ResourceAction::StartUpdate(back))]
    );
}

/// The warnings at 80x24: every line and the keys stay in view.
#[test]
fn the_warnings_fit_an_80x24_screen() {
    let mut st = fleet();
    typed(&mut st, "/gw<enter>");
    key(&mut st, 'U');
    typed(&mut st, "https://a.example/rel-3.mender -H<enter>");
    let screen = draw(&mut st, 80, 24);
    for wanted in ["[y] yes", "skipped: gw-2", "skipped: gw-3", "skipped: gw-4"] {
        assert!(screen.contains(wanted), "{wanted}:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}
