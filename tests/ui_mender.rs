//! Mender views rendered with ratatui's TestBackend (insta snapshots): rows mapped from the
//! real-shaped fixtures by the backend's own mapping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

#[path = "support/mender_server.rs"]
mod mender_server;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::app::action::Action;
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::backend::mender::map;
use fleetdeck::config::Settings;
use fleetdeck::model::{ResourceKind, SourceId, SourceStatus};
use mender_server::fixture;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn src() -> SourceId {
    SourceId::new("mender:hosted")
}

fn ago(secs: i64) -> Option<jiff::Timestamp> {
    Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs))
}

fn state() -> AppState {
    let mut st = AppState::new(Settings::default(), false);
    update(
        &mut st,
        Msg::Backend(BackendEvent::Status(
            src(),
            SourceStatus::Connected("Mender hosted.mender.io".into()),
        )),
    );
    let deps = fixture("deployments.json");
    let stats = [
        fixture("deployment_0c13a0e6.json")["statistics"].clone(),
        fixture("deployment_1d24b1f7.json")["statistics"].clone(),
    ];
    let mut rows: Vec<_> = deps
        .as_array()
        .unwrap()
        .iter()
        .zip(&stats)
        .map(|(d, s)| map::deployment_row(&src(), d, Some(s)))
        .collect();
    rows[0].created = ago(3 * 86400);
    rows[1].created = ago(2 * 3600);
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::MenderDeployment,
            resources: rows,
        }),
    );
    let inv = map::inventory_by_id(fixture("inventory_devices.json").as_array().unwrap());
    let mut devs: Vec<_> = fixture("devauth_devices.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| map::device_row(&src(), d, inv.get(d["id"].as_str().unwrap())))
        .collect();
    for (i, d) in devs.iter_mut().enumerate() {
        d.created = ago(30 + 60 * i as i64 * 7);
    }
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::MenderDevice,
            resources: devs,
        }),
    );
    st
}

fn draw(st: &mut AppState, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| fleetdeck::ui::render(f, st)).expect("draw");
    format!("{}", term.backend())
}

fn key(st: &mut AppState, c: char) {
    update(
        st,
        Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        ))),
    );
}

fn command(st: &mut AppState, cmd: &str) {
    update(st, Msg::Action(Action::Command));
    for c in cmd.chars() {
        key(st, c);
    }
    update(
        st,
        Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        ))),
    );
}

#[test]
fn mender_deployments_160x24() {
    let mut st = state();
    command(&mut st, "mdeployments");
    insta::assert_snapshot!(draw(&mut st, 160, 24));
}

#[test]
fn mender_devices_with_create_deployment_prompt_120x24() {
    let mut st = state();
    command(&mut st, "mdevices");
    key(&mut st, 'U');
    for c in "release-2024.05".chars() {
        key(&mut st, c);
    }
    insta::assert_snapshot!(draw(&mut st, 120, 24));
}

#[test]
fn mender_unauthorized_in_the_view_100x16() {
    let mut st = state();
    command(&mut st, "mdeployments");
    update(
        &mut st,
        Msg::Backend(BackendEvent::Unavailable {
            source: src(),
            kind: ResourceKind::MenderDeployment,
            reason: "unauthorized: check the token in $MENDER_TOKEN".into(),
        }),
    );
    insta::assert_snapshot!(draw(&mut st, 100, 16));
}

/// Enter on a deployment: its devices from `/devices/list` (no ATTEMPTS column: Mender has no
/// such field).
#[test]
fn mender_deployment_devices_120x16() {
    let mut st = state();
    command(&mut st, "mdeployments");
    let mut rows = Vec::new();
    for (id, file, name) in [
        (
            "0c13a0e6-6b63-49b8-be8f-4bd3d3cd1e1b",
            "deployment_devices_0c13a0e6.json",
            "release-2024.04 production",
        ),
        (
            "1d24b1f7-7c74-4ac9-8f90-5ce4e4de2f2c",
            "deployment_devices_1d24b1f7.json",
            "release-2024.05 staging",
        ),
    ] {
        for d in fixture(file).as_array().unwrap() {
            rows.push(map::deployment_device_row(&src(), id, name, d));
        }
    }
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::MenderDeploymentDevice,
            resources: rows,
        }),
    );
    command(&mut st, "mdd");
    insta::assert_snapshot!(draw(&mut st, 120, 16));
}

/// A list that could not be read to its end says so above its rows, naming the endpoint.
#[test]
fn mender_incomplete_list_says_so_120x16() {
    let mut st = state();
    command(&mut st, "mdevices");
    let rows = match st.data.get(&ResourceKind::MenderDevice) {
        Some(m) => m[&src()].iter().take(2).map(|r| (**r).clone()).collect(),
        None => Vec::new(),
    };
    update(
        &mut st,
        Msg::Backend(BackendEvent::Incomplete {
            source: src(),
            kind: ResourceKind::MenderDevice,
            resources: Some(rows),
            note: "incomplete list: GET /api/management/v2/devauth/devices page 2 (500 read): HTTP 500: internal error; retrying in 2s".into(),
            loading: false,
        }),
    );
    insta::assert_snapshot!(draw(&mut st, 120, 16));
}
