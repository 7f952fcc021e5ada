//! The appliance as a source (#14): a `host: local` device runs its facts, logs, commands,
//! uploads and updates as processes on this machine, through the same fleet code as an SSH
//! device (`backend::fleet::session`). Updaters are pointed at the device simulation's scripts
//! (tests/fixtures/device-sim) exactly as tests/support/device.rs points SSH devices at them;
//! the reboot command is always the simulation (`sim-reboot --no-drop`: a new boot id, no
//! connection to drop), never a real reboot.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::audit::AuditLog;
use fleetdeck::backend::fleet::{FleetBackend, FleetFile, updates};
use fleetdeck::backend::{Backend, BackendEvent, ShellOpts};
use fleetdeck::model::{
    FailureLimit, LogOpts, ResourceAction, ResourceKey, ResourceKind, UpdateRequest,
};
use fleetdeck::rollout::Step;
use fleetdeck::ssh::SshOptions;
use fleetdeck::ssh::config::SshConfig;
use support::device::{Client, SimDevice, SimOpts, artifact_file};

/// A fleet `here` of local devices (`entries`: YAML list items under `devices:`), its
/// rollouts and audit log in `dir`. SSH options point at an empty temp home: nothing here may
/// read ~/.ssh (and nothing does: no device uses SSH).
fn fleet(dir: &Path, entries: &str) -> FleetBackend {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let opts = SshOptions {
        config: Arc::new(SshConfig::parse("")),
        home: home.clone(),
        user_known_hosts: home.join(".ssh/known_hosts"),
        agent: None,
        connect_timeout: Duration::from_secs(5),
    };
    let path = dir.join("here.yaml");
    // Never a real reboot: a device that sets no reboot command gets `true`.
    let yaml = format!("defaults:\n  update: {{reboot_command: 'true'}}\ndevices:\n{entries}");
    std::fs::write(&path, yaml).unwrap();
    let file = FleetFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    for d in &file.devices {
        assert!(d.is_local());
        assert!(
            d.update.reboot_command.contains("sim-reboot") || d.update.reboot_command == "true",
            "{}",
            d.update.reboot_command
        );
    }
    FleetBackend::new(file, opts).with_update_store(
        dir.join("state/updates"),
        Some(AuditLog::new(dir.join("audit.jsonl"))),
        Duration::from_millis(100),
    )
}

fn key(b: &FleetBackend, name: &str) -> ResourceKey {
    ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: name.into(),
    }
}

fn q(s: &str) -> String {
    fleetdeck::backend::fleet::facts::sh_quote(s)
}

fn fixture(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/device-sim")
        .join(script)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_and_commands_of_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let b = fleet(
        dir.path(),
        "  - {name: me, host: local}\n  - {name: sb, host: local, sandboxes: [{name: box, user: nobody}]}\n",
    );
    let rows = b.gather().await;
    let me = rows.iter().find(|r| r.name == "me").unwrap();
    let uname = support::run_ok("uname", &["-r"]);
    assert_eq!(
        (me.cells[1].as_str(), me.cells[2].as_str()),
        ("up", "local"),
        "{me:?}"
    );
    assert_eq!(me.cells[4], uname.trim(), "{me:?}");
    assert!(!me.cells[5].is_empty() && !me.cells[6].is_empty(), "{me:?}");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(me.labels["hostname"], hostname.trim());
    assert!(me.facts.host_key.is_none() && me.facts.passphrase.is_none());

    // A command's output (stdout then stderr) and exit code; stdin is empty; cwd is $HOME.
    let out = b
        .exec(
            &key(&b, "me"),
            &["echo out; echo err >&2; read x || echo no-stdin; exit 3".into()],
        )
        .await
        .unwrap();
    assert_eq!(out, (3, "out\nno-stdin\nerr\n".into()));
    let home = std::env::var("HOME").unwrap();
    let (code, pwd) = b.exec(&key(&b, "me"), &["pwd".into()]).await.unwrap();
    assert_eq!((code, pwd.trim()), (0, home.trim_end_matches('/')));
    let (code, _) = b
        .exec(&key(&b, "me"), &["kill -9 $$".into()])
        .await
        .unwrap();
    assert_eq!(code, -1, "killed by a signal: no exit code");

    // `:run` on it: audited like an SSH device.
    let audit = AuditLog::new(dir.path().join("run-audit.jsonl"));
    let targets = vec![fleetdeck::backend::fleet::run::RunTarget {
        backend: Arc::new(b.clone()),
        key: key(&b, "me"),
        name: "me".into(),
    }];
    let done =
        fleetdeck::backend::fleet::run::run_all(targets, "echo ran".into(), 4, Some(audit), |_| {})
            .await;
    assert_eq!(done[0].result, Ok((0, "ran\n".into())));
    let log = std::fs::read_to_string(dir.path().join("run-audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.contains("fleet:here") && log.contains("run: echo ran"),
        "{log}"
    );

    // SSH-only things say why they do not apply.
    let e = b
        .act(
            &key(&b, "me"),
            &ResourceAction::AcceptHostKey("SHA256:x".into()),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no SSH host key"), "{e}");
    let opts = ShellOpts {
        commands: vec![],
        cols: 80,
        rows: 24,
    };
    let sb = ResourceKey {
        id: "sb/box".into(),
        ..key(&b, "sb")
    };
    let e = b.shell(&sb, &opts).await.err().unwrap();
    assert!(e.to_string().contains("sandboxes need SSH"), "{e}");
    // The device's own shell is the console's terminal: a local process.
    assert!(b.local_shell(&key(&b, "me")).is_some());
    assert!(b.local_shell(&sb).is_none());
    let desc = b.describe(&key(&b, "me")).await.unwrap();
    assert!(desc.contains("- local"), "{desc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_logs_follow_appended_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "old-1\nold-2\n").unwrap();
    let b = fleet(
        dir.path(),
        &format!(
            "  - {{name: me, host: local, log_file: {}}}\n",
            log.display()
        ),
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let stream = b.logs(
        &key(&b, "me"),
        LogOpts {
            follow: true,
            tail: Some(1),
            since_secs: None,
            previous: false,
        },
        7,
        tx,
    );
    let mut seen: Vec<String> = Vec::new();
    let mut appended = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.iter().any(|l| l == "new-2") {
        assert!(Instant::now() < deadline, "lines so far: {seen:?}");
        match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            Ok(Some(BackendEvent::LogLines { stream, lines })) => {
                assert_eq!(stream, 7);
                seen.extend(lines.into_iter().map(|l| l.text.text));
            }
            Ok(Some(BackendEvent::LogEnded { error, .. })) => panic!("ended: {error:?} {seen:?}"),
            Ok(Some(_)) => {}
            Ok(None) => panic!("closed"),
            Err(_) => {}
        }
        if !appended && seen.iter().any(|l| l == "old-2") {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            writeln!(f, "new-1\n\u{1b}[2Jnew-2").unwrap();
            appended = true;
        }
    }
    assert_eq!(
        seen,
        ["old-2", "new-1", "new-2"],
        "tail, appended, sanitised"
    );
    // Closing the view stops `tail -F` (no process left following the file).
    drop(stream);
    let pattern = format!("tail -n 1 -F {}", log.display());
    let gone = support::wait_until(Duration::from_secs(5), || {
        support::run("pgrep", &["-f", &pattern]).is_ok_and(|o| !o.status.success())
    });
    assert!(gone, "tail still running");
}

/// The rollout engine's link to a local device: streamed lines and exit codes, a timeout that
/// kills the command, an upload to a temp name renamed into place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_streams_times_out_and_uploads_through_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let b = fleet(dir.path(), "  - {name: me, host: local}\n");
    let t = (updates::targets(&b.inner))("me").unwrap();
    let mut lines = Vec::new();
    let code = t
        .link
        .stream(
            "printf 'a 10%%\\rb 20%%\\n'; echo c >&2; exit 2",
            &mut |l| lines.push(l.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(code, 2);
    // stdout in order, stderr too; between the two pipes there is no order to keep (as over
    // SSH, where they are two channels).
    let (err, out): (Vec<&str>, Vec<&str>) =
        lines.iter().map(String::as_str).partition(|l| *l == "c");
    assert_eq!((out, err.len()), (vec!["a 10%", "b 20%"], 1), "{lines:?}");
    let started = Instant::now();
    let e = t
        .link
        .run("sleep 30", Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(e.contains("no answer within"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let src = dir.path().join("artifact.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let remote = dir.path().join("upload/sub/artifact.bin");
    let mut seen = Vec::new();
    t.link
        .upload(&src, remote.to_str().unwrap(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&remote).unwrap(), data, "uploaded intact");
    assert!(!dir.path().join("upload/sub/artifact.bin.part").exists());
    assert_eq!(seen.last(), Some(&100), "{seen:?}");
    // A target that cannot be written: the command's own words.
    let e = t
        .link
        .upload(&src, "/proc/no/such/dir/x", &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.contains("writing /proc/no/such/dir/x exited"), "{e}");
    t.link.disconnect().await;
    assert_eq!(
        t.link.run("echo again", Duration::from_secs(5)).await,
        Ok((0, "again\n".into()))
    );
}

/// The appliance updater with its commands pointed at `appliance-sim`: one device succeeds
/// with its progress followed, one fails at 60 % and its failed flag is cleared by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appliance_updates_follow_progress_and_a_failed_flag_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let sim = fixture("appliance-sim");
    let mut entries = String::new();
    for name in ["ok", "bad"] {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("calls"), "").unwrap();
        std::fs::write(d.join("step"), "0.05\n").unwrap();
        let env = format!("MENDER_SIM_DIR={}", q(&d.display().to_string()));
        let app = format!("{env} {}", q(&sim.display().to_string()));
        let flag = d.join("appliance_failed");
        let cmd = |c: &str| serde_json::to_string(c).unwrap();
        entries += &format!(
            "  - name: {name}\n    host: local\n    updater: appliance\n    update:\n      \
             reboot_command: 'true'\n      failed_flag: {}\n      appliance_start: {}\n      \
             appliance_follow: {}\n      appliance_status: {}\n      appliance_clear: {}\n",
            cmd(&flag.display().to_string()),
            cmd(&format!("{app} start")),
            cmd(&format!(
                "{env} exec {} follow",
                q(&sim.display().to_string())
            )),
            cmd(&format!("{app} status")),
            cmd(&format!("rm -f {{failed_flag}} && {app} restart")),
        );
    }
    std::fs::write(dir.path().join("bad/mode"), "appliance-fail\n").unwrap();
    let b = fleet(dir.path(), &entries);
    let req = UpdateRequest {
        artifact: "release-2".into(),
        devices: vec!["ok".into(), "bad".into()],
        parallel: 2,
        max_failures: FailureLimit::Count(2),
        ..UpdateRequest::EMPTY
    };
    let msg = b
        .act(&key(&b, "ok"), &ResourceAction::StartUpdate(req))
        .await
        .unwrap();
    let id = msg.split_whitespace().nth(1).unwrap().to_string();
    let (_, records) = support::rollout::finish(b.updates(), &id, Duration::from_secs(60)).await;
    let ok = records.iter().find(|r| r.device == "ok").unwrap();
    assert_eq!(ok.step, Step::Committed, "{ok:#?}");
    assert!(
        ok.last_line.contains("100%") || ok.percent == Some(100),
        "{ok:?}"
    );
    let bad = records.iter().find(|r| r.device == "bad").unwrap();
    assert_eq!(bad.step, Step::Failed, "{bad:#?}");
    assert!(
        bad.reason
            .as_deref()
            .unwrap()
            .contains("appliance update failed"),
        "{bad:?}"
    );
    let flag = dir.path().join("bad/appliance_failed");
    assert!(flag.exists());
    let rows = b.gather().await;
    let row = rows.iter().find(|r| r.name == "bad").unwrap();
    assert_eq!(row.cells[1], "FAILED", "{row:?}");
    let msg = b
        .act(&key(&b, "bad"), &ResourceAction::ClearFailed)
        .await
        .unwrap();
    assert!(msg.contains("cleared"), "{msg}");
    assert!(!flag.exists());
    let calls = std::fs::read_to_string(dir.path().join("bad/calls")).unwrap();
    assert!(calls.contains("appliance restart"), "{calls}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("fleet:here") && audit.contains("→ committed"),
        "{audit}"
    );
}

/// A custom updater driving the device simulation's real Mender client, all through local
/// processes: the artifact (a local file) is uploaded (temp name, rename), installed as a
/// detached job, the device "reboots" (the simulation's boot loader: a new boot id), the
/// new software is verified and committed: the same state machine as over SSH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_installs_reboots_and_commits_through_the_local_link() {
    if !support::device::available() {
        return;
    }
    let dev = SimDevice::start(
        "local-0",
        SimOpts {
            client: Client::Mender5,
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("release-2.mender");
    std::fs::copy(artifact_file("release-2"), &artifact).unwrap();
    // What the device's sshd gives its sessions, written into each command instead.
    let env = format!(
        "export MENDER_SIM_DIR={} PATH={}:\"$PATH\";",
        q(&dev.dir.display().to_string()),
        q(&dev.bin.display().to_string())
    );
    let cmd = |c: &str| serde_json::to_string(&format!("{env} {c}")).unwrap();
    let upload = dev.upload_dir();
    let entry = format!(
        "  - name: me\n    host: local\n    updater: custom\n    custom_updater:\n      \
         install: {}\n      commit: {}\n      rollback: {}\n      status: {}\n    update:\n      \
         reboot_command: {}\n      boot_id_command: {}\n      upload_dir: {}\n      reboot_timeout: 30s\n",
        cmd("mender-update install --reboot-exit-code {artifact}"),
        cmd("mender-update commit"),
        cmd("mender-update rollback"),
        cmd("mender-update show-artifact"),
        cmd("sim-reboot --no-drop"),
        cmd("boot-id"),
        serde_json::to_string(&upload.display().to_string()).unwrap(),
    );
    let b = fleet(dir.path(), &entry);
    let req = UpdateRequest {
        artifact: artifact.display().to_string(),
        devices: vec!["me".into()],
        parallel: 1,
        max_failures: FailureLimit::Count(1),
        ..UpdateRequest::EMPTY
    };
    let msg = b
        .act(&key(&b, "me"), &ResourceAction::StartUpdate(req))
        .await
        .unwrap();
    let id = msg.split_whitespace().nth(1).unwrap().to_string();
    let (_, records) = support::rollout::finish(b.updates(), &id, Duration::from_secs(90)).await;
    let r = &records[0];
    assert_eq!(r.step, Step::Committed, "{r:#?}");
    assert!(r.rebooted, "{r:#?}");
    assert_eq!(r.installed.as_deref(), Some("release-2"));
    assert_eq!(dev.artifact(), "release-2");
    assert_eq!(dev.running(), "release-2");
    assert_eq!(dev.count_calls("power-cycle"), 1, "{:?}", dev.calls());
    assert_eq!(
        std::fs::read(upload.join("release-2.mender")).unwrap(),
        std::fs::read(&artifact).unwrap(),
        "uploaded intact"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for step in [
        "pending → uploading",
        "uploading → installing",
        "installing → rebooting",
        "rebooting → verifying",
        "verifying → committed",
    ] {
        assert!(audit.contains(step), "{step} missing: {audit}");
    }
}
