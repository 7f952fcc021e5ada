//! The reducer: every interaction as data in, state + effects out. No terminal, no engine.

use fleetdeck::app::action::Action;
use fleetdeck::app::state::{Mode, View};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, LogLine, Replicas, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId,
    StyledText,
};

use crate::support::console::*;

fn src() -> SourceId {
    SourceId::new("docker:test")
}

fn res(kind: ResourceKind, name: &str, parent: Option<&str>) -> Resource {
    let n = kind.spec().columns.len();
    let mut cells = vec![String::new(); n];
    cells[0] = name.to_string();
    Resource {
        key: ResourceKey {
            source: src(),
            kind,
            id: format!("id-{name}"),
        },
        name: name.into(),
        parent: parent.map(String::from),
        health: Health::Ok,
        cells,
        created: Some(jiff::Timestamp::now()),
        labels: Default::default(),
        facts: Default::default(),
    }
}

fn containers() -> Vec<Resource> {
    vec![
        res(ResourceKind::Container, "web-10", Some("shop")),
        res(ResourceKind::Container, "web-2", Some("shop")),
        res(ResourceKind::Container, "db", Some("shop")),
        res(ResourceKind::Container, "lonely", None),
    ]
}

#[test]
fn snapshot_fills_the_table_in_natural_order() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    assert_eq!(names(&st), vec!["db", "lonely", "web-2", "web-10"]);
}

#[test]
fn filter_is_live_and_esc_clears_it() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    act(&mut st, Action::Filter);
    assert!(matches!(st.mode, Mode::Filter(_)));
    typed(&mut st, "web");
    assert_eq!(names(&st), vec!["web-2", "web-10"], "applied while typing");
    key(&mut st, "enter");
    assert!(matches!(st.mode, Mode::Normal));
    assert_eq!(names(&st).len(), 2, "kept after Enter");
    act(&mut st, Action::Back);
    assert_eq!(names(&st).len(), 4, "Esc/back clears the filter first");
}

#[test]
fn regex_filter_and_bad_regex_message() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    act(&mut st, Action::Filter);
    typed(&mut st, "re:^web-\\d$");
    key(&mut st, "enter");
    assert_eq!(names(&st), vec!["web-2"]);
    act(&mut st, Action::Back);
    act(&mut st, Action::Filter);
    typed(&mut st, "re:(");
    key(&mut st, "enter");
    assert!(
        st.toast
            .as_ref()
            .is_some_and(|t| t.error && t.text.contains("regex")),
        "bad regex is explained"
    );
}

#[test]
fn command_bar_completes_and_drill_down_goes_back() {
    let mut st = state(false);
    // About the views' own watches, not the problem kinds every view watches by default.
    st.settings.config.triage.watch_always = false;
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Project,
        vec![res(ResourceKind::Project, "shop", None)],
    );
    act(&mut st, Action::Command);
    typed(&mut st, "pro");
    key(&mut st, "tab");
    match &st.mode {
        Mode::Command(i) => assert_eq!(i.text, "projects"),
        _ => panic!("command mode expected"),
    }
    key(&mut st, "enter");
    assert_eq!(names(&st), vec!["shop"]);
    assert_eq!(st.wanted_kinds(), vec![ResourceKind::Project]);
    act(&mut st, Action::Enter);
    assert_eq!(
        names(&st),
        vec!["db", "web-2", "web-10"],
        "only the project's containers"
    );
    assert_eq!(st.top().title(), "Containers(shop)");
    assert_eq!(
        st.wanted_kinds(),
        vec![ResourceKind::Container, ResourceKind::Project]
    );
    act(&mut st, Action::Back);
    assert_eq!(names(&st), vec!["shop"]);
}

#[test]
fn unknown_command_says_so() {
    let mut st = state(false);
    act(&mut st, Action::Command);
    typed(&mut st, "bogus");
    key(&mut st, "enter");
    assert!(
        st.toast
            .as_ref()
            .is_some_and(|t| t.error && t.text.contains("bogus"))
    );
}

#[test]
fn destructive_actions_ask_first() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    let fx = act(&mut st, Action::Stop);
    assert!(matches!(st.mode, Mode::Confirm(_)));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Act { .. })),
        "nothing runs before confirmation"
    );
    let fx = key(&mut st, 'n');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(fx.is_empty() || !fx.iter().any(|e| matches!(e, Effect::Act { .. })));

    act(&mut st, Action::Kill);
    let fx = key(&mut st, 'y');
    let acted: Vec<&Effect> = fx
        .iter()
        .filter(|e| matches!(e, Effect::Act { .. }))
        .collect();
    assert_eq!(acted.len(), 1);
    match acted[0] {
        Effect::Act { key, name, action } => {
            assert_eq!(name, "db");
            assert_eq!(key.id, "id-db");
            assert_eq!(*action, ResourceAction::Kill);
        }
        _ => unreachable!(),
    }
}

#[test]
fn restart_runs_without_confirmation() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    let fx = act(&mut st, Action::Restart);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Act {
            action: ResourceAction::Restart,
            ..
        }
    )));
}

#[test]
fn read_only_refuses_and_audits() {
    let mut st = state(true);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    for a in [
        Action::Start,
        Action::Stop,
        Action::Restart,
        Action::Kill,
        Action::Remove,
    ] {
        let fx = act(&mut st, a);
        assert!(
            matches!(st.mode, Mode::Normal),
            "{a:?}: no dialog in read-only mode"
        );
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Act { .. })),
            "{a:?} must not run"
        );
        assert!(
            fx.iter().any(|e| matches!(e, Effect::AuditRefused { .. })),
            "{a:?} refusal is audited"
        );
        assert!(
            st.toast
                .as_ref()
                .is_some_and(|t| t.error && t.text.contains("read-only"))
        );
    }
}

#[test]
fn actions_not_offered_by_a_kind_are_refused() {
    let mut st = state(false);
    act(&mut st, Action::Command);
    typed(&mut st, "images");
    key(&mut st, "enter");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Image,
        vec![res(ResourceKind::Image, "busybox", None)],
    );
    let fx = act(&mut st, Action::Stop);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Act { .. })));
    assert!(st.toast.as_ref().is_some_and(|t| t.error));
}

#[test]
fn logs_open_route_by_stream_and_close() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    let fx = act(&mut st, Action::Logs);
    let stream = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs {
                stream,
                target,
                opts,
            } => {
                assert_eq!(target.id, "id-db");
                assert!(opts.follow);
                Some(*stream)
            }
            _ => None,
        })
        .expect("OpenLogs");
    let line = |t: &str| LogLine {
        ts: None,
        source: None,
        text: StyledText {
            text: t.into(),
            runs: vec![],
        },
        marker: false,
    };
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines {
            stream,
            lines: vec![line("one"), line("two")],
        }),
    );
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines {
            stream: stream + 99,
            lines: vec![line("stray")],
        }),
    );
    match st.top() {
        View::Logs(l) => {
            assert_eq!(l.buffer.len(), 2, "lines of another stream are ignored");
            assert!(l.follow);
        }
        _ => panic!("log view expected"),
    }
    // Pause holds lines back until resumed.
    act(&mut st, Action::TogglePause);
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines {
            stream,
            lines: vec![line("three")],
        }),
    );
    if let View::Logs(l) = st.top() {
        assert_eq!((l.buffer.len(), l.held.len()), (2, 1));
    }
    act(&mut st, Action::TogglePause);
    if let View::Logs(l) = st.top() {
        assert_eq!((l.buffer.len(), l.held.len()), (3, 0));
    }
    let fx = act(&mut st, Action::Back);
    assert!(fx.contains(&Effect::CloseLogs));
    assert!(matches!(st.top(), View::Table(_)));
}

#[test]
fn log_search_finds_and_cycles_matches() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    let stream = act(&mut st, Action::Logs)
        .iter()
        .find_map(|e| {
            if let Effect::OpenLogs { stream, .. } = e {
                Some(*stream)
            } else {
                None
            }
        })
        .expect("OpenLogs");
    let lines = (0..10)
        .map(|i| LogLine {
            ts: None,
            source: None,
            text: StyledText {
                text: if i % 3 == 0 {
                    format!("ERROR {i}")
                } else {
                    format!("ok {i}")
                },
                runs: vec![],
            },
            marker: false,
        })
        .collect();
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines { stream, lines }),
    );
    act(&mut st, Action::Search);
    typed(&mut st, "error");
    key(&mut st, "enter");
    let cur = |st: &AppState| {
        if let View::Logs(l) = st.top() {
            l.current_match
        } else {
            None
        }
    };
    assert_eq!(cur(&st), Some(9), "search starts from the newest line");
    act(&mut st, Action::SearchPrev);
    assert_eq!(cur(&st), Some(6));
    act(&mut st, Action::SearchNext);
    assert_eq!(cur(&st), Some(9));
    act(&mut st, Action::SearchNext);
    assert_eq!(cur(&st), Some(0), "wraps around");
    act(&mut st, Action::ToggleMatchesOnly);
    if let View::Logs(l) = st.top() {
        assert_eq!(l.displayed(), vec![0, 3, 6, 9]);
    }
}

/// The log view of `containers()`' first row, its ring holding `ring` lines: the stream id.
fn open_logs_with_ring(st: &mut AppState, ring: usize) -> u64 {
    st.settings.config.logs.buffer_lines = ring;
    snapshot(st, &src(), ResourceKind::Container, containers());
    act(st, Action::Logs)
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs { stream, .. } => Some(*stream),
            _ => None,
        })
        .expect("OpenLogs")
}

fn numbered(st: &mut AppState, stream: u64, words: &[&str], from: usize, n: usize) {
    let lines = (from..from + n)
        .map(|i| LogLine {
            ts: None,
            source: None,
            text: StyledText {
                text: format!("{} {i}", words[i % words.len()]),
                runs: vec![],
            },
            marker: false,
        })
        .collect();
    update(st, Msg::Backend(BackendEvent::LogLines { stream, lines }));
}

/// (the text of the top line shown, the text of the current match)
fn top_and_match(st: &AppState) -> (String, Option<String>) {
    let View::Logs(l) = st.top() else {
        panic!("log view expected")
    };
    let text = |i: usize| l.buffer.get(i).map(|line| line.text.to_string());
    let top = l.displayed().get(l.top).and_then(|&i| text(i));
    (top.unwrap_or_default(), l.current_match.and_then(text))
}

#[test]
fn scrolled_back_the_log_view_keeps_its_lines_while_the_oldest_drop() {
    let mut st = state(false);
    let stream = open_logs_with_ring(&mut st, 100);
    numbered(&mut st, stream, &["line"], 0, 100);
    act(&mut st, Action::Search);
    typed(&mut st, "line 75");
    key(&mut st, "enter");
    // The match is centred in the page of 20: the top line is 10 before it.
    assert_eq!(
        top_and_match(&st),
        ("line 65".into(), Some("line 75".into()))
    );
    numbered(&mut st, stream, &["line"], 100, 30);
    assert_eq!(
        top_and_match(&st),
        ("line 65".into(), Some("line 75".into())),
        "30 oldest lines dropped, the same lines shown"
    );
    numbered(&mut st, stream, &["line"], 130, 50);
    assert_eq!(
        top_and_match(&st),
        ("line 80".into(), None),
        "the top line and the match dropped: the oldest line left is on top"
    );
}

#[test]
fn with_only_matches_shown_the_top_line_stays_too() {
    let mut st = state(false);
    let stream = open_logs_with_ring(&mut st, 100);
    numbered(&mut st, stream, &["even", "odd"], 0, 100);
    act(&mut st, Action::Search);
    typed(&mut st, "even");
    key(&mut st, "enter");
    act(&mut st, Action::ToggleMatchesOnly);
    // 50 lines shown, a page of 20: one line up from the bottom shows even 58 on top.
    act(&mut st, Action::Up);
    assert_eq!(top_and_match(&st).0, "even 58");
    numbered(&mut st, stream, &["even", "odd"], 100, 10);
    assert_eq!(top_and_match(&st).0, "even 58");
}

#[test]
fn selection_follows_the_object_and_drives_stats() {
    let mut st = state(false);
    let fx = snapshot(&mut st, &src(), ResourceKind::Container, containers());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Stats(Some(k)) if k.id == "id-db"))
    );
    let fx = act(&mut st, Action::Down);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Stats(Some(k)) if k.id == "id-lonely"))
    );
    // A new snapshot where an earlier row sorts first: selection stays on "lonely".
    let mut rs = containers();
    rs.push(res(ResourceKind::Container, "alpha", None));
    let fx = snapshot(&mut st, &src(), ResourceKind::Container, rs);
    match st.top() {
        View::Table(t) => assert_eq!(t.selected_row().map(|r| r.name.as_str()), Some("lonely")),
        _ => unreachable!(),
    }
    assert!(fx.is_empty(), "same selection, no stats restart: {fx:?}");
}

#[test]
fn ctrl_c_always_quits() {
    let mut st = state(false);
    act(&mut st, Action::Filter);
    let fx = key(&mut st, "ctrl-c");
    assert!(fx.contains(&Effect::Quit));
}

#[test]
fn scale_asks_the_replica_count_and_zero_is_confirmed() {
    let mut st = state(false);
    command(&mut st, "services");
    let mut web = res(ResourceKind::Service, "web", Some("shop"));
    web.cells[2] = "2/3".into();
    web.facts.replicas = Some(Replicas {
        running: 2,
        desired: 3,
    });
    snapshot(&mut st, &src(), ResourceKind::Service, vec![web]);

    act(&mut st, Action::Scale);
    let Mode::Prompt(p) = &st.mode else {
        panic!("scale opens a prompt")
    };
    assert_eq!(p.input.text, "3", "pre-filled with the desired count");
    assert!(p.question.contains("2/3"), "{}", p.question);

    key(&mut st, "backspace");
    typed(&mut st, "x");
    key(&mut st, "enter");
    let Mode::Prompt(p) = &st.mode else {
        panic!("bad input keeps the prompt")
    };
    assert!(
        p.error
            .as_deref()
            .is_some_and(|e| e.contains("whole number"))
    );

    key(&mut st, "backspace");
    typed(&mut st, "5");
    let fx = key(&mut st, "enter");
    assert_eq!(
        acts(&fx),
        vec![("web".to_string(), ResourceAction::Scale(5))]
    );
    assert!(matches!(st.mode, Mode::Normal));

    // Scaling to zero takes capacity away: asks first.
    act(&mut st, Action::Scale);
    key(&mut st, "backspace");
    typed(&mut st, "0");
    let fx = key(&mut st, "enter");
    assert!(acts(&fx).is_empty());
    assert!(matches!(st.mode, Mode::Confirm(_)));
    let fx = key(&mut st, 'y');
    assert_eq!(
        acts(&fx),
        vec![("web".to_string(), ResourceAction::Scale(0))]
    );

    // Not offered on containers.
    command(&mut st, "containers");
    snapshot(&mut st, &src(), ResourceKind::Container, containers());
    act(&mut st, Action::Scale);
    assert!(matches!(st.mode, Mode::Normal));
    assert!(
        st.toast
            .as_ref()
            .is_some_and(|t| t.error && t.text.contains("not available"))
    );
}

#[test]
fn removing_a_stack_needs_its_name_typed() {
    let mut st = state(false);
    command(&mut st, "stacks");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Stack,
        vec![res(ResourceKind::Stack, "shop", None)],
    );
    act(&mut st, Action::Remove);
    assert!(matches!(&st.mode, Mode::Confirm(c) if c.typed.is_some()));
    // `y` is just a letter here.
    let fx = key(&mut st, 'y');
    assert!(acts(&fx).is_empty());
    let fx = key(&mut st, "enter");
    assert!(acts(&fx).is_empty(), "a wrong name removes nothing");
    assert!(st.toast.as_ref().is_some_and(|t| t.error));

    act(&mut st, Action::Remove);
    typed(&mut st, "shop");
    let fx = key(&mut st, "enter");
    assert_eq!(
        acts(&fx),
        vec![("shop".to_string(), ResourceAction::Remove)]
    );
}

#[test]
fn swarm_actions_are_refused_in_read_only_mode() {
    let mut st = state(true);
    command(&mut st, "nodes");
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Node,
        vec![res(ResourceKind::Node, "node-1", None)],
    );
    let fx = act(&mut st, Action::Drain);
    assert!(acts(&fx).is_empty());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::AuditRefused {
            action: ResourceAction::Drain,
            ..
        }
    )));
    let fx = act(&mut st, Action::Scale);
    assert!(fx.is_empty() || acts(&fx).is_empty());
    assert!(st.toast.as_ref().is_some_and(|t| t.error));
}

#[test]
fn a_source_that_is_not_a_manager_says_so_in_the_view() {
    let mut st = state(false);
    command(&mut st, "stacks");
    update(
        &mut st,
        Msg::Backend(BackendEvent::Unavailable {
            source: src(),
            kind: ResourceKind::Stack,
            reason: "This node is not a swarm manager.".into(),
        }),
    );
    assert_eq!(
        st.unavailable
            .get(&(src(), ResourceKind::Stack))
            .map(String::as_str),
        Some("This node is not a swarm manager.")
    );
    // Once it becomes a manager, the first snapshot clears the notice.
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Stack,
        vec![res(ResourceKind::Stack, "shop", None)],
    );
    assert!(st.unavailable.is_empty());
    assert_eq!(names(&st), vec!["shop"]);
}

fn kube_src() -> SourceId {
    SourceId::new("kube:prod")
}

fn kube_row(kind: ResourceKind, name: &str, id: &str, parent: Option<&str>) -> Resource {
    let mut r = res(kind, name, parent);
    r.key.source = kube_src();
    r.key.id = id.to_string();
    r
}

#[test]
fn enter_on_a_namespace_or_context_switches_the_source() {
    let mut st = state(true);
    command(&mut st, "pods");
    snapshot(
        &mut st,
        &kube_src(),
        ResourceKind::Pod,
        vec![kube_row(
            ResourceKind::Pod,
            "web-1",
            "shop/web-1",
            Some("web"),
        )],
    );
    assert_eq!(names(&st), ["web-1"]);
    command(&mut st, "ns");
    snapshot(
        &mut st,
        &kube_src(),
        ResourceKind::Namespace,
        vec![
            kube_row(ResourceKind::Namespace, "all", "", None),
            kube_row(ResourceKind::Namespace, "team-b", "team-b", None),
        ],
    );
    act(&mut st, Action::Down);
    // Switching the scope only changes what is viewed: allowed in read-only mode.
    let fx = act(&mut st, Action::Enter);
    let switched: Vec<&ResourceKey> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Switch(k) => Some(k),
            _ => None,
        })
        .collect();
    assert_eq!(switched.len(), 1);
    assert_eq!(switched[0].id, "team-b");
    assert!(acts(&fx).is_empty(), "no audited action");
    // The old scope's rows are gone at once; the new scope's arrive with its watches.
    assert!(st.data.values().all(|m| !m.contains_key(&kube_src())));

    // The runtime replaced the source by another context: its status moves over.
    update(
        &mut st,
        Msg::SourceSwitched {
            old: kube_src(),
            new: SourceId::new("kube:staging"),
        },
    );
    assert!(!st.sources.contains_key(&kube_src()));
    assert!(st.sources.contains_key(&SourceId::new("kube:staging")));
}

#[test]
fn deployment_scale_reads_ready_and_drills_into_its_pods() {
    let mut st = state(false);
    command(&mut st, "deploy");
    let mut web = kube_row(ResourceKind::Deployment, "web", "shop/web", Some("shop"));
    web.cells[1] = "web".into();
    web.cells[2] = "2/3".into();
    web.facts.replicas = Some(Replicas {
        running: 2,
        desired: 3,
    });
    snapshot(&mut st, &kube_src(), ResourceKind::Deployment, vec![web]);
    act(&mut st, Action::Scale);
    let Mode::Prompt(p) = &st.mode else {
        panic!("scale opens a prompt")
    };
    assert_eq!(p.input.text, "3", "pre-filled with the desired count");
    key(&mut st, "esc");

    snapshot(
        &mut st,
        &kube_src(),
        ResourceKind::Pod,
        vec![
            kube_row(ResourceKind::Pod, "web-a", "shop/web-a", Some("web")),
            kube_row(ResourceKind::Pod, "api-a", "shop/api-a", Some("api")),
        ],
    );
    act(&mut st, Action::Enter);
    assert_eq!(names(&st), ["web-a"], "a deployment's pods");
    snapshot(
        &mut st,
        &kube_src(),
        ResourceKind::PodContainer,
        vec![
            kube_row(
                ResourceKind::PodContainer,
                "app",
                "shop/web-a/app",
                Some("web-a"),
            ),
            kube_row(
                ResourceKind::PodContainer,
                "app",
                "shop/api-a/app",
                Some("api-a"),
            ),
        ],
    );
    act(&mut st, Action::Enter);
    assert_eq!(names(&st), ["app"], "a pod's containers");
    assert!(matches!(st.top(), View::Table(t) if t.rows[0].key.id == "shop/web-a/app"));
}

#[test]
fn toggle_previous_reopens_the_log_stream() {
    let mut st = state(false);
    command(&mut st, "pods");
    snapshot(
        &mut st,
        &kube_src(),
        ResourceKind::Pod,
        vec![kube_row(
            ResourceKind::Pod,
            "web-1",
            "shop/web-1",
            Some("web"),
        )],
    );
    let fx = act(&mut st, Action::Logs);
    let first = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs { stream, opts, .. } => Some((*stream, opts.previous)),
            _ => None,
        })
        .expect("OpenLogs");
    assert!(!first.1);
    let fx = key(&mut st, 'P');
    let again = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs {
                stream,
                opts,
                target,
            } => Some((*stream, opts.previous, target.id.clone())),
            _ => None,
        })
        .expect("reopened");
    assert!(again.0 != first.0, "a new stream id");
    assert!(again.1, "previous instance");
    assert_eq!(again.2, "shop/web-1");
    let fx = act(&mut st, Action::TogglePrevious);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::OpenLogs { opts, .. } if !opts.previous))
    );
}
