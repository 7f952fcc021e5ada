//! Every view rendered with ratatui's TestBackend and compared with insta snapshots.
//! `cargo insta review` (or INSTA_UPDATE=always) after an intended change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::collections::BTreeMap;

use fleetdeck::app::action::Action;
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::config::Settings;
use fleetdeck::model::{
    Health, LogLine, Replicas, Resource, ResourceKey, ResourceKind, RowFacts, SourceId,
    SourceStatus, StatsSample, StyledText,
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
        facts: Default::default(),
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

fn command(st: &mut AppState, cmd: &str) {
    update(st, Msg::Action(Action::Command));
    for c in cmd.chars().chain(['\r']) {
        let code = if c == '\r' {
            crossterm::event::KeyCode::Enter
        } else {
            crossterm::event::KeyCode::Char(c)
        };
        update(
            st,
            Msg::Term(crossterm::event::Event::Key(
                crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE),
            )),
        );
    }
}

fn service(name: &str, replicas: &str, update_text: &str, health: Health) -> Resource {
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::Service,
            id: format!("{name}-id"),
        },
        name: name.into(),
        parent: Some("shop".into()),
        health,
        cells: vec![
            name.into(),
            "replicated".into(),
            replicas.into(),
            "shop/web:1.4@0123456789ab".into(),
            "8080->80/tcp (host)".into(),
            update_text.into(),
            "shop".into(),
            String::new(),
        ],
        created: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(7200)),
        labels: BTreeMap::new(),
        // As the swarm backend fills it from its counts.
        facts: RowFacts {
            replicas: replicas.split_once('/').and_then(|(running, desired)| {
                Some(Replicas {
                    running: running.parse().ok()?,
                    desired: desired.parse().ok()?,
                })
            }),
            ..Default::default()
        },
    }
}

#[test]
fn services_with_update_progress_and_scale_prompt_80x24() {
    let mut st = state();
    command(&mut st, "services");
    update(
        &mut st,
        Msg::Backend(BackendEvent::Snapshot {
            source: src(),
            kind: ResourceKind::Service,
            resources: vec![
                service("shop_web", "3/3", "updating 1/3", Health::Pending),
                service("shop_worker", "1/1", "rollback_completed", Health::Ok),
            ],
        }),
    );
    update(&mut st, Msg::Action(Action::Scale));
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn stacks_on_an_engine_that_is_not_a_manager() {
    let mut st = state();
    command(&mut st, "stacks");
    update(
        &mut st,
        Msg::Backend(BackendEvent::Unavailable {
            source: src(),
            kind: ResourceKind::Stack,
            reason: "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.".into(),
        }),
    );
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}
