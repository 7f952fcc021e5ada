//! Every view rendered with ratatui's TestBackend and compared with insta snapshots.
//! `cargo insta review` (or INSTA_UPDATE=always) after an intended change.

use std::collections::BTreeMap;

use fleetdeck::app::action::Action;
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::config::Settings;
use fleetdeck::model::{
    Health, LogLine, Resource, ResourceKey, ResourceKind, SourceId, SourceStatus, StatsSample,
    StyledText,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn src() -> SourceId {
    SourceId::new("docker:local")
}

fn container(
    name: &str,
    image: &str,
    state: &str,
    status: &str,
    project: &str,
    health: Health,
    age_secs: i64,
) -> Resource {
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::Container,
            id: format!("{name}-0123456789"),
        },
        name: name.into(),
        parent: (!project.is_empty()).then(|| project.to_string()),
        health,
        cells: vec![
            name.into(),
            image.into(),
            state.into(),
            status.into(),
            if state == "running" {
                "0.0.0.0:8080->80/tcp".into()
            } else {
                String::new()
            },
            project.into(),
            String::new(),
        ],
        created: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs)),
        labels: BTreeMap::new(),
    }
}

fn state() -> AppState {
    // Built-in defaults, never the machine's own config files.
    let mut st = AppState::new(Settings::default(), false);
    update(
        &mut st,
        Msg::Backend(BackendEvent::Status(
            src(),
            SourceStatus::Connected("Docker 20.10.24 · API 1.41 · default socket".into()),
        )),
    );
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::Container,
            resources: vec![
                container(
                    "shop-web-1",
                    "shop/web:1.4",
                    "running",
                    "Up 3 hours (healthy)",
                    "shop",
                    Health::Ok,
                    3 * 3600,
                ),
                container(
                    "shop-db-1",
                    "postgres:16",
                    "running",
                    "Up 3 hours",
                    "shop",
                    Health::Ok,
                    3 * 3600,
                ),
                container(
                    "worker",
                    "busybox:local",
                    "exited",
                    "Exited (137) 5 minutes ago",
                    "",
                    Health::Failed,
                    2 * 86400,
                ),
                container(
                    "cron",
                    "busybox:local",
                    "created",
                    "Created",
                    "",
                    Health::Stopped,
                    600,
                ),
            ],
        }),
    );
    st
}

fn draw(st: &mut AppState, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| fleetdeck::ui::render(f, st)).expect("draw");
    format!("{}", term.backend())
}

#[test]
fn table_80x24() {
    let mut st = state();
    update(
        &mut st,
        Msg::Backend(BackendEvent::Stats {
            key: ResourceKey {
                source: src(),
                kind: ResourceKind::Container,
                id: "cron-0123456789".into(),
            },
            sample: StatsSample {
                cpu_percent: 12.5,
                mem_bytes: 50 << 20,
                mem_limit: 1 << 30,
            },
        }),
    );
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn table_160x48() {
    let mut st = state();
    insta::assert_snapshot!(draw(&mut st, 160, 48));
}

#[test]
fn table_filtered_and_unreachable_source() {
    let mut st = state();
    update(
        &mut st,
        Msg::Backend(BackendEvent::Status(
            src(),
            SourceStatus::Reconnecting {
                error: "cannot reach Docker at unix:///var/run/docker.sock: connection refused"
                    .into(),
                retry_in_secs: 4,
            },
        )),
    );
    update(&mut st, Msg::Action(Action::Filter));
    for c in "shop".chars() {
        update(
            &mut st,
            Msg::Term(crossterm::event::Event::Key(
                crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)),
            )),
        );
    }
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn confirm_dialog_80x24() {
    let mut st = state();
    update(&mut st, Msg::Action(Action::Down));
    update(&mut st, Msg::Action(Action::Remove));
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn help_80x24() {
    let mut st = state();
    update(&mut st, Msg::Action(Action::Help));
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn logs_80x24_with_prefixes_search_and_colours() {
    let mut st = state();
    let fx = update(&mut st, Msg::Action(Action::Logs));
    let stream = fx
        .iter()
        .find_map(|e| {
            if let Effect::OpenLogs { stream, .. } = e {
                Some(*stream)
            } else {
                None
            }
        })
        .expect("open");
    let red = ratatui::style::Style::default().fg(ratatui::style::Color::Red);
    let lines = (0..30)
        .map(|i| {
            let text = if i % 10 == 3 {
                format!("ERROR request {i} failed")
            } else {
                format!("GET /api/items/{i} 200 1.{i}ms")
            };
            let runs = if i % 10 == 3 {
                vec![fleetdeck::model::StyleRun {
                    start: 0,
                    end: 5,
                    style: red,
                }]
            } else {
                vec![]
            };
            LogLine {
                ts: Some(1_700_000_000_000_000_000 + i * 1_000_000_000),
                source: Some(
                    if i % 2 == 0 {
                        "shop-web-1"
                    } else {
                        "shop-db-1"
                    }
                    .into(),
                ),
                text: StyledText { text, runs },
            }
        })
        .collect();
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines { stream, lines }),
    );
    update(&mut st, Msg::Action(Action::ToggleTimestamps));
    update(&mut st, Msg::Action(Action::Search));
    for c in "error".chars() {
        update(
            &mut st,
            Msg::Term(crossterm::event::Event::Key(
                crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)),
            )),
        );
    }
    update(
        &mut st,
        Msg::Term(crossterm::event::Event::Key(
            crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter),
        )),
    );
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}
