//! The reducer with device rows: `S` resolves per kind, the sandbox picker, `:run` targets and
//! confirmation, read-only refusal, the passphrase dialog, accepting a host key, help truth.

use fleetdeck::app::state::{Mode, View};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::backend::changes::RowChanges;
use fleetdeck::model::{
    Health, HostKeyProblem, HostKeyState, PassphraseNeeded, Resource, ResourceAction, ResourceKey,
    ResourceKind, SourceId,
};

use crate::support::console::*;

fn src() -> SourceId {
    SourceId::new("fleet:test")
}

fn device(name: &str, tags: &[&str], extra: &[(&str, &str)]) -> Resource {
    let mut cells = vec![String::new(); ResourceKind::Device.spec().columns.len()];
    cells[0] = name.into();
    cells[1] = "up".into();
    let mut labels = fleetdeck::model::Labels::new();
    labels.insert("tags".to_string(), tags.join(","));
    for (k, v) in extra {
        labels.insert(k.to_string(), v.to_string());
    }
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::Device,
            id: name.into(),
        },
        name: name.into(),
        parent: None,
        health: Health::Ok,
        cells,
        created: None,
        labels,
        facts: Default::default(),
    }
}

fn devices() -> Vec<Resource> {
    vec![
        {
            let mut d = device("gw-1", &["prod"], &[("sandboxes", "app,db")]);
            d.facts.sandboxes = vec!["app".into(), "db".into()];
            d
        },
        device("gw-2", &["prod"], &[]),
        device("lab-1", &["lab"], &[]),
    ]
}

fn on_devices(read_only: bool) -> AppState {
    let mut st = state(read_only);
    snapshot(&mut st, &src(), ResourceKind::Device, devices());
    command(&mut st, "devices");
    st
}

#[test]
fn tag_filter_from_the_command_bar() {
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Device, devices());
    command(&mut st, "devices prod");
    let View::Table(t) = st.top() else { panic!() };
    let names: Vec<&str> = t.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["gw-1", "gw-2"]);
}

#[test]
fn shift_s_is_sandbox_on_devices_and_scale_on_services() {
    let mut st = on_devices(false);
    key(&mut st, 'S');
    let Mode::Pick(p) = &st.mode else {
        panic!("sandbox picker expected")
    };
    assert_eq!(p.options, ["app", "db"]);
    key(&mut st, "down");
    let fx = key(&mut st, "enter");
    let shell = fx.iter().find_map(|e| match e {
        Effect::Shell(k) => Some(k.clone()),
        _ => None,
    });
    assert_eq!(shell.unwrap().id, "gw-1/db");
    assert!(matches!(st.mode, Mode::Normal));

    // A device without sandboxes says so.
    key(&mut st, "down");
    key(&mut st, 'S');
    assert!(matches!(st.mode, Mode::Normal));
    assert!(st.toast.as_ref().unwrap().text.contains("no sandboxes"));

    // On services the same key is scale.
    let mut svc = Resource {
        key: ResourceKey {
            source: SourceId::new("docker:x"),
            kind: ResourceKind::Service,
            id: "s1".into(),
        },
        ..device("web", &[], &[])
    };
    svc.cells = vec![String::new(); ResourceKind::Service.spec().columns.len()];
    svc.cells[2] = "1/1".into();
    snapshot(&mut st, &src(), ResourceKind::Service, vec![svc]);
    command(&mut st, "services");
    key(&mut st, 'S');
    assert!(matches!(st.mode, Mode::Prompt(_)), "scale dialog");
}

#[test]
fn help_shows_the_action_s_does_here() {
    let st = on_devices(false);
    let theme = st.settings.theme.clone();
    let text: Vec<String> = fleetdeck::ui::help::lines(&st, &theme)
        .iter()
        .map(|l| l.to_string())
        .collect();
    let s_line = text
        .iter()
        .find(|l| l.trim_start().starts_with("S "))
        .unwrap();
    assert!(s_line.contains("sandbox"), "{s_line}");
    assert!(!text.iter().any(|l| l.contains("Scale:")), "{text:#?}");
    assert!(
        text.iter()
            .any(|l| l.contains("accept") || l.contains("Trust"))
    );
    assert!(text.iter().any(|l| l.contains(":run CMD")));
}

#[test]
fn run_on_selection_or_on_the_filtered_set_confirmed() {
    // Unfiltered: the selected device only.
    let mut st = on_devices(false);
    command(&mut st, "run uptime");
    let Mode::ConfirmRun(c) = &st.mode else {
        panic!("confirm expected: {:?}", st.toast.as_ref().map(|t| &t.text))
    };
    assert_eq!(c.targets.len(), 1);
    assert_eq!(c.command, "uptime");
    key(&mut st, 'n');
    assert!(matches!(st.mode, Mode::Normal));

    // Filtered by tag: every device shown.
    let mut st = state(false);
    snapshot(&mut st, &src(), ResourceKind::Device, devices());
    command(&mut st, "devices prod");
    command(&mut st, "run df -h /");
    assert!(
        matches!(st.mode, Mode::ConfirmRun(_)),
        "{:?}",
        st.toast.as_ref().map(|t| &t.text)
    );
    let fx = key(&mut st, 'y');
    let (targets, cmd) = fx
        .iter()
        .find_map(|e| match e {
            Effect::RunCommand { targets, command } => Some((targets.clone(), command.clone())),
            _ => None,
        })
        .expect("run effect");
    assert_eq!(cmd, "df -h /");
    let names: Vec<&str> = targets.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["gw-1", "gw-2"]);
    let View::Table(t) = st.top() else { panic!() };
    assert_eq!(t.kind, ResourceKind::RunResult, "results view opened");

    // Results arrive as rows; Enter describes one from the row itself.
    let row = fleetdeck::backend::fleet::run::result_row(
        &targets[0].0,
        "gw-1",
        "df -h /",
        Some(&fleetdeck::backend::fleet::run::RunOutcome {
            key: targets[0].0.clone(),
            name: "gw-1".into(),
            result: Ok((0, "Filesystem 42%\n".into())),
            secs: 0.2,
        }),
    );
    snapshot(&mut st, &src(), ResourceKind::RunResult, vec![row]);
    let fx = key(&mut st, "enter");
    assert!(fx.is_empty(), "no backend call: {fx:?}");
    let View::Describe(d) = st.top() else {
        panic!()
    };
    let text = d.text.clone().unwrap().unwrap();
    assert!(text.contains("Filesystem 42%"), "{text}");
}

#[test]
fn run_is_refused_and_audited_in_read_only_mode() {
    let mut st = state(true);
    snapshot(&mut st, &src(), ResourceKind::Device, devices());
    command(&mut st, "devices prod");
    let fx = command(&mut st, "run reboot");
    assert!(matches!(st.mode, Mode::Normal), "no dialog");
    let refused: Vec<&str> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::AuditRefused { name, action, .. } => {
                assert_eq!(action, &ResourceAction::Run("reboot".into()));
                Some(name.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(refused, ["gw-1", "gw-2"]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::RunCommand { .. })));
}

/// Devices whose last poll saw an unknown key (gw-1), a changed key (gw-2), none (lab-1).
fn on_devices_with_host_keys(read_only: bool) -> AppState {
    let mut st = state(read_only);
    let host_key = |name: &str, state: HostKeyState, fingerprint: &str| {
        let mut d = device(name, &["prod"], &[]);
        d.facts.host_key = Some(Box::new(HostKeyProblem {
            state,
            fingerprint: fingerprint.into(),
        }));
        d
    };
    let rows = vec![
        host_key("gw-1", HostKeyState::Unknown, "SHA256:seen-by-the-poll"),
        host_key("gw-2", HostKeyState::Changed, "SHA256:other"),
        device("lab-1", &["lab"], &[]),
    ];
    snapshot(&mut st, &src(), ResourceKind::Device, rows);
    command(&mut st, "devices");
    st
}

/// H2: the dialog shows the fingerprint the poll saw and the action carries that very
/// fingerprint (the backend trusts that key only; the audit label names it).
#[test]
fn accept_host_key_needs_the_name_typed_and_read_only_refuses() {
    let mut st = on_devices_with_host_keys(false);
    key(&mut st, 'A');
    let Mode::Confirm(c) = &st.mode else {
        panic!("typed confirmation expected")
    };
    let confirmed = ResourceAction::AcceptHostKey("SHA256:seen-by-the-poll".into());
    assert_eq!(c.action, confirmed);
    assert_eq!(
        c.detail.as_deref(),
        Some("Presented key: SHA256:seen-by-the-poll")
    );
    assert!(c.typed.is_some());
    assert_eq!(confirmed.label(), "accept host key SHA256:seen-by-the-poll");
    typed(&mut st, "gw-1");
    let fx = key(&mut st, "enter");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Act { action, name, .. } if name == "gw-1" && *action == confirmed
    )));

    let mut st = on_devices_with_host_keys(true);
    let fx = key(&mut st, 'A');
    assert!(fx.iter().any(|e| matches!(e, Effect::AuditRefused { .. })));
    assert!(matches!(st.mode, Mode::Normal));
}

/// No unknown key seen (a changed one, or none yet): nothing to accept, no dialog, no action.
#[test]
fn accept_host_key_without_an_unknown_key_offers_nothing() {
    for (down, why) in [
        (
            1,
            "its host key CHANGED; fleetdeck never accepts a changed key",
        ),
        (2, "no unknown host key is recorded for it (yet)"),
    ] {
        let mut st = on_devices_with_host_keys(false);
        for _ in 0..down {
            key(&mut st, "down");
        }
        let fx = key(&mut st, 'A');
        assert!(matches!(st.mode, Mode::Normal), "no dialog");
        assert!(!fx.iter().any(|e| matches!(e, Effect::Act { .. })));
        let toast = st
            .toast
            .as_ref()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        assert!(toast.ends_with(why), "{toast}");
    }
}

#[test]
fn passphrase_needed_opens_a_masked_prompt_once_per_attempt() {
    let mut st = on_devices(false);
    let needs = |failures: u32| {
        let mut d = device("gw-1", &[], &[]);
        d.facts.passphrase = Some(Box::new(PassphraseNeeded {
            key_path: "/k/id_ed25519".into(),
            failures,
        }));
        vec![d]
    };
    snapshot(&mut st, &src(), ResourceKind::Device, needs(0));
    let Mode::Secret(p) = &st.mode else {
        panic!("passphrase prompt expected")
    };
    assert_eq!(p.key_path, "/k/id_ed25519");
    typed(&mut st, "hunter2");
    let fx = key(&mut st, "enter");
    let provided = fx.iter().find_map(|e| match e {
        Effect::ProvidePassphrase {
            key_path,
            passphrase,
        } => Some((key_path.clone(), passphrase.0.clone(), format!("{e:?}"))),
        _ => None,
    });
    let (path, pass, debug) = provided.expect("passphrase effect");
    assert_eq!(
        (path.to_str().unwrap(), pass.as_str()),
        ("/k/id_ed25519", "hunter2")
    );
    assert!(!debug.contains("hunter2"), "never in Debug output: {debug}");
    // Same attempt again: not asked twice.
    snapshot(&mut st, &src(), ResourceKind::Device, needs(0));
    assert!(matches!(st.mode, Mode::Normal));
    // The answer was wrong: asked again.
    snapshot(&mut st, &src(), ResourceKind::Device, needs(1));
    assert!(matches!(st.mode, Mode::Secret(_)));
}

/// The devices watch sends a row once, when it changes: a question that arrives while the
/// command bar is open is asked when it closes, not lost.
#[test]
fn passphrase_needed_while_typing_a_command_is_asked_afterwards() {
    let mut st = on_devices(false);
    snapshot(&mut st, &src(), ResourceKind::Device, devices());
    key(&mut st, ':');
    let mut d = devices().remove(0);
    d.facts.passphrase = Some(Box::new(PassphraseNeeded {
        key_path: "/k/id_ed25519".into(),
        failures: 0,
    }));
    let changes = RowChanges {
        upserted: vec![d],
        removed: Vec::new(),
    };
    update(
        &mut st,
        Msg::Backend(BackendEvent::Changes {
            source: src(),
            kind: ResourceKind::Device,
            changes,
        }),
    );
    assert!(
        !matches!(st.mode, Mode::Secret(_)),
        "not over the command bar"
    );
    key(&mut st, "esc");
    let Mode::Secret(p) = &st.mode else {
        panic!("passphrase prompt expected once the command bar closed")
    };
    assert_eq!(p.key_path, "/k/id_ed25519");
}
