//! Devices served by Dropbear (Debian's `dropbear-bin` 2022.83), the SSH server of many
//! embedded appliances, instead of OpenSSH: facts, commands, and a PTY shell. Dropbear
//! 2022.82–2024.85 closes a session channel still waiting for its command when another
//! channel's process exits (upstream #321; `ssh::server_id`): twelve commands started at once on
//! one session then failed 2 in 12 here, one of the two having run all the same. The console
//! runs one command per session at a time on such a server and logs in again for the others;
//! this checks that every command is reported right and ran exactly once.
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::backend::fleet::run::{RunTarget, run_all};
use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::backend::{Backend, ShellOpts};
use fleetdeck::model::{ResourceKey, ResourceKind};
use futures::StreamExt;
use support::dropbear::{DROPBEAR_USER, Dropbear};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_commands_and_a_shell_at_once_over_one_dropbear_session() {
    if !support::require("dropbear", support::dropbear::dropbear_available()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (id, id_pub) = support::sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let server = Dropbear::start(&[id_pub]);
    std::fs::write(
        dir.path().join("known_hosts"),
        server.known_hosts_line() + "\n",
    )
    .unwrap();
    let fleet_file = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet_file,
        format!(
            "known_hosts: known_hosts\ndevices:\n - {{name: db, host: 127.0.0.1, port: {}, user: {DROPBEAR_USER}, identity_file: {}}}\n",
            server.port,
            id.display()
        ),
    )
    .unwrap();
    let opts = support::sshd::ssh_options(dir.path(), None, "");
    let b = FleetBackend::new(FleetFile::load(&fleet_file).unwrap(), opts);
    let key = ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: "db".into(),
    };

    // Facts: the script runs in the user's /bin/sh behind Dropbear.
    let rows = b.gather().await;
    let hostname = support::run_ok("hostname", &[]);
    assert_eq!(rows[0].labels.get("hostname"), Some(&hostname), "{rows:?}");

    // Twelve commands and a shell started at once, on the device whose session the facts
    // opened; each command appends a line to a file in the device user's home.
    let ran = support::dropbear::home().join(format!("ran-{}", std::process::id()));
    let _ = std::fs::remove_file(&ran);
    let backend: Arc<dyn Backend> = Arc::new(b.clone());
    let targets = (0..12)
        .map(|i| RunTarget {
            backend: backend.clone(),
            key: key.clone(),
            name: format!("db-{i}"),
        })
        .collect();
    let command = format!("echo x >> {}; echo ran-$((6*7))", ran.display());
    let commands = run_all(targets, command, 12, None, |_| {});
    let shell = async {
        let opts = ShellOpts {
            commands: vec![],
            cols: 90,
            rows: 20,
        };
        let mut sh = b.shell(&key, &opts).await.expect("a shell on Dropbear");
        sh.input
            .write_all(b"echo tty=$(stty size | tr ' ' x)\nexit\n")
            .await
            .unwrap();
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(1), sh.output.next()).await {
                Ok(Some(Ok(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => break,
                Err(_) => {}
            }
        }
        seen
    };
    let (outcomes, seen) = tokio::join!(commands, shell);
    for o in &outcomes {
        assert_eq!(
            o.result.as_ref().map(|r| r.1.as_str()),
            Ok("ran-42\n"),
            "{}",
            o.name
        );
    }
    assert!(
        seen.contains("tty=20x90"),
        "the shell ran with its PTY: {seen}"
    );
    let lines = std::fs::read_to_string(&ran).unwrap_or_default();
    let _ = std::fs::remove_file(&ran);
    assert_eq!(lines.lines().count(), 12, "each command ran exactly once");
    // The first session kept serving: facts again, on whichever session is free.
    let again = b.gather().await;
    assert_eq!(again[0].labels.get("hostname"), Some(&hostname));
}
