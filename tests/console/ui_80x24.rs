//! Every view, dialog and help screen at 80x24 (#14, "on the appliance itself"), in the two
//! terminals the console meets: a serial console or `LANG=C` with 16 colours (ASCII, classic
//! SGR; a colour grid follows the text) and a UTF-8 true-colour terminal. Drawn through the
//! binary's own output path (`support::screen`). One state with four sources, one of them
//! failing with a long error, fixed rows and times.

use fleetdeck::app::state::{Input, Mode, SecretPrompt};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, HostKeyProblem, HostKeyState, LogLine, Resource, ResourceKey, ResourceKind, Severity,
    SourceId, SourceStatus, StyledText, TimelineEntry, Work,
};

use crate::support::console::*;
use crate::support::screen::{self, Mode as Term};

const W: u16 = 80;
const H: u16 = 24;

fn docker() -> SourceId {
    SourceId::new("docker:local")
}
fn kube() -> SourceId {
    SourceId::new("kube:prod")
}
fn fleet() -> SourceId {
    SourceId::new("fleet:site-a")
}
fn mender() -> SourceId {
    SourceId::new("mender:hosted")
}

/// One "now" per test binary; every age is whole minutes or more, so the seconds the binary
/// runs do not change what is drawn.
static NOW: std::sync::LazyLock<jiff::Timestamp> = std::sync::LazyLock::new(jiff::Timestamp::now);

fn ago(secs: i64) -> Option<jiff::Timestamp> {
    Some(*NOW - jiff::SignedDuration::from_secs(secs))
}

/// A row of `kind` whose cells are `cells` (age columns are drawn from `age`).
fn row(
    src: &SourceId,
    kind: ResourceKind,
    parent: Option<&str>,
    health: Health,
    age: i64,
    cells: &[&str],
) -> Resource {
    assert_eq!(cells.len(), kind.spec().columns.len(), "{kind:?}");
    let name = kind
        .spec()
        .columns
        .iter()
        .position(|c| c.name == "NAME" || c.name == "DEVICE")
        .map_or(cells[0], |i| cells[i]);
    Resource {
        key: ResourceKey {
            source: src.clone(),
            kind,
            id: format!("{}-{name}", kind.name()),
        },
        name: name.into(),
        parent: parent.map(str::to_string),
        health,
        cells: cells.iter().map(|s| s.to_string()).collect(),
        created: ago(age),
        labels: Default::default(),
        facts: Default::default(),
    }
}

const FP: &str = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

/// Four sources, every kind with rows; kube:prod is reconnecting with a long error.
fn world() -> AppState {
    use Health::*;
    use ResourceKind as K;
    let mut st = bare_state();
    status(
        &mut st,
        &docker(),
        SourceStatus::Connected("Docker 27.3.1 · API 1.41 · default socket".into()),
    );
    status(
        &mut st,
        &kube(),
        SourceStatus::Reconnecting {
            error: "cannot reach https://10.0.0.1:6443: tls handshake failed: certificate \
                    has expired or is not yet valid (current time is after notAfter)"
                .into(),
            retry_in_secs: 8,
        },
    );
    status(
        &mut st,
        &fleet(),
        SourceStatus::Connected("2/3 devices up".into()),
    );
    status(
        &mut st,
        &mender(),
        SourceStatus::Connected("Mender hosted.mender.io".into()),
    );
    let d = &docker();
    let rows = |st: &mut AppState, src: &SourceId, kind, rows| {
        snapshot(st, src, kind, rows);
    };
    let mut worker = row(
        d,
        K::Container,
        None,
        Failed,
        2 * 86400,
        &[
            "worker",
            "busybox:local",
            "exited",
            "Exited (137) 5 minutes ago",
            "3",
            "137",
            "",
            "",
            "",
        ],
    );
    worker.facts.container = Some(Box::new(fleetdeck::model::ContainerFacts {
        restarts: 3,
        exit_code: Some(137),
        oom_killed: true,
        ..Default::default()
    }));
    rows(
        &mut st,
        d,
        K::Container,
        vec![
            row(
                d,
                K::Container,
                Some("shop"),
                Ok,
                3 * 3600,
                &[
                    "shop-web-1",
                    "registry.example.com/shop/web:1.4.2",
                    "running",
                    "Up 3 hours (healthy)",
                    "0",
                    "",
                    "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp",
                    "shop",
                    "",
                ],
            ),
            row(
                d,
                K::Container,
                Some("shop"),
                Ok,
                3 * 3600,
                &[
                    "shop-db-1",
                    "postgres:16",
                    "running",
                    "Up 3 hours",
                    "0",
                    "",
                    "5432/tcp",
                    "shop",
                    "",
                ],
            ),
            worker,
        ],
    );
    rows(
        &mut st,
        d,
        K::Project,
        vec![row(
            d,
            K::Project,
            None,
            Ok,
            3 * 3600,
            &["shop", "2", "2", "/srv/compose/shop", ""],
        )],
    );
    rows(
        &mut st,
        d,
        K::Image,
        vec![
            row(
                d,
                K::Image,
                None,
                Ok,
                9 * 86400,
                &[
                    "registry.example.com/shop/web:1.4.2",
                    "3f2a9c1b7d4e",
                    "187.2 MiB",
                    "1",
                    "",
                ],
            ),
            row(
                d,
                K::Image,
                None,
                Ok,
                40 * 86400,
                &["postgres:16", "b81c0e2a9f11", "431.9 MiB", "1", ""],
            ),
        ],
    );
    rows(
        &mut st,
        d,
        K::Volume,
        vec![row(
            d,
            K::Volume,
            None,
            Ok,
            40 * 86400,
            &[
                "shop_pgdata",
                "local",
                "/var/lib/docker/volumes/shop_pgdata/_data",
                "shop",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        d,
        K::Network,
        vec![row(
            d,
            K::Network,
            None,
            Ok,
            40 * 86400,
            &[
                "shop_default",
                "8c1d2e3f4a5b",
                "bridge",
                "local",
                "172.18.0.0/16",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        d,
        K::Service,
        vec![row(
            d,
            K::Service,
            Some("shop"),
            Pending,
            7200,
            &[
                "shop_web",
                "replicated",
                "2/3",
                "registry.example.com/shop/web:1.4.2",
                "8080->80/tcp (ingress)",
                "updating 1/3",
                "shop",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        d,
        K::Task,
        vec![row(
            d,
            K::Task,
            Some("shop_web"),
            Failed,
            300,
            &[
                "shop_web.3",
                "node-2",
                "rejected",
                "",
                "running",
                "No such image: registry.example.com/shop/web:1.4.3",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        d,
        K::Node,
        vec![row(
            d,
            K::Node,
            None,
            Ok,
            7200,
            &[
                "node-1",
                "manager",
                "active",
                "ready",
                "leader",
                "27.3.1",
                "zone=a,disk=ssd",
            ],
        )],
    );
    let k = &kube();
    rows(
        &mut st,
        k,
        K::Pod,
        vec![
            row(
                k,
                K::Pod,
                Some("api"),
                Failed,
                3600,
                &[
                    "prod",
                    "api-7d9f8b6c5-x2x9q",
                    "0/1",
                    "CrashLoopBackOff",
                    "12",
                    "",
                    "worker-3.cluster.internal",
                    "10.244.3.17",
                ],
            ),
            row(
                k,
                K::Pod,
                Some("api"),
                Ok,
                86400,
                &[
                    "prod",
                    "api-7d9f8b6c5-k8m2p",
                    "1/1",
                    "Running",
                    "0",
                    "",
                    "worker-1.cluster.internal",
                    "10.244.1.9",
                ],
            ),
        ],
    );
    rows(
        &mut st,
        k,
        K::Deployment,
        vec![row(
            k,
            K::Deployment,
            None,
            Pending,
            86400,
            &[
                "prod",
                "api",
                "1/2",
                "2",
                "1",
                "registry.example.com/api:2.0.1",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        k,
        K::Namespace,
        vec![
            row(
                k,
                K::Namespace,
                None,
                Ok,
                90 * 86400,
                &["prod", "Active", "*", ""],
            ),
            row(
                k,
                K::Namespace,
                None,
                Ok,
                90 * 86400,
                &["kube-system", "Active", "", ""],
            ),
        ],
    );
    rows(
        &mut st,
        k,
        K::KEvent,
        vec![row(
            k,
            K::KEvent,
            None,
            Failed,
            600,
            &[
                "prod",
                "",
                "Warning",
                "BackOff",
                "pod/api-7d9f8b6c5-x2x9q",
                "Back-off restarting failed container api in pod api-7d9f8b6c5-x2x9q",
            ],
        )],
    );
    let f = &fleet();
    let mut gw1 = row(
        f,
        K::Device,
        None,
        Ok,
        7200,
        &[
            "gw-01",
            "up",
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
        ],
    );
    gw1.facts.sandboxes = vec!["app".into(), "db".into()];
    let mut gw2 = row(
        f,
        K::Device,
        None,
        Failed,
        7200,
        &[
            "gw-02",
            &format!("unknown key {FP}"),
            "10.20.0.12",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "prod",
        ],
    );
    gw2.facts.host_key = Some(Box::new(HostKeyProblem {
        state: HostKeyState::Unknown,
        fingerprint: FP.into(),
    }));
    let gw3 = row(
        f,
        K::Device,
        None,
        Ok,
        7200,
        &[
            "gw-03",
            "up",
            "10.20.0.13",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-28-arm64",
            "12d",
            "0.01 0.02 0.00",
            "/ 40%, /data 61%",
            "release-2026.10",
            "installing",
            "1/1 active",
            "prod",
        ],
    );
    rows(&mut st, f, K::Device, vec![gw1, gw2, gw3]);
    rows(
        &mut st,
        f,
        K::Rollout,
        vec![row(
            f,
            K::Rollout,
            None,
            Pending,
            300,
            &[
                "20261123-153012",
                "release-2026.11.mender",
                "running",
                "3",
                "1",
                "1",
                "1",
                "0",
                "0",
                "2",
                "1 failure",
                "",
            ],
        )],
    );
    rows(
        &mut st,
        f,
        K::DeviceUpdate,
        vec![
            row(
                f,
                K::DeviceUpdate,
                Some("20261123-153012"),
                Pending,
                7200,
                &[
                    "gw-03",
                    "installing",
                    "██████░░░░ 60%",
                    "4m12s",
                    "release-2026.11.mender",
                    "20261123-153012",
                    "Installing Artifact of size 81264640...",
                ],
            ),
            row(
                f,
                K::DeviceUpdate,
                Some("20261123-153012"),
                Ok,
                7200,
                &[
                    "gw-01",
                    "committed",
                    "██████████ 100%",
                    "9m03s",
                    "release-2026.11.mender",
                    "20261123-153012",
                    "committed",
                ],
            ),
        ],
    );
    let m = &mender();
    rows(
        &mut st,
        m,
        K::MenderDevice,
        vec![row(
            m,
            K::MenderDevice,
            None,
            Ok,
            1200,
            &[
                "6512a3f0c2b1d4e5f6a7b8c9",
                "accepted",
                "raspberrypi4",
                "release-2026.11",
                "",
                "prod",
            ],
        )],
    );
    rows(
        &mut st,
        m,
        K::MenderDeployment,
        vec![row(
            m,
            K::MenderDeployment,
            None,
            Pending,
            1800,
            &[
                "spring-release",
                "release-2026.11",
                "inprogress",
                "",
                "40",
                "10",
                "5",
                "3",
                "2",
                "18",
                "2",
                "0",
                "0",
            ],
        )],
    );
    rows(
        &mut st,
        m,
        K::MenderDeploymentDevice,
        vec![row(
            m,
            K::MenderDeploymentDevice,
            Some("spring-release"),
            Failed,
            7200,
            &[
                "6512a3f0c2b1d4e5f6a7b8c9",
                "failure",
                "2026-11-23 15:30:12",
                "2026-11-23 15:41:57",
                "spring-release",
            ],
        )],
    );
    update(
        &mut st,
        Msg::Backend(BackendEvent::Timeline(vec![
            TimelineEntry {
                time: ago(300).unwrap_or(*NOW),
                source: docker(),
                kind: Some(K::Container),
                id: Some("containers-worker".into()),
                name: "worker".into(),
                what: "oom".into(),
                detail: "exit 137, restarted 3 times".into(),
                severity: Severity::Error,
            },
            TimelineEntry {
                time: ago(600).unwrap_or(*NOW),
                source: kube(),
                kind: Some(K::Pod),
                id: None,
                name: "api-7d9f8b6c5-x2x9q".into(),
                what: "Warning BackOff".into(),
                detail: "Back-off restarting failed container api".into(),
                severity: Severity::Warning,
            },
        ])),
    );
    st
}

fn logs(st: &mut AppState) {
    let fx = command(st, "containers");
    drop(fx);
    let fx = key(st, 'l');
    let stream = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs { stream, .. } => Some(*stream),
            _ => None,
        })
        .expect("logs open");
    let lines = (0..40)
        .map(|i| LogLine {
            ts: Some(1_700_000_000_000_000_000 + i * 1_000_000_000),
            source: None,
            text: StyledText {
                text: format!(
                    "GET /api/items/{i} 200 1.{i}ms user-agent=curl/8.5.0 trace={i:032x}"
                ),
                runs: vec![],
            },
            marker: false,
        })
        .collect();
    update(st, Msg::Backend(BackendEvent::LogLines { stream, lines }));
}

fn describe(st: &mut AppState) {
    command(st, "pods");
    let fx = key(st, 'd');
    let key = fx
        .iter()
        .find_map(|e| match e {
            Effect::Describe(k) => Some(k.clone()),
            _ => None,
        })
        .expect("describe");
    let text = (0..40)
        .map(|i| format!("  field{i}: a value long enough to run past the eightieth column of the terminal {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    update(
        st,
        Msg::Described {
            key,
            result: Ok(format!("apiVersion: v1\nkind: Pod\nmetadata:\n{text}")),
        },
    );
}

fn check(name: &str, setup: fn(&mut AppState)) {
    for (mode, suffix) in [(Term::Ascii16, "ascii16"), (Term::Utf8TrueColor, "utf8")] {
        let mut st = world();
        setup(&mut st);
        let screen = screen::render(&mut st, W, H, mode);
        insta::assert_snapshot!(format!("{name}_{suffix}"), screen);
    }
}

macro_rules! views {
    ($($name:ident => $setup:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $setup);
            }
        )*
    };
}

views! {
    containers => |st| { command(st, "containers"); };
    containers_scrolled_right => |st| { command(st, "containers"); key(st, "right"); key(st, "right"); };
    projects => |st| { command(st, "projects"); };
    images => |st| { command(st, "images"); };
    volumes => |st| { command(st, "volumes"); };
    networks => |st| { command(st, "networks"); };
    services => |st| { command(st, "services"); };
    tasks => |st| { command(st, "tasks"); };
    nodes => |st| { command(st, "nodes"); };
    pods => |st| { command(st, "pods"); };
    deployments => |st| { command(st, "deployments"); };
    namespaces => |st| { command(st, "namespaces"); };
    events => |st| { command(st, "events"); };
    devices => |st| { command(st, "devices"); };
    rollouts => |st| { command(st, "rollouts"); };
    updates => |st| { command(st, "updates"); };
    mender_devices => |st| { command(st, "mdevices"); };
    mender_deployments => |st| { command(st, "mdeployments"); };
    mender_deployment_devices => |st| { command(st, "mdd"); };
    triage => |st| { command(st, "triage"); };
    timeline => |st| { command(st, "timeline"); };
    logs_view => logs;
    describe_view => describe;
    help => |st| { command(st, "containers"); key(st, '?'); };
    help_at_the_end => |st| { command(st, "devices"); key(st, '?'); key(st, "end"); };
    command_bar => |st| { key(st, ':'); typed(st, "po"); };
    confirm_remove => |st| { command(st, "containers"); key(st, "ctrl-d"); };
    confirm_typed_host_key => |st| { command(st, "devices"); key(st, "down"); key(st, 'A'); };
    prompt_scale => |st| { command(st, "services"); key(st, 'S'); };
    prompt_deployment => |st| { command(st, "mdevices"); key(st, 'U'); };
    prompt_update => |st| { command(st, "devices"); key(st, 'U'); };
    picker_sandbox => |st| { command(st, "devices"); key(st, 'S'); };
    secret_passphrase => |st| {
        command(st, "devices");
        st.mode = Mode::Secret(SecretPrompt {
            key_path: "/home/ops/.ssh/id_ed25519_site_a_gateways".into(),
            input: Input { text: "hunter2".into() },
        });
    };
    confirm_run => |st| { command(st, "devices"); command(st, "run systemctl restart appliance.service"); };
    confirm_quit => |st| {
        update(st, Msg::Backend(BackendEvent::Work {
            source: fleet(),
            work: vec![Work {
                key: ResourceKey { source: fleet(), kind: ResourceKind::Rollout, id: "20261123-153012".into() },
                summary: "1 device(s) mid-update, 1 to start".into(),
            }],
        }));
        key(st, 'q');
    };
}

#[test]
fn every_view_keeps_help_in_the_footer_and_the_other_sources_in_the_header() {
    for setup in [
        (|st: &mut AppState| {
            command(st, "containers");
        }) as fn(&mut AppState),
        |st| {
            command(st, "mdeployments");
        },
        |st| {
            command(st, "devices");
        },
        logs,
        describe,
    ] {
        let mut st = world();
        setup(&mut st);
        let text = draw(&mut st, W, H);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[H as usize - 1].contains("<?> help"), "{text}");
        for src in ["docker:local", "kube:prod", "fleet:site-a", "mender:hosted"] {
            // The first line of the buffer is the header (TestBackend quotes each row).
            assert!(lines[0].contains(&src[..6]), "{src}: {}", lines[0]);
        }
    }
}
