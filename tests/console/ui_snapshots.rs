//! Every view rendered with ratatui's TestBackend and compared with insta snapshots.
//! `cargo insta review` (or INSTA_UPDATE=always) after an intended change.

use fleetdeck::app::action::Action;
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, LogLine, Replicas, Resource, ResourceKey, ResourceKind, RowFacts, SourceId,
    SourceStatus, StatsSample, StyledText,
};

use crate::support::console::*;

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
            "0".into(),
            status
                .strip_prefix("Exited (")
                .and_then(|r| r.split(')').next())
                .unwrap_or_default()
                .into(),
            if state == "running" {
                "0.0.0.0:8080->80/tcp".into()
            } else {
                String::new()
            },
            project.into(),
            String::new(),
        ],
        created: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs)),
        labels: Default::default(),
        facts: Default::default(),
    }
}

fn state() -> AppState {
    // Built-in defaults, never the machine's own config files.
    let mut st = bare_state();
    status(
        &mut st,
        &src(),
        SourceStatus::Connected("Docker 20.10.24 · API 1.41 · default socket".into()),
    );
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Container,
        vec![
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
    );
    st
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
    status(
        &mut st,
        &src(),
        SourceStatus::Reconnecting {
            error: "cannot reach Docker at unix:///var/run/docker.sock: connection refused".into(),
            retry_in_secs: 4,
        },
    );
    act(&mut st, Action::Filter);
    typed(&mut st, "shop");
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn confirm_dialog_80x24() {
    let mut st = state();
    act(&mut st, Action::Down);
    act(&mut st, Action::Remove);
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn help_80x24() {
    let mut st = state();
    act(&mut st, Action::Help);
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn logs_80x24_with_prefixes_search_and_colours() {
    let mut st = state();
    let fx = act(&mut st, Action::Logs);
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
                marker: false,
            }
        })
        .collect();
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines { stream, lines }),
    );
    act(&mut st, Action::ToggleTimestamps);
    act(&mut st, Action::Search);
    typed(&mut st, "error<enter>");
    insta::assert_snapshot!(draw(&mut st, 80, 24));
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
        labels: Default::default(),
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
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Service,
        vec![
            service("shop_web", "3/3", "updating 1/3", Health::Pending),
            service("shop_worker", "1/1", "rollback_completed", Health::Ok),
        ],
    );
    act(&mut st, Action::Scale);
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

/// Level words colour their lines (bad, warn), fleetdeck's markers have their own style; on a
/// 16-colour terminal they degrade like the rest, with NO_COLOR they fall back to modifiers.
#[test]
fn log_levels_and_markers_are_styled_in_every_colour_mode() {
    use fleetdeck::config::{ColorSupport, Role};
    use ratatui::style::Modifier;

    let mut st = state();
    let fx = act(&mut st, Action::Logs);
    let stream = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs { stream, .. } => Some(*stream),
            _ => None,
        })
        .expect("open");
    let plain = |text: &str| LogLine {
        ts: None,
        source: None,
        text: StyledText {
            text: text.into(),
            runs: vec![],
        },
        marker: false,
    };
    let at: jiff::Timestamp = "2024-05-01T11:00:22Z".parse().unwrap();
    let lines = vec![
        plain("12:00:01 INFO listening on :8080"),
        plain("12:00:02 ERROR db: connection refused"),
        plain("level=warning msg=\"slow query\""),
        fleetdeck::logs::marker::marker(fleetdeck::logs::marker::Mark::Restarted, at, None, None),
        plain("0 errors, 1 warning found"),
    ];
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines { stream, lines }),
    );
    let builtin = st.settings.theme.clone();
    for support in [
        ColorSupport::TrueColor,
        ColorSupport::Ansi16,
        ColorSupport::NoColor,
    ] {
        let theme = builtin.resolve(support);
        st.settings.theme = theme.clone();
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 12)).unwrap();
        term.draw(|f| fleetdeck::ui::render(f, &mut st)).unwrap();
        let buf = term.backend().buffer().clone();
        // The style of the first cell of the row that shows `needle`'s text.
        let style_of = |needle: &str| {
            let row = (0..buf.area.height)
                .find(|&y| {
                    let text: String = (0..buf.area.width)
                        .map(|x| buf[(x, y)].symbol().to_string())
                        .collect();
                    text.contains(needle)
                })
                .unwrap_or_else(|| panic!("{needle} not drawn"));
            let x = (0..buf.area.width)
                .find(|&x| needle.starts_with(buf[(x, row)].symbol()))
                .unwrap();
            buf[(x, row)].style()
        };
        // A role without a colour draws in the terminal's own (Reset).
        let want = |role: Role| theme.style(role).fg.or(Some(ratatui::style::Color::Reset));
        let err = style_of("12:00:02 ERROR");
        assert_eq!(err.fg, want(Role::LogsError), "{support:?}");
        assert_eq!(
            style_of("level=warning").fg,
            want(Role::LogsWarn),
            "{support:?}"
        );
        assert_eq!(style_of("0 errors").fg, want(Role::LogsText), "{support:?}");
        if support != ColorSupport::NoColor {
            assert_ne!(err.fg, style_of("12:00:01 INFO").fg, "{support:?}");
        }
        let marker = style_of("── restarted");
        match support {
            ColorSupport::NoColor => {
                assert!(err.fg.is_none_or(|c| c == ratatui::style::Color::Reset));
                assert!(err.add_modifier.contains(Modifier::BOLD), "{err:?}");
                assert!(
                    style_of("level=warning")
                        .add_modifier
                        .contains(Modifier::UNDERLINED)
                );
                assert!(marker.add_modifier.contains(Modifier::BOLD | Modifier::DIM));
            }
            ColorSupport::Ansi16 => {
                let c = err.fg.expect("a colour");
                assert!(
                    !matches!(
                        c,
                        ratatui::style::Color::Rgb(..) | ratatui::style::Color::Indexed(_)
                    ),
                    "{c:?}"
                );
            }
            _ => assert_eq!(marker.fg, want(Role::LogsMarker)),
        }
    }
}
