//! The device table and the fleet dialogs rendered with TestBackend, compared with insta
//! snapshots (`INSTA_UPDATE=always` after an intended change).

use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, HostKeyProblem, HostKeyState, Resource, ResourceKey, ResourceKind, SourceId,
    SourceStatus,
};

use crate::support::console::*;

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
            .collect::<fleetdeck::model::Labels>(),
        facts: Default::default(),
    }
}

fn state() -> AppState {
    let mut st = bare_state();
    status(
        &mut st,
        &src(),
        SourceStatus::Connected("1/3 devices up".into()),
    );
    snapshot(
        &mut st,
        &src(),
        ResourceKind::Device,
        vec![
            {
                let mut d = device("gw-01", "up", Health::Ok, true, &[("sandboxes", "app,db")]);
                d.facts.sandboxes = vec!["app".into(), "db".into()];
                d
            },
            {
                let mut d = device(
                    "gw-02",
                    &format!("unknown key {FP}"),
                    Health::Failed,
                    false,
                    &[("host_key", "unknown"), ("fingerprint", FP)],
                );
                d.facts.host_key = Some(Box::new(HostKeyProblem {
                    state: HostKeyState::Unknown,
                    fingerprint: FP.into(),
                }));
                d
            },
            device(
                "gw-03",
                "CHANGED key SHA256:Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHh5enp5eHh5enp5",
                Health::Failed,
                false,
                &[],
            ),
        ],
    );
    command(&mut st, "devices");
    st
}

#[test]
fn devices_160x24() {
    let mut st = state();
    insta::assert_snapshot!(draw(&mut st, 160, 24));
}

#[test]
fn accept_host_key_dialog_shows_the_fingerprint() {
    let mut st = state();
    key(&mut st, "down");
    key(&mut st, 'A');
    let screen = draw(&mut st, 120, 24);
    assert!(screen.contains(&format!("Presented key: {FP}")), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn sandbox_picker() {
    let mut st = state();
    key(&mut st, 'S');
    insta::assert_snapshot!(draw(&mut st, 100, 20));
}

// Updates over SSH (#6): the rollout and device-update tables, the update prompt and its
// confirmation, and the help on device updates.

fn ago(secs: i64) -> Option<jiff::Timestamp> {
    Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs))
}

fn rollout(cells: [&str; 11], health: Health, age_secs: i64) -> Resource {
    let mut cells: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
    cells.push(String::new());
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::Rollout,
            id: cells[0].clone(),
        },
        name: cells[0].clone(),
        parent: None,
        health,
        cells,
        created: ago(age_secs),
        labels: Default::default(),
        facts: Default::default(),
    }
}

fn device_update(rollout: &str, cells: [&str; 6], health: Health, reason: &str) -> Resource {
    let mut cells: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
    // The ROLLOUT column, before LAST LINE.
    cells.insert(5, rollout.to_string());
    let mut labels = fleetdeck::model::Labels::new();
    if !reason.is_empty() {
        labels.insert("reason".to_string(), reason.to_string());
    }
    Resource {
        key: ResourceKey {
            source: src(),
            kind: ResourceKind::DeviceUpdate,
            id: cells[0].clone(),
        },
        name: cells[0].clone(),
        parent: Some(rollout.into()),
        health,
        cells,
        created: None,
        labels,
        facts: Default::default(),
    }
}

fn with_rollouts() -> AppState {
    let mut st = state();
    let rollouts = vec![
        rollout(
            [
                "20261123-153012",
                "release-2026.11.mender",
                "running",
                "12",
                "6",
                "3",
                "2",
                "1",
                "0",
                "3",
                "2 failures",
            ],
            Health::Pending,
            310,
        ),
        rollout(
            [
                "20261122-101500",
                "https://artifacts.example.com/appliance-2026.10.mender",
                "stopped (failure limit)",
                "4",
                "2",
                "0",
                "1",
                "0",
                "1",
                "2",
                "1 failure",
            ],
            Health::Failed,
            26 * 3600,
        ),
        rollout(
            [
                "20261120-090000",
                "release-2026.10.mender",
                "done",
                "20",
                "0",
                "0",
                "20",
                "0",
                "0",
                "5",
                "10%",
            ],
            Health::Ok,
            3 * 86400 + 60,
        ),
    ];
    let r = "20261123-153012";
    let art = "release-2026.11.mender";
    let updates = vec![
        device_update(
            r,
            [
                "gw-01",
                "installing",
                "██████░░░░ 60%",
                "1m05s",
                art,
                "Installing Artifact of size 81264640... 60%",
            ],
            Health::Pending,
            "",
        ),
        device_update(
            r,
            [
                "gw-02",
                "rebooting",
                "██████████ 100%",
                "2m40s",
                art,
                "waiting for gw-02 to come back",
            ],
            Health::Pending,
            "",
        ),
        device_update(
            r,
            [
                "gw-03",
                "failed",
                "███░░░░░░░ 30%",
                "0m48s",
                art,
                "verify failed: appliance.service is inactive",
            ],
            Health::Failed,
            "verify failed: appliance.service is inactive",
        ),
        device_update(
            r,
            [
                "gw-04",
                "rolled back",
                "██████████ 100%",
                "6m12s",
                art,
                "rolled back: no commit before the timeout",
            ],
            Health::Failed,
            "no commit before the timeout",
        ),
        device_update(
            r,
            [
                "gw-05",
                "committed",
                "██████████ 100%",
                "4m02s",
                art,
                "committed",
            ],
            Health::Ok,
            "",
        ),
        device_update(
            r,
            ["gw-06", "pending", "░░░░░░░░░░ 0%", "", art, ""],
            Health::Pending,
            "",
        ),
    ];
    for (kind, resources) in [
        (ResourceKind::Rollout, rollouts),
        (ResourceKind::DeviceUpdate, updates),
    ] {
        snapshot(&mut st, &src(), kind, resources);
    }
    st
}

#[test]
fn rollouts_80x24() {
    let mut st = with_rollouts();
    command(&mut st, "rollouts");
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn rollouts_160x48() {
    let mut st = with_rollouts();
    command(&mut st, "rollouts");
    insta::assert_snapshot!(draw(&mut st, 160, 48));
}

#[test]
fn updates_of_a_rollout_80x24() {
    let mut st = with_rollouts();
    command(&mut st, "rollouts");
    // Sorted by name: the newest rollout is the last row.
    key(&mut st, "end");
    key(&mut st, "enter");
    let screen = draw(&mut st, 80, 24);
    assert!(screen.contains("Updates(20261123-153012)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn updates_160x48() {
    let mut st = with_rollouts();
    command(&mut st, "updates");
    insta::assert_snapshot!(draw(&mut st, 160, 48));
}

#[test]
fn update_prompt_with_an_option_error_80x24() {
    let mut st = state();
    key(&mut st, 'U');
    typed(
        &mut st,
        "https://artifacts.example.com/appliance-2026.11.mender -f 0",
    );
    key(&mut st, "enter");
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}

#[test]
fn update_confirmation_of_the_shown_devices_80x24() {
    let mut st = state();
    command(&mut st, "devices prod");
    key(&mut st, 'U');
    typed(
        &mut st,
        "https://artifacts.example.com/releases/appliance-2026.11.mender -p 2 -f 50%",
    );
    key(&mut st, "enter");
    let screen = draw(&mut st, 80, 24);
    assert!(
        screen.contains("[y] yes"),
        "the keys stay in view: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn help_on_device_updates_80x40() {
    let mut st = with_rollouts();
    command(&mut st, "updates");
    key(&mut st, '?');
    insta::assert_snapshot!(draw(&mut st, 80, 40));
}

#[test]
fn quit_while_updating_80x24() {
    let mut st = with_rollouts();
    update(
        &mut st,
        Msg::Backend(BackendEvent::Work {
            source: src(),
            work: vec![fleetdeck::model::Work {
                key: ResourceKey {
                    source: src(),
                    kind: ResourceKind::Rollout,
                    id: "20261123-153012".into(),
                },
                summary: "2 device(s) mid-update, 3 to start".into(),
            }],
        }),
    );
    key(&mut st, 'q');
    insta::assert_snapshot!(draw(&mut st, 80, 24));
}
