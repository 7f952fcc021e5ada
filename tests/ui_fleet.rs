//! The device table and the fleet dialogs rendered with TestBackend, compared with insta
//! snapshots (`INSTA_UPDATE=always` after an intended change).

use std::collections::BTreeMap;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::config::Settings;
use fleetdeck::model::{Health, Resource, ResourceKey, ResourceKind, SourceId, SourceStatus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FP: &str = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

fn src() -> SourceId {
    SourceId::new("fleet:site-a")
}

fn device(
    name: &str,
    state: &str,
    health: Health,
    facts: bool,
    labels: &[(&str, &str)],
) -> Resource {
    let cells: Vec<String> = if facts {
        [
            name,
            state,
            "10.20.0.11",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-28-arm64",
            "3d4h",
            "0.12 0.30 0.25",
            "/ 42%, /data 7%",
            "release-2026.11",
            "",
            "1/1 active",
            "prod,gateways",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    } else {
        let mut v = vec![String::new(); ResourceKind::Device.spec().columns.len()];
        v[0] = name.into();
        v[1] = state.into();
        v[2] = "10.20.0.12".into();
        v[11] = "prod".into();
        v
    };
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::Device,
            id: name.into(),
        },
        name: name.into(),
        parent: None,
        health,
        cells,
        created: None,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn state() -> AppState {
    let mut st = AppState::new(Settings::default(), false);
    update(
        &mut st,
        Msg::Backend(BackendEvent::Status(
            src(),
            SourceStatus::Connected("1/3 devices up".into()),
        )),
    );
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::Device,
            resources: vec![
                device("gw-01", "up", Health::Ok, true, &[("sandboxes", "app,db")]),
                device(
                    "gw-02",
                    &format!("unknown key {FP}"),
                    Health::Failed,
                    false,
                    &[("host_key", "unknown"), ("fingerprint", FP)],
                ),
                device(
                    "gw-03",
                    "CHANGED key SHA256:Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHh5enp5eHh5enp5",
                    Health::Failed,
                    false,
                    &[],
                ),
            ],
        }),
    );
    key(&mut st, KeyCode::Char(':'));
    for c in "devices".chars() {
        key(&mut st, KeyCode::Char(c));
    }
    key(&mut st, KeyCode::Enter);
    st
}

fn key(st: &mut AppState, code: KeyCode) {
    update(
        st,
        Msg::Term(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))),
    );
}

fn draw(st: &mut AppState, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| fleetdeck::ui::render(f, st)).expect("draw");
    format!("{}", term.backend())
}

#[test]
fn devices_160x24() {
    let mut st = state();
    insta::assert_snapshot!(draw(&mut st, 160, 24));
}

#[test]
fn accept_host_key_dialog_shows_the_fingerprint() {
    let mut st = state();
    key(&mut st, KeyCode::Down);
    key(&mut st, KeyCode::Char('A'));
    let screen = draw(&mut st, 120, 24);
    assert!(screen.contains(&format!("Presented key: {FP}")), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn sandbox_picker() {
    let mut st = state();
    key(&mut st, KeyCode::Char('S'));
    insta::assert_snapshot!(draw(&mut st, 100, 20));
}
