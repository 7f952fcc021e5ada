//! The reducer with Mender views: abort (confirmed), create a deployment (prompt + confirm, on
//! the selection or on every device shown when filtered), read-only refusals, drill-down.

use fleetdeck::app::state::{Mode, View};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{Health, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId};

use crate::support::console::*;

fn src() -> SourceId {
    SourceId::new("mender:hosted")
}

fn row(kind: ResourceKind, id: &str, name: &str, parent: Option<&str>) -> Resource {
    let mut cells = vec![String::new(); kind.spec().columns.len()];
    cells[0] = name.to_string();
    Resource {
        key: ResourceKey {
            source: src(),
            kind,
            id: id.into(),
        },
        name: name.into(),
        parent: parent.map(String::from),
        health: Health::Ok,
        cells,
        created: None,
        labels: Default::default(),
        facts: Default::default(),
    }
}

fn devices() -> Vec<Resource> {
    [
        ("d1", "production"),
        ("d2", "production"),
        ("d3", "staging"),
    ]
    .into_iter()
    .map(|(id, group)| {
        let mut r = row(ResourceKind::MenderDevice, id, id, Some(group));
        r.cells[5] = group.to_string();
        r
    })
    .collect()
}

#[test]
fn x_aborts_a_deployment_after_yes() {
    let mut st = state(false);
    command(&mut st, "mdeployments");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::MenderDeployment,
        vec![row(
            ResourceKind::MenderDeployment,
            "dep-1",
            "rollout",
            None,
        )],
    );
    let fx = key(&mut st, 'x');
    assert!(acts(&fx).is_empty(), "nothing before the confirmation");
    assert!(matches!(&st.mode, Mode::Confirm(c) if c.action == ResourceAction::AbortDeployment));
    let fx = key(&mut st, 'y');
    assert_eq!(
        acts(&fx),
        vec![("rollout".to_string(), ResourceAction::AbortDeployment)]
    );
}

#[test]
fn enter_on_a_deployment_shows_its_devices() {
    let mut st = state(false);
    command(&mut st, "mdeployments");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::MenderDeployment,
        vec![row(
            ResourceKind::MenderDeployment,
            "dep-1",
            "rollout",
            None,
        )],
    );
    snapshot(
        &mut st,
        &src(),
        ResourceKind::MenderDeploymentDevice,
        vec![
            row(
                ResourceKind::MenderDeploymentDevice,
                "dep-1/d1",
                "d1",
                Some("rollout"),
            ),
            row(
                ResourceKind::MenderDeploymentDevice,
                "dep-2/d2",
                "d2",
                Some("other"),
            ),
        ],
    );
    key(&mut st, "enter");
    let View::Table(t) = st.top() else {
        panic!("a table")
    };
    assert_eq!(t.kind, ResourceKind::MenderDeploymentDevice);
    let names: Vec<&str> = t.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["d1"]);
    assert!(
        st.wanted_kinds()
            .contains(&ResourceKind::MenderDeploymentDevice)
    );
    // `l` opens the device's deployment log.
    let fx = key(&mut st, 'l');
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::OpenLogs { target, .. } if target.id == "dep-1/d1")),
        "{fx:?}"
    );
}

#[test]
fn create_deployment_prompts_for_the_artifact_then_confirms() {
    let mut st = state(false);
    command(&mut st, "mdevices");
    snapshot(&mut st, &src(), ResourceKind::MenderDevice, devices());
    key(&mut st, 'U');
    assert!(matches!(st.mode, Mode::Prompt(_)), "asks the artifact");
    // An empty answer is not accepted.
    key(&mut st, "enter");
    assert!(matches!(&st.mode, Mode::Prompt(p) if p.error.is_some()));
    typed(&mut st, "release-2024.05");
    let fx = key(&mut st, "enter");
    assert!(acts(&fx).is_empty(), "confirmed first");
    assert!(matches!(st.mode, Mode::Confirm(_)));
    let fx = key(&mut st, 'y');
    assert_eq!(
        acts(&fx),
        vec![(
            "d1".to_string(),
            ResourceAction::CreateDeployment("release-2024.05".into(), vec!["d1".into()])
        )]
    );
}

#[test]
fn create_deployment_on_a_filtered_table_targets_every_shown_device() {
    let mut st = state(false);
    command(&mut st, "mdevices production");
    snapshot(&mut st, &src(), ResourceKind::MenderDevice, devices());
    key(&mut st, 'U');
    typed(&mut st, "rel-2");
    key(&mut st, "enter");
    let fx = key(&mut st, 'y');
    let a = acts(&fx);
    assert_eq!(a.len(), 1);
    let ResourceAction::CreateDeployment(artifact, mut ids) = a[0].1.clone() else {
        panic!("{a:?}")
    };
    ids.sort();
    assert_eq!(artifact, "rel-2");
    assert_eq!(ids, vec!["d1".to_string(), "d2".to_string()]);
}

#[test]
fn read_only_refuses_mender_actions_and_audits() {
    let mut st = state(true);
    command(&mut st, "mdevices");
    snapshot(&mut st, &src(), ResourceKind::MenderDevice, devices());
    let fx = key(&mut st, 'U');
    assert!(
        matches!(st.mode, Mode::Normal),
        "no prompt in read-only mode"
    );
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::AuditRefused {
            action: ResourceAction::CreateDeployment(..),
            ..
        }
    )));

    command(&mut st, "mdeployments");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::MenderDeployment,
        vec![row(
            ResourceKind::MenderDeployment,
            "dep-1",
            "rollout",
            None,
        )],
    );
    let fx = key(&mut st, 'x');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(acts(&fx).is_empty());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::AuditRefused {
            action: ResourceAction::AbortDeployment,
            ..
        }
    )));
}

/// An incomplete list shows its rows with a note; `None` keeps the rows shown; the next
/// complete snapshot clears the note.
#[test]
fn incomplete_lists_keep_a_note_until_a_complete_snapshot() {
    let mut st = state(false);
    command(&mut st, "mdevices");
    let key = (src(), ResourceKind::MenderDevice);
    let incomplete = |rows: Option<Vec<Resource>>, note: &str, loading: bool| {
        Msg::Backend(BackendEvent::Incomplete {
            source: src(),
            kind: ResourceKind::MenderDevice,
            resources: rows,
            note: note.into(),
            loading,
        })
    };
    let shown = |st: &AppState| match st.top() {
        View::Table(t) => t.rows.len(),
        _ => panic!("a table"),
    };
    update(
        &mut st,
        incomplete(
            Some(devices()[..1].to_vec()),
            "loading devices: 1 so far",
            true,
        ),
    );
    assert_eq!(shown(&st), 1);
    assert!(st.incomplete[&key].loading);
    snapshot(&mut st, &src(), ResourceKind::MenderDevice, devices());
    assert_eq!(shown(&st), 3);
    assert!(!st.incomplete.contains_key(&key), "complete: no note");
    update(
        &mut st,
        incomplete(None, "not refreshed: GET ... page 2", false),
    );
    assert_eq!(shown(&st), 3, "the last complete list stays");
    assert_eq!(st.incomplete[&key].text, "not refreshed: GET ... page 2");
    assert!(!st.incomplete[&key].loading);
    snapshot(&mut st, &src(), ResourceKind::MenderDevice, devices());
    assert!(st.incomplete.is_empty());
}
