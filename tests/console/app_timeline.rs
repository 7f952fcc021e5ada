//! `:timeline`: entries from every source in one newest-first table, repeats dropped, the ring
//! bounded; `/` filters; Enter opens the resource's own view with its row selected.

use fleetdeck::app::Msg;
use fleetdeck::app::state::View;
use fleetdeck::app::update;
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, Resource, ResourceKey, ResourceKind, Severity, SourceId, TimelineEntry,
};

use crate::support::console::*;

fn docker() -> SourceId {
    SourceId::new("docker:local")
}

/// One "now" per test binary, so an entry built twice is the same entry.
static NOW: std::sync::LazyLock<jiff::Timestamp> = std::sync::LazyLock::new(jiff::Timestamp::now);

fn at(secs_ago: i64) -> jiff::Timestamp {
    *NOW - jiff::SignedDuration::from_secs(secs_ago)
}

fn entry(secs_ago: i64, name: &str, what: &str, severity: Severity) -> TimelineEntry {
    TimelineEntry {
        time: at(secs_ago),
        source: docker(),
        kind: Some(ResourceKind::Container),
        id: Some(format!("id-{name}")),
        name: name.into(),
        what: what.into(),
        detail: String::new(),
        severity,
    }
}

fn feed(st: &mut fleetdeck::app::AppState, entries: Vec<TimelineEntry>) {
    update(st, Msg::Backend(BackendEvent::Timeline(entries)));
}

fn container(name: &str) -> Resource {
    Resource {
        key: ResourceKey {
            source: docker(),
            kind: ResourceKind::Container,
            id: format!("id-{name}"),
        },
        name: name.into(),
        parent: None,
        health: Health::Ok,
        cells: vec![name.into()],
        created: None,
        labels: Default::default(),
        facts: Default::default(),
    }
}

/// (name, what) of the rows on top, in order.
fn shown(st: &fleetdeck::app::AppState) -> Vec<(String, String)> {
    let View::Table(t) = st.top() else {
        panic!("a table on top")
    };
    t.rows
        .iter()
        .map(|r| (r.name.clone(), r.cells[5].clone()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn newest_first_across_sources_without_repeats() {
    let mut st = state(false);
    feed(
        &mut st,
        vec![
            entry(30, "web", "start", Severity::Info),
            entry(10, "web", "die", Severity::Error),
        ],
    );
    let mut kube = entry(20, "api-7", "Warning BackOff", Severity::Warning);
    kube.source = SourceId::new("kube:test");
    kube.kind = Some(ResourceKind::Pod);
    kube.id = Some("default/api-7".into());
    // A reconnect replays what was already seen: kept once.
    feed(
        &mut st,
        vec![kube, entry(10, "web", "die", Severity::Error)],
    );
    command(&mut st, "tl");
    assert_eq!(top_table(&st).0, ResourceKind::Timeline);
    assert_eq!(
        shown(&st),
        pairs(&[
            ("web", "die"),
            ("api-7", "Warning BackOff"),
            ("web", "start")
        ])
    );
    // A live entry shows at the next tick at the latest (floods refresh the view at most
    // every 200 ms).
    feed(&mut st, vec![entry(1, "db", "oom", Severity::Error)]);
    update(&mut st, Msg::Tick);
    assert_eq!(shown(&st)[0], ("db".to_string(), "oom".to_string()));
    let screen = draw(&mut st, 120, 12);
    assert!(screen.contains("Timeline"), "{screen}");
    assert!(screen.contains("kube:test"), "{screen}");
}

#[test]
fn the_ring_keeps_the_newest_arrivals() {
    let mut st = state(false);
    st.timeline = fleetdeck::timeline::Timeline::new(2);
    for (i, n) in ["a", "b", "c"].into_iter().enumerate() {
        feed(
            &mut st,
            vec![entry(60 - i as i64, n, "die", Severity::Error)],
        );
    }
    command(&mut st, "timeline");
    assert_eq!(names(&st), ["c", "b"]);
}

#[test]
fn filter_then_enter_opens_the_container_selected() {
    let mut st = state(false);
    snapshot(
        &mut st,
        &docker(),
        ResourceKind::Container,
        vec![container("api"), container("db"), container("web")],
    );
    feed(
        &mut st,
        vec![
            entry(30, "web", "kill", Severity::Warning),
            entry(20, "db", "die", Severity::Error),
            entry(10, "api", "start", Severity::Info),
        ],
    );
    command(&mut st, "timeline");
    typed(&mut st, "/die<enter>");
    assert_eq!(shown(&st), pairs(&[("db", "die")]));
    key(&mut st, "enter");
    assert_eq!(top_table(&st), (ResourceKind::Container, None));
    let View::Table(t) = st.top() else { panic!() };
    assert_eq!(t.selected_row().unwrap().name, "db");
    // Esc comes back to the timeline.
    key(&mut st, "esc");
    assert_eq!(top_table(&st).0, ResourceKind::Timeline);
}

#[test]
fn enter_selects_a_row_listed_later_and_audit_entries_by_name() {
    let mut st = state(false);
    let mut audited = entry(5, "web", "restart", Severity::Info);
    audited.id = None;
    feed(
        &mut st,
        vec![entry(9, "db", "die", Severity::Error), audited],
    );
    command(&mut st, "tl");
    // db: its container list is not loaded yet; the row is selected when it arrives.
    key(&mut st, "down");
    key(&mut st, "enter");
    snapshot(
        &mut st,
        &docker(),
        ResourceKind::Container,
        vec![container("api"), container("db"), container("web")],
    );
    let View::Table(t) = st.top() else { panic!() };
    assert_eq!(t.selected_row().unwrap().name, "db");
    // web was named by the audit log (no id): found by its name among the rows known.
    key(&mut st, "esc");
    key(&mut st, "up");
    key(&mut st, "enter");
    let View::Table(t) = st.top() else { panic!() };
    assert_eq!(t.kind, ResourceKind::Container);
    assert_eq!(t.selected_row().unwrap().name, "web");
}
