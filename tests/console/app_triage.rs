//! `:triage`: problems from every source's rows, worst first; Enter opens the resource in its
//! own view; the header badge counts them on every view; a fixed problem leaves.

use fleetdeck::app::state::View;
use fleetdeck::model::{
    CheckStatus, ContainerFacts, Health, Replicas, Resource, ResourceKey, ResourceKind, RowFacts,
    SourceId, SourceStatus,
};

use crate::support::console::*;

fn docker() -> SourceId {
    SourceId::new("docker:local")
}

fn ago(secs: i64) -> Option<jiff::Timestamp> {
    Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs))
}

fn row(source: &SourceId, kind: ResourceKind, name: &str, health: Health) -> Resource {
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind,
            id: format!("{name}-id"),
        },
        name: name.into(),
        parent: None,
        health,
        cells: vec![String::new(); kind.spec().columns.len()],
        created: ago(3 * 3600),
        labels: Default::default(),
        facts: RowFacts::default(),
    }
}

fn container(name: &str, f: ContainerFacts) -> Resource {
    let mut r = row(&docker(), ResourceKind::Container, name, Health::Ok);
    r.cells[0] = name.into();
    r.facts.container = Some(Box::new(f));
    r
}

fn containers(fixed: bool) -> Vec<Resource> {
    vec![
        container(
            "crashy",
            ContainerFacts {
                restarting: !fixed,
                running: fixed,
                restarts: 7,
                exit_code: Some(3),
                started_at: ago(86400),
                finished_at: ago(300),
                ..Default::default()
            },
        ),
        container(
            "batch",
            ContainerFacts {
                exit_code: Some(1),
                finished_at: ago(2 * 86400),
                ..Default::default()
            },
        ),
        container(
            "web",
            ContainerFacts {
                running: true,
                health: Some(CheckStatus::Unhealthy),
                health_output: "wget: server returned error: 503".into(),
                started_at: ago(3600),
                ..Default::default()
            },
        ),
        container(
            "db",
            ContainerFacts {
                running: true,
                started_at: ago(3600),
                ..Default::default()
            },
        ),
    ]
}

fn with_problems() -> fleetdeck::app::AppState {
    let mut st = bare_state();
    status(
        &mut st,
        &docker(),
        SourceStatus::Connected("Docker 28.5 · API 1.51".into()),
    );
    snapshot(
        &mut st,
        &docker(),
        ResourceKind::Container,
        containers(false),
    );
    let mut svc = row(
        &docker(),
        ResourceKind::Service,
        "shop_api",
        Health::Pending,
    );
    svc.facts.replicas = Some(Replicas {
        running: 1,
        desired: 3,
    });
    snapshot(&mut st, &docker(), ResourceKind::Service, vec![svc]);
    let kube = SourceId::new("kube:prod");
    let mut pod = row(&kube, ResourceKind::Pod, "api-7d9f", Health::Failed);
    pod.cells[3] = "CrashLoopBackOff".into();
    pod.created = ago(10 * 60);
    snapshot(&mut st, &kube, ResourceKind::Pod, vec![pod]);
    st
}

#[test]
fn triage_lists_problems_worst_first_then_newest() {
    let mut st = with_problems();
    command(&mut st, "triage");
    assert_eq!(top_table(&st).0, ResourceKind::Triage);
    assert_eq!(
        names(&st),
        ["crashy", "api-7d9f", "web", "shop_api", "batch"]
    );
    insta::assert_snapshot!(draw(&mut st, 120, 12));
}

#[test]
fn triage_watches_the_kinds_problems_come_from() {
    let mut st = bare_state();
    command(&mut st, "!");
    assert_eq!(top_table(&st).0, ResourceKind::Triage);
    let wanted = st.wanted_kinds();
    for k in fleetdeck::triage::KINDS {
        assert!(wanted.contains(k), "{k:?}");
    }
    command(&mut st, "incidents");
    assert_eq!(top_table(&st).0, ResourceKind::Triage);
}

#[test]
fn enter_opens_the_resource_selected_in_its_own_view() {
    let mut st = with_problems();
    command(&mut st, "triage");
    key(&mut st, "down");
    key(&mut st, "down");
    key(&mut st, "enter");
    let View::Table(t) = st.top() else {
        panic!("a table")
    };
    assert_eq!(t.kind, ResourceKind::Container);
    assert_eq!(t.selected_row().unwrap().name, "web");
    key(&mut st, "esc");
    assert_eq!(top_table(&st).0, ResourceKind::Triage);
}

#[test]
fn the_badge_shows_on_other_views_and_a_fixed_problem_leaves() {
    let mut st = with_problems();
    command(&mut st, "containers");
    let frame = draw(&mut st, 100, 8);
    assert!(frame.contains("! 5 problems"), "{frame}");
    snapshot(
        &mut st,
        &docker(),
        ResourceKind::Container,
        containers(true),
    );
    command(&mut st, "triage");
    assert_eq!(names(&st), ["api-7d9f", "web", "shop_api", "batch"]);
    assert!(draw(&mut st, 100, 8).contains("! 4 problems"));
}

#[test]
fn actions_from_triage_act_on_the_resource() {
    let mut st = with_problems();
    command(&mut st, "triage");
    let fx = key(&mut st, 'r');
    assert_eq!(
        acts_with_keys(&fx),
        [(
            ResourceKey {
                source: docker(),
                kind: ResourceKind::Container,
                id: "crashy-id".into(),
            },
            "crashy".to_string(),
            fleetdeck::model::ResourceAction::Restart,
        )]
    );
    let fx = key(&mut st, 'l');
    assert!(
        fx.iter().any(|e| matches!(
            e,
            fleetdeck::app::Effect::OpenLogs { target, .. } if target.id == "crashy-id"
        )),
        "{fx:?}"
    );
}

#[test]
fn the_problem_kinds_are_watched_from_any_view_unless_turned_off() {
    let mut st = bare_state();
    command(&mut st, "containers");
    let wanted = st.wanted_kinds();
    for k in fleetdeck::triage::KINDS {
        assert!(wanted.contains(k), "watched by default: {k:?}");
    }
    st.settings.config.triage.watch_always = false;
    assert!(!st.wanted_kinds().contains(&ResourceKind::Pod));
    command(&mut st, "triage");
    assert!(st.wanted_kinds().contains(&ResourceKind::Pod));
}

fn crashing(name: &str, restarts: u64) -> Resource {
    container(
        name,
        ContainerFacts {
            restarting: true,
            restarts,
            exit_code: Some(1),
            started_at: ago(60),
            finished_at: ago(5),
            ..Default::default()
        },
    )
}

#[test]
fn a_new_problem_is_announced_once_but_not_the_initial_ones() {
    let mut st = with_problems();
    command(&mut st, "containers");
    // The problems the first lists held are not news.
    assert!(st.toast.is_none(), "{}", toast(&st));
    let mut rows = containers(false);
    rows.push(crashing("web-1", 3));
    snapshot(&mut st, &docker(), ResourceKind::Container, rows.clone());
    let t = toast(&st);
    assert!(
        t.starts_with("new problem: web-1 ") && t.ends_with(" — :triage"),
        "{t}"
    );
    assert!(st.toast.as_ref().is_some_and(|t| t.error), "critical: red");
    // The same problem again (a later list, more restarts) is not told twice.
    st.toast = None;
    *rows.last_mut().unwrap() = crashing("web-1", 4);
    snapshot(&mut st, &docker(), ResourceKind::Container, rows.clone());
    assert!(st.toast.is_none(), "{}", toast(&st));
    // Several at once: one toast.
    rows.extend([crashing("web-2", 3), crashing("web-3", 3)]);
    snapshot(&mut st, &docker(), ResourceKind::Container, rows);
    let t = toast(&st);
    assert!(t.starts_with("2 new problems: web-"), "{t}");
}

#[test]
fn no_announcement_while_on_triage() {
    let mut st = with_problems();
    command(&mut st, "triage");
    st.toast = None;
    let mut rows = containers(false);
    rows.push(crashing("web-1", 3));
    snapshot(&mut st, &docker(), ResourceKind::Container, rows);
    assert!(st.toast.is_none(), "{}", toast(&st));
    assert!(names(&st).contains(&"web-1".to_string()));
}

#[test]
fn a_list_still_loading_is_not_news_when_it_completes() {
    let mut st = bare_state();
    // A large engine's list first arrives without its inspects (no restarts known yet).
    let loading: Vec<Resource> = vec![container("web-1", ContainerFacts::default())];
    fleetdeck::app::update(
        &mut st,
        fleetdeck::app::Msg::Backend(fleetdeck::backend::BackendEvent::Incomplete {
            source: docker(),
            kind: ResourceKind::Container,
            resources: Some(loading),
            note: "loading".into(),
            loading: true,
        }),
    );
    snapshot(
        &mut st,
        &docker(),
        ResourceKind::Container,
        vec![crashing("web-1", 3)],
    );
    assert!(st.toast.is_none(), "{}", toast(&st));
}

/// Rows of one kind from two engines carry a SOURCE column (never silently merged); with one
/// source the column is not there; `/` matches the source too.
#[test]
fn a_kind_shown_from_two_sources_gets_a_source_column() {
    let mut st = bare_state();
    let (a, b) = (
        SourceId::new("docker:edge-a"),
        SourceId::new("docker:edge-b"),
    );
    let named = |source: &SourceId, name: &str| {
        let mut r = row(source, ResourceKind::Container, name, Health::Ok);
        r.cells[0] = name.into();
        r
    };
    snapshot(&mut st, &a, ResourceKind::Container, vec![named(&a, "web")]);
    let screen = draw(&mut st, 160, 12);
    assert!(!screen.contains("SOURCE"), "{screen}");
    snapshot(&mut st, &b, ResourceKind::Container, vec![named(&b, "web")]);
    let screen = draw(&mut st, 160, 12);
    assert!(screen.contains("SOURCE"), "{screen}");
    assert!(screen.contains("docker:edge-a"), "{screen}");
    assert!(screen.contains("docker:edge-b"), "{screen}");
    typed(&mut st, "/edge-b<enter>");
    let screen = draw(&mut st, 160, 12);
    assert!(screen.contains("docker:edge-b"), "{screen}");
    assert!(!screen.contains("docker:edge-a"), "{screen}");
}
