//! The reducer with port forwards (#15): `F` asks the port (the exposed ones listed, the first
//! pre-filled), `LOCAL:PORT` answers, read-only mode allows it; `:forwards` lists the rows and
//! `d` / `ctrl-d` close one after a confirmation; `d` still describes elsewhere.

use fleetdeck::app::state::{Mode, PromptFor, View};
use fleetdeck::app::{AppState, Effect};
use fleetdeck::model::{Health, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId};

use crate::support::console::*;

fn row(kind: ResourceKind, source: &str, name: &str, cells: &[&str], ports: &[u16]) -> Resource {
    let mut all = vec![String::new(); kind.spec().columns.len()];
    for (i, c) in cells.iter().enumerate() {
        all[i] = (*c).to_string();
    }
    let mut r = Resource {
        key: ResourceKey {
            source: SourceId::new(source),
            kind,
            id: format!("id-{name}"),
        },
        name: name.into(),
        parent: None,
        health: Health::Ok,
        cells: all,
        created: None,
        labels: Default::default(),
        facts: Default::default(),
    };
    r.facts.ports = ports.to_vec();
    r
}

fn on_containers(read_only: bool) -> AppState {
    let mut st = state(read_only);
    snapshot(
        &mut st,
        &SourceId::new("docker:local"),
        ResourceKind::Container,
        vec![row(
            ResourceKind::Container,
            "docker:local",
            "web",
            &["web", "nginx", "running", "Up 1 minute"],
            &[80, 443],
        )],
    );
    command(&mut st, "containers");
    st
}

/// The console on the forwards view (opened as `:command`) with one forward, 127.0.0.1:8080.
fn on_forwards(command_name: &str) -> AppState {
    let mut st = state(false);
    snapshot(
        &mut st,
        &SourceId::new("forwards"),
        ResourceKind::Forward,
        vec![forward_row("127.0.0.1:8080")],
    );
    command(&mut st, command_name);
    st
}

fn forward_row(local: &str) -> Resource {
    let mut r = row(
        ResourceKind::Forward,
        "forwards",
        local,
        &[
            local,
            "web:80 (127.0.0.1:32768)",
            "docker:local",
            "0/3",
            "1.5K",
        ],
        &[],
    );
    r.key.id = "7".into();
    r
}

#[test]
fn shift_f_asks_the_port_listing_the_exposed_ones() {
    let mut st = on_containers(false);
    key(&mut st, 'F');
    let Mode::Prompt(p) = &st.mode else {
        panic!("a prompt")
    };
    assert_eq!(p.purpose, PromptFor::Forward);
    assert!(p.question.contains("exposes 80, 443"), "{}", p.question);
    assert_eq!(p.input.text, "80", "the first port pre-filled");
    let fx = key(&mut st, "enter");
    assert_eq!(
        acts(&fx),
        [(
            "web".to_string(),
            ResourceAction::Forward {
                remote: 80,
                local: 0
            }
        )],
        "no confirmation: nothing changes on the container"
    );
    assert!(matches!(st.mode, Mode::Normal));
}

#[test]
fn local_colon_remote_and_a_bad_answer() {
    let mut st = on_containers(false);
    key(&mut st, 'F');
    typed(&mut st, "<ctrl-u>web<enter>");
    let Mode::Prompt(p) = &st.mode else {
        panic!("the prompt stays open")
    };
    assert!(p.error.as_deref().unwrap_or("").contains("8080:80"));
    let fx = typed(&mut st, "<ctrl-u>8080:443<enter>");
    assert_eq!(
        acts(&fx)[0].1,
        ResourceAction::Forward {
            remote: 443,
            local: 8080
        }
    );
}

#[test]
fn read_only_mode_still_forwards() {
    let mut st = on_containers(true);
    key(&mut st, 'F');
    let fx = key(&mut st, "enter");
    assert_eq!(acts(&fx).len(), 1, "{}", toast(&st));
    assert!(!fx.iter().any(|e| matches!(e, Effect::AuditRefused { .. })));
}

#[test]
fn kinds_without_ports_say_so() {
    let mut st = state(false);
    snapshot(
        &mut st,
        &SourceId::new("docker:local"),
        ResourceKind::Image,
        vec![row(
            ResourceKind::Image,
            "docker:local",
            "nginx",
            &["nginx"],
            &[],
        )],
    );
    command(&mut st, "images");
    key(&mut st, 'F');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(
        toast(&st).contains("forward is not available"),
        "{}",
        toast(&st)
    );
}

#[test]
fn d_and_ctrl_d_close_a_forward_after_asking() {
    for k in ["d", "ctrl-d"] {
        let mut st = on_forwards("forwards");
        assert_eq!(names(&st), ["127.0.0.1:8080"]);
        key(&mut st, k);
        let Mode::Confirm(c) = &st.mode else {
            panic!("{k}: confirmation")
        };
        assert_eq!(c.action, ResourceAction::CloseForward);
        let fx = key(&mut st, 'y');
        let acted = acts_with_keys(&fx);
        assert_eq!(acted.len(), 1, "{k}");
        assert_eq!(acted[0].0.id, "7");
        assert_eq!(acted[0].2, ResourceAction::CloseForward);
    }
}

#[test]
fn d_still_describes_containers() {
    let mut st = on_containers(false);
    let fx = key(&mut st, 'd');
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Describe(_))),
        "{fx:?}"
    );
    assert!(matches!(st.top(), View::Describe(_)));
}

#[test]
fn the_forwards_view() {
    let mut st = on_forwards("pf");
    insta::assert_snapshot!(draw(&mut st, 110, 8));
}

#[test]
fn help_in_forwards_lists_d_as_close_and_f_elsewhere() {
    let mut st = on_forwards("forwards");
    key(&mut st, '?');
    let screen = draw(&mut st, 100, 60);
    assert!(screen.contains("d ctrl-d"), "{screen}");
    assert!(screen.contains("Close the port forward"), "{screen}");
    assert!(!screen.contains("Describe the selection"), "{screen}");

    let mut st = on_containers(false);
    key(&mut st, '?');
    let screen = draw(&mut st, 100, 60);
    assert!(screen.contains("Describe the selection"), "{screen}");
    assert!(screen.contains("Forward a local port"), "{screen}");
    assert!(!screen.contains("Close the port forward"), "{screen}");
}
