//! Device fleet over SSH against a real OpenSSH server (tests/support/sshd.rs): key and agent
//! auth, host key policy, ProxyJump, facts, file tails, fleet commands, the shell in tmux.
//! No SSH mocks. Network only on 127.0.0.0/8.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::backend::fleet::{FleetBackend, FleetFile};
use fleetdeck::backend::{Backend, BackendEvent, ShellOpts};
use fleetdeck::model::{LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind};
use fleetdeck::ssh::SshOptions;
use support::sshd::{self, Agent, SANDBOX_USER, Sshd, SshdOpts, TEST_USER, ssh_options as options};

fn have_sshd() -> bool {
    support::require("sshd", sshd::sshd_available())
}

fn fleet(dir: &Path, yaml: &str, opts: SshOptions) -> FleetBackend {
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, yaml).unwrap();
    let file = FleetFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    FleetBackend::new(file, opts)
}

fn key(b: &FleetBackend, name: &str) -> ResourceKey {
    ResourceKey {
        source: b.id().clone(),
        kind: ResourceKind::Device,
        id: name.to_string(),
    }
}

async fn exec(b: &FleetBackend, name: &str, cmd: &str) -> anyhow::Result<(i64, String)> {
    b.exec(&key(b, name), &[cmd.to_string()]).await
}

struct Setup {
    dir: tempfile::TempDir,
    sshd: Sshd,
    ed25519: PathBuf,
    rsa: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (ed25519, ed_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let (rsa, rsa_pub) = sshd::keygen(dir.path(), "id_rsa", "rsa", "");
    let sshd = Sshd::start(SshdOpts {
        authorized: vec![ed_pub, rsa_pub],
        ..Default::default()
    });
    std::fs::write(
        dir.path().join("known_hosts"),
        sshd.known_hosts_line(sshd.port()) + "\n",
    )
    .unwrap();
    Setup {
        dir,
        sshd,
        ed25519,
        rsa,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_auth_with_ed25519_and_rsa() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n\
         - {{name: ed, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n\
         - {{name: rsa, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display(),
        s.rsa.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    for d in ["ed", "rsa"] {
        let (code, out) = exec(&b, d, "id -un; exit 3").await.unwrap();
        assert_eq!((code, out.trim()), (3, TEST_USER), "{d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_auth_through_a_real_ssh_agent() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let agent = Agent::start(&s.ed25519);
    let p = s.sshd.port();
    // No identity files anywhere (the temp home has no ~/.ssh/id_*): only the agent can log in.
    let home = tempfile::tempdir().unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: a, host: 127.0.0.1, port: {p}, user: {TEST_USER}}}\n"
    );
    let b = fleet(
        s.dir.path(),
        &yaml,
        options(home.path(), Some(agent.sock.clone()), ""),
    );
    let (code, out) = exec(&b, "a", "echo via-agent").await.unwrap();
    assert_eq!((code, out.trim()), (0, "via-agent"));
    let without = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let err = exec(&without, "a", "true").await.unwrap_err().to_string();
    assert!(err.contains("permission denied"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_key_asks_for_its_passphrase() {
    if !have_sshd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (enc, enc_pub) = sshd::keygen(dir.path(), "id_enc", "ed25519", "s3cret-pass");
    let sshd = Sshd::start(SshdOpts {
        authorized: vec![enc_pub],
        ..Default::default()
    });
    let p = sshd.port();
    std::fs::write(
        dir.path().join("known_hosts"),
        sshd.known_hosts_line(p) + "\n",
    )
    .unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: e, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        enc.display()
    );
    let b = fleet(dir.path(), &yaml, options(dir.path(), None, ""));
    let err = exec(&b, "e", "true").await.unwrap_err().to_string();
    assert_eq!(err, format!("passphrase needed for {}", enc.display()));
    let store = fleetdeck::ssh::auth::passphrases();
    store.provide(&enc, "wrong".into());
    let err = exec(&b, "e", "true").await.unwrap_err().to_string();
    assert!(err.contains("passphrase needed"), "{err}");
    assert_eq!(store.failures(&enc), 1, "a wrong passphrase is counted");
    store.provide(&enc, "s3cret-pass".into());
    let (code, out) = exec(&b, "e", "echo unlocked").await.unwrap();
    assert_eq!((code, out.trim()), (0, "unlocked"));
}

fn ssh_keygen_fingerprint(pub_line: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("k.pub");
    std::fs::write(&f, pub_line).unwrap();
    let out = support::run_ok(
        "ssh-keygen",
        &["-l", "-E", "sha256", "-f", f.to_str().unwrap()],
    );
    out.split_whitespace().nth(1).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_refused_accepted_explicitly_changed_key_refused() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let kh = s.dir.path().join("fleet_known_hosts");
    let yaml = format!(
        "known_hosts: fleet_known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let home = tempfile::tempdir().unwrap();
    let b = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let fp = ssh_keygen_fingerprint(&s.sshd.host_key_pub);
    assert!(fp.starts_with("SHA256:"));

    // Unknown: refused, with the fingerprint ssh-keygen prints.
    let err = exec(&b, "d", "true").await.unwrap_err().to_string();
    assert!(err.contains("not known") && err.contains(&fp), "{err}");
    // The device row shows it too.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let watch = b.watch(ResourceKind::Device, tx);
    let row = next_snapshot(&mut rx).await.remove(0);
    drop(watch);
    assert!(row.cells[1].contains(&fp), "{:?}", row.cells);
    assert_eq!(
        row.labels.get("host_key").map(String::as_str),
        Some("unknown")
    );

    // Explicit accept of the key shown writes the fleet's known_hosts; then it connects.
    let msg = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(fp.clone()))
        .await
        .unwrap();
    assert!(msg.contains(&fp), "{msg}");
    let written = std::fs::read_to_string(&kh).unwrap();
    assert!(
        written.starts_with(&format!("[127.0.0.1]:{p} ssh-ed25519 ")),
        "{written}"
    );
    let (code, _) = exec(&b, "d", "true").await.unwrap();
    assert_eq!(code, 0);

    // Changed: another key recorded for the same host → refused, and no action accepts it.
    let other = sshd::keygen(s.dir.path(), "other_host", "ed25519", "").1;
    let mut parts = other.split_whitespace();
    std::fs::write(
        &kh,
        format!(
            "[127.0.0.1]:{p} {} {}\n",
            parts.next().unwrap(),
            parts.next().unwrap()
        ),
    )
    .unwrap();
    let b2 = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let err = exec(&b2, "d", "true").await.unwrap_err().to_string();
    assert!(
        err.contains("HOST KEY CHANGED") && err.contains(&fp),
        "{err}"
    );
    let err = b2
        .act(&key(&b2, "d"), &ResourceAction::AcceptHostKey(fp.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("never replaces a changed key"), "{err}");
    assert!(
        !std::fs::read_to_string(&kh)
            .unwrap()
            .contains(s.sshd.host_key_pub.split_whitespace().nth(1).unwrap())
    );
}

/// H2: the operator confirms the key the poll saw (A); the device switches to B before the
/// confirmation reaches it. A is not presented any more and B was never confirmed: refused with
/// both fingerprints, nothing written. Then B, confirmed, is trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_trusts_only_the_key_the_operator_confirmed() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let kh = s.dir.path().join("fleet_known_hosts");
    let yaml = format!(
        "known_hosts: fleet_known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let home = tempfile::tempdir().unwrap();
    let b = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let fp_a = ssh_keygen_fingerprint(&s.sshd.host_key_pub);
    let err = exec(&b, "d", "true").await.unwrap_err().to_string();
    assert!(err.contains(&fp_a), "{err}");

    // The MITM's key: sshd reads its host key file again for every connection.
    let (b_key, b_pub) = sshd::keygen(s.dir.path(), "mitm_host", "ed25519", "");
    std::fs::copy(&b_key, &s.sshd.host_key).unwrap();
    let fp_b = ssh_keygen_fingerprint(&b_pub);
    let err = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(fp_a.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "now presents {fp_b}, not the {fp_a} you confirmed"
        )),
        "{err}"
    );
    assert!(!kh.exists(), "nothing trusted");
    // The row now shows the key presented, for a new decision.
    let row = b.rows().remove(0);
    assert_eq!(row.labels.get("fingerprint"), Some(&fp_b), "{row:?}");
    // An action without a confirmed fingerprint trusts nothing either.
    let err = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(String::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no host key fingerprint was confirmed"),
        "{err}"
    );
    assert!(!kh.exists());

    let msg = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(fp_b.clone()))
        .await
        .unwrap();
    assert!(msg.contains(&format!("trusted {fp_b}")), "{msg}");
    let written = std::fs::read_to_string(&kh).unwrap();
    assert!(
        written.contains(b_pub.split_whitespace().nth(1).unwrap()),
        "{written}"
    );
    assert_eq!(exec(&b, "d", "true").await.unwrap().0, 0);
}

/// H3: known_hosts records an ed25519 key for the host; the server presents an RSA key. That
/// is a changed key (OpenSSH: REMOTE HOST IDENTIFICATION HAS CHANGED), not an unknown one, and
/// no action accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_another_type_than_the_recorded_one_is_changed_not_unknown() {
    if !have_sshd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k, k_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let rsa_only = Sshd::start(SshdOpts {
        authorized: vec![k_pub],
        host_key_types: vec!["rsa"],
        ..Default::default()
    });
    let p = rsa_only.port();
    let recorded = sshd::keygen(dir.path(), "recorded_host", "ed25519", "").1;
    let kh = dir.path().join("known_hosts");
    let kh_text = sshd::known_hosts_line_of(&recorded, "127.0.0.1", p) + "\n";
    std::fs::write(&kh, &kh_text).unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        k.display()
    );
    let home = tempfile::tempdir().unwrap();
    let b = fleet(dir.path(), &yaml, options(home.path(), None, ""));
    let fp_rsa = ssh_keygen_fingerprint(&rsa_only.host_key_pub);
    let err = exec(&b, "d", "true").await.unwrap_err().to_string();
    assert!(
        err.contains("HOST KEY CHANGED") && err.contains(&fp_rsa),
        "{err}"
    );
    assert!(err.contains(&format!("{}:1", kh.display())), "{err}");
    let row = b.rows().remove(0);
    assert_eq!(
        row.labels.get("host_key").map(String::as_str),
        Some("changed")
    );
    let err = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(fp_rsa))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("never replaces a changed key"), "{err}");
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), kh_text);
}

/// H3: a host with ed25519 and RSA keys, known by only one of them: the recorded type is
/// negotiated first, so either way it connects (russh would pick ed25519 by itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_known_by_its_rsa_key_connects_with_it() {
    if !have_sshd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k, k_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let both = Sshd::start(SshdOpts {
        authorized: vec![k_pub],
        host_key_types: vec!["ed25519", "rsa"],
        ..Default::default()
    });
    let p = both.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        k.display()
    );
    let home = tempfile::tempdir().unwrap();
    for (i, known) in both.host_keys_pub.iter().enumerate() {
        std::fs::write(
            dir.path().join("known_hosts"),
            sshd::known_hosts_line_of(known, "127.0.0.1", p) + "\n",
        )
        .unwrap();
        let b = fleet(dir.path(), &yaml, options(home.path(), None, ""));
        let (code, out) = exec(&b, "d", "echo in").await.unwrap_or_else(|e| {
            panic!(
                "known by key {i} ({}): {e}",
                known.split(' ').next().unwrap()
            )
        });
        assert_eq!((code, out.trim()), (0, "in"));
    }
}

/// M6: `@revoked` in ~/.ssh/known_hosts refuses the key although the fleet's known_hosts
/// (checked first) lists it (OpenSSH: REVOKED HOST KEY DETECTED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_in_any_known_hosts_file_refuses_the_key() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    let user_kh = home.path().join(".ssh/known_hosts");
    std::fs::write(
        &user_kh,
        format!(
            "# revoked after a leak\n@revoked {}\n",
            s.sshd.known_hosts_line(p)
        ),
    )
    .unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let fp = ssh_keygen_fingerprint(&s.sshd.host_key_pub);
    let err = exec(&b, "d", "true").await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "REVOKED HOST KEY for [127.0.0.1]:{p} ({fp}): {}:2 marks it @revoked",
            user_kh.display()
        )
    );
    let err = b
        .act(&key(&b, "d"), &ResourceAction::AcceptHostKey(fp))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("REVOKED"), "{err}");
}

/// L9: a known_hosts file that cannot be read (here endless) refuses every key at once, with
/// its name, instead of reading gigabytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_known_hosts_file_is_refused_by_name() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: /dev/zero\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let home = tempfile::tempdir().unwrap();
    let b = fleet(s.dir.path(), &yaml, options(home.path(), None, ""));
    let t0 = Instant::now();
    let err = exec(&b, "d", "true").await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "cannot check the host key of [127.0.0.1]:{p}: known_hosts /dev/zero: larger than 4 MiB; not read"
        )
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// The TCP socket of a session has keepalive on, at the SSH keepalive interval (15 s when
/// ssh_config sets none): /proc/net/tcp shows its keepalive timer armed within 15 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_have_keepalives_by_default_and_tcp_keepalive() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let dest = b.devices()[0].route.dest().clone();
    assert_eq!((dest.alive_interval, dest.alive_count), (15, 3));
    assert_eq!(exec(&b, "d", "true").await.unwrap().0, 0);
    // Our end of the session: remote port = the sshd's, established (01). While bytes are in
    // flight the socket shows its retransmit timer (01) instead, so look again until the
    // queue drained and the keepalive timer (02) shows.
    let deadline = Instant::now() + Duration::from_secs(5);
    let ours = loop {
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let ours: Vec<String> = tcp
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 5 && f[2] == format!("0100007F:{p:04X}") && f[3] == "01"
            })
            .map(str::to_owned)
            .collect();
        assert_eq!(ours.len(), 1, "{tcp}");
        let kind = ours[0]
            .split_whitespace()
            .nth(5)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_owned();
        if kind == "02" || Instant::now() > deadline {
            break ours;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let timer = ours[0].split_whitespace().nth(5).unwrap();
    let (kind, when) = timer.split_once(':').unwrap();
    assert_eq!(kind, "02", "keepalive timer armed: {}", ours[0]);
    let ticks = u64::from_str_radix(when, 16).unwrap();
    assert!(ticks <= 15 * 100, "fires within 15 s: {}", ours[0]);

    // ssh_config's values win; `ServerAliveInterval 0` cannot turn them off.
    let b = fleet(
        s.dir.path(),
        &yaml,
        options(
            s.dir.path(),
            None,
            "Host *\n  ServerAliveInterval 4\n  ServerAliveCountMax 5\n",
        ),
    );
    let dest = b.devices()[0].route.dest().clone();
    assert_eq!((dest.alive_interval, dest.alive_count), (4, 5));
    let b = fleet(
        s.dir.path(),
        &yaml,
        options(s.dir.path(), None, "Host *\n  ServerAliveInterval 0\n"),
    );
    assert_eq!(b.devices()[0].route.dest().alive_interval, 15);
}

/// M3: the device freezes (its sshd session processes stopped) while `fleetdeck run` waits for
/// the command: the keepalives go unanswered and the run ends with an error naming why,
/// within interval × (count + 1), instead of hanging. Here with ssh_config's 1 s × 2.
#[test]
fn a_frozen_device_makes_run_fail_instead_of_hanging() {
    frozen_run(
        Some("Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n"),
        "connection lost: no answer to 2 keepalives 1s apart",
        Duration::from_secs(10),
    );
}

/// M3 as the review met it: no ServerAliveInterval anywhere. The default keepalives (15 s × 3)
/// end the run after about a minute; before, it waited as long as the device stayed frozen.
#[test]
fn a_frozen_device_fails_run_with_the_default_keepalives() {
    frozen_run(
        None,
        "connection lost: no answer to 3 keepalives 15s apart",
        Duration::from_secs(75),
    );
}

fn frozen_run(ssh_config: Option<&str>, expect: &str, within: Duration) {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    use std::os::unix::fs::PermissionsExt;
    let marks = tempfile::tempdir().unwrap();
    std::fs::set_permissions(marks.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let mark = marks.path().join("started");
    let mut yaml = "known_hosts: known_hosts\n".to_string();
    if let Some(cfg) = ssh_config {
        std::fs::write(s.dir.path().join("ssh_config"), cfg).unwrap();
        yaml += "ssh_config: ssh_config\n";
    }
    yaml += &format!(
        "devices:\n - {{name: d, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let fleet_file = s.dir.path().join("fleet.yaml");
    std::fs::write(&fleet_file, yaml).unwrap();
    let home = tempfile::tempdir().unwrap();
    let cmd = format!("touch {}; sleep 8; echo finished", mark.display());
    let child = std::process::Command::new(support::tmux::fleetdeck_bin())
        .args([
            "--fleet",
            fleet_file.to_str().unwrap(),
            "run",
            "--device",
            "d",
            "--",
        ])
        .arg(&cmd)
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("SSH_AUTH_SOCK")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(
        support::wait_until(Duration::from_secs(20), || mark.exists()),
        "the command never started"
    );
    let frozen = s.sshd.freeze_sessions();
    let t0 = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(within + Duration::from_secs(20)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // Still hanging: end it (our own child, by pid) and fail.
            support::kill(pid, rustix::process::Signal::KILL);
            panic!("fleetdeck run hung on a frozen device");
        }
    };
    let waited = t0.elapsed();
    drop(frozen);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("== d (error"), "{stdout}");
    assert!(stdout.contains(expect), "{stdout}");
    assert!(!stdout.contains("finished"), "{stdout}");
    assert!(waited < within, "took {waited:?}");
    eprintln!("frozen device detected after {waited:?}");
}

/// The devices once every one has answered (none still `connecting`): the watch's first list,
/// with the changes after it applied.
async fn next_snapshot(rx: &mut tokio::sync::mpsc::Receiver<BackendEvent>) -> Vec<Resource> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let mut rows: Option<Vec<Resource>> = None;
        loop {
            match rx.recv().await {
                Some(BackendEvent::Snapshot { resources, .. }) => rows = Some(resources),
                Some(BackendEvent::Changes { changes, .. }) => {
                    changes.apply_to(rows.as_mut().expect("changes after a list"));
                }
                Some(_) => continue,
                None => panic!("watch ended"),
            }
            if let Some(rows) = &rows
                && rows.iter().all(|r| r.cells[1] != "connecting")
            {
                return rows.clone();
            }
        }
    })
    .await
    .expect("a snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_through_a_second_sshd() {
    if !have_sshd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k, k_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    // The target listens on 127.0.0.2; the jump host logs the forwarding it does for us.
    let target = Sshd::start(SshdOpts {
        authorized: vec![k_pub.clone()],
        listen: Some("127.0.0.2".into()),
        ..Default::default()
    });
    let jump = Sshd::start(SshdOpts {
        authorized: vec![k_pub],
        log_level: Some("DEBUG1".into()),
        ..Default::default()
    });
    let (tp, jp) = (target.port(), jump.port());
    std::fs::write(
        dir.path().join("known_hosts"),
        format!(
            "{}\n{}\n",
            target.known_hosts_line_for("127.0.0.2", tp),
            jump.known_hosts_line(jp)
        ),
    )
    .unwrap();
    let cfg = format!(
        "Host dev-target\n  HostName 127.0.0.2\n  Port {tp}\n  ProxyJump {TEST_USER}@127.0.0.1:{jp}\n\
         Host *\n  IdentityFile {}\n  ServerAliveInterval 15\n",
        k.display()
    );
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: t, host: dev-target, user: {TEST_USER}}}\n"
    );
    let b = fleet(dir.path(), &yaml, options(dir.path(), None, &cfg));
    let route = &b.devices()[0].route;
    assert_eq!(route.hops.len(), 2);
    let (code, out) = exec(&b, "t", "echo $SSH_CONNECTION").await.unwrap();
    assert_eq!(code, 0);
    // sshd on the target sees a connection to 127.0.0.2:tp ...
    assert!(out.trim().ends_with(&format!("127.0.0.2 {tp}")), "{out}");
    // ... which the jump host opened for us.
    let log = jump.log();
    assert!(
        log.contains("direct-tcpip") && log.contains(&format!("127.0.0.2 port {tp}")),
        "jump log: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_parse_real_command_output() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: f, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, tags: [prod, lab], units: [nonexistent-fleetdeck.service]}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _watch = b.watch(ResourceKind::Device, tx);
    let row = next_snapshot(&mut rx).await.remove(0);
    let hostname = support::run_ok("hostname", &[]).trim().to_string();
    let kernel = support::run_ok("uname", &["-r"]).trim().to_string();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let pretty = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let col = |name: &str| {
        let i = ResourceKind::Device
            .spec()
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap();
        row.cells[i].clone()
    };
    assert_eq!(row.labels.get("hostname"), Some(&hostname), "{row:?}");
    assert_eq!(col("OS"), pretty);
    assert_eq!(col("KERNEL"), kernel);
    assert!(
        col("DISK").starts_with("/ ") && col("DISK").contains('%'),
        "{row:?}"
    );
    assert_eq!(col("LOAD").split_whitespace().count(), 3, "{row:?}");
    assert!(!col("UPTIME").is_empty());
    // No systemd here: the unit reports as not active and the device as degraded.
    assert!(col("UNITS").starts_with("0/1 active"), "{row:?}");
    assert_eq!(col("STATE"), "degraded");
    assert_eq!(col("TAGS"), "prod,lab");
    assert!(row.labels.contains_key("tag.prod"));
    let yaml = b.describe(&key(&b, "f")).await.unwrap();
    assert!(yaml.contains(&kernel), "{yaml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_tail_streams_appended_lines() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let log = s.dir.path().join("device.log");
    std::fs::write(&log, "old-1\nold-2\n").unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: l, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, log_file: {}}}\n",
        s.ed25519.display(),
        log.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _stream = b.logs(
        &key(&b, "l"),
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
        "tail -n 1, then appended, sanitised"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_logs_in_as_its_user_with_a_pty() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - name: s\n   host: 127.0.0.1\n   port: {p}\n   user: {TEST_USER}\n   identity_file: {}\n   sandboxes:\n     - {{name: box, user: {SANDBOX_USER}, command: 'id -un; tty'}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let mut k = key(&b, "s");
    k.id = "s/box".into();
    let opts = ShellOpts {
        commands: vec![],
        cols: 100,
        rows: 30,
    };
    let mut session = b.shell(&k, &opts).await.unwrap();
    let mut out = Vec::new();
    use futures::StreamExt;
    while let Ok(Some(Ok(chunk))) =
        tokio::time::timeout(Duration::from_secs(10), session.output.next()).await
    {
        out.extend(chunk);
    }
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains(SANDBOX_USER), "{text}");
    assert!(text.contains("/dev/pts/"), "runs with a PTY: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_command_on_ten_devices_with_one_unreachable() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let closed = support::free_port();
    let mut yaml = "known_hosts: known_hosts\ndevices:\n".to_string();
    for i in 1..=9 {
        yaml += &format!(
            " - {{name: dev-{i}, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, tags: [prod]}}\n",
            s.ed25519.display()
        );
    }
    yaml += &format!(
        " - {{name: dev-10, host: 127.0.0.1, port: {closed}, user: {TEST_USER}, identity_file: {}, tags: [prod]}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let backend: Arc<dyn Backend> = Arc::new(b.clone());
    let targets = (1..=10)
        .map(|i| fleetdeck::backend::fleet::run::RunTarget {
            backend: backend.clone(),
            key: key(&b, &format!("dev-{i}")),
            name: format!("dev-{i}"),
        })
        .collect();
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = fleetdeck::audit::AuditLog::new(audit_dir.path().join("audit.jsonl"));
    let mut progress = 0;
    let out = fleetdeck::backend::fleet::run::run_all(
        targets,
        "echo hello-$((6*7)); hostname >/dev/null".into(),
        16,
        Some(audit),
        |_| progress += 1,
    )
    .await;
    assert_eq!((out.len(), progress), (10, 10));
    for o in &out {
        if o.name == "dev-10" {
            let e = o.result.as_ref().unwrap_err();
            assert!(
                e.contains("Connection refused") || e.contains("connect"),
                "{e}"
            );
        } else {
            assert_eq!(
                o.result.as_ref().unwrap(),
                &(0, "hello-42\n".to_string()),
                "{}",
                o.name
            );
        }
    }
    let audit = std::fs::read_to_string(audit_dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 20, "attempt + result per device");
    let row =
        fleetdeck::backend::fleet::run::result_row(&out[0].key, &out[0].name, "x", Some(&out[0]));
    assert_eq!(row.key.kind, ResourceKind::RunResult);

    // The CLI: per-device results, exit 1 because dev-10 failed; ls with facts as JSON.
    let fleet_file = s.dir.path().join("fleet.yaml");
    let home = tempfile::tempdir().unwrap();
    let bin = support::tmux::fleetdeck_bin();
    let run = std::process::Command::new(bin)
        .args([
            "--fleet",
            fleet_file.to_str().unwrap(),
            "run",
            "--tag",
            "prod",
            "--",
            "uptime",
        ])
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.matches("(exit 0,").count(), 9, "{stdout}");
    assert!(stdout.contains("== dev-10 (error"), "{stdout}");
    assert!(stdout.contains("load average"), "{stdout}");
    assert!(stdout.contains("-- 9 ok, 1 failed"), "{stdout}");

    let ls = std::process::Command::new(bin)
        .args([
            "--fleet",
            fleet_file.to_str().unwrap(),
            "ls",
            "devices",
            "-o",
            "json",
        ])
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    assert!(
        ls.status.success(),
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let kernel = support::run_ok("uname", &["-r"]).trim().to_string();
    assert_eq!(rows[0]["name"], "dev-1");
    assert_eq!(rows[0]["kernel"], kernel.as_str(), "{}", rows[0]);
    assert!(
        rows[9]["state"]
            .as_str()
            .unwrap()
            .starts_with("unreachable"),
        "{}",
        rows[9]
    );
}

#[test]
fn shell_in_tmux_echo_and_exit() {
    if !have_sshd() || !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let fleet_file = s.dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet_file,
        format!(
            "known_hosts: known_hosts\ndevices:\n - {{name: tmuxdev, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
            s.ed25519.display()
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} --fleet {}",
        support::tmux::shell_quote(support::tmux::fleetdeck_bin()),
        support::tmux::shell_quote(fleet_file.to_str().unwrap())
    );
    let home_s = home.path().display().to_string();
    let t = support::tmux::Tmux::start(
        &cmd,
        120,
        30,
        &[("HOME", home_s.as_str()), ("SSH_AUTH_SOCK", "")],
    );
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    t.wait_until("device up", Duration::from_secs(20), |s| {
        s.contains("tmuxdev") && s.contains(" up ")
    });
    t.keys(&["s"]);
    // The remote shell's prompt: keys typed before it would reach the console, not the shell.
    t.wait_until("shell prompt", Duration::from_secs(15), |s| {
        s.lines().any(|l| l.trim_end().ends_with('$'))
    });
    t.type_text("echo fleetdeck-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_for("fleetdeck-42", Duration::from_secs(15));
    t.type_text("exit");
    t.keys(&["Enter"]);
    let screen = t.wait_until("back in the device list", Duration::from_secs(15), |s| {
        s.contains("Devices") && s.contains("tmuxdev") && !s.contains("fleetdeck-42")
    });
    assert!(screen.contains("exited"), "{screen}");
}

#[test]
fn console_accepts_an_unknown_key_then_runs_a_command() {
    if !have_sshd() || !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let s = setup();
    let p = s.sshd.port();
    let fleet_file = s.dir.path().join("fleet.yaml");
    let mut yaml = "known_hosts: console_known_hosts\ndevices:\n".to_string();
    for (n, tag) in [("alpha", "prod"), ("beta", "prod"), ("gamma", "lab")] {
        yaml += &format!(
            " - {{name: {n}, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, tags: [{tag}]}}\n",
            s.ed25519.display()
        );
    }
    std::fs::write(&fleet_file, yaml).unwrap();
    let fp = ssh_keygen_fingerprint(&s.sshd.host_key_pub);
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().display().to_string();
    let cmd = format!(
        "{} --fleet {}",
        support::tmux::shell_quote(support::tmux::fleetdeck_bin()),
        support::tmux::shell_quote(fleet_file.to_str().unwrap())
    );
    let t = support::tmux::Tmux::start(&cmd, 200, 30, &[("HOME", home_s.as_str())]);
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    // Unknown key: refused, fingerprint in the row — in alpha's row, the selected one (the
    // three devices connect concurrently: under load beta may show it first).
    let unknown = format!("unknown key {fp}");
    t.wait_until("alpha's unknown key", Duration::from_secs(20), |s| {
        s.lines()
            .any(|l| l.contains("alpha") && l.contains(&unknown))
    });
    t.keys(&["A"]);
    t.wait_for("Type its name", Duration::from_secs(5));
    t.wait_for(&format!("Presented key: {fp}"), Duration::from_secs(5));
    t.type_text("alpha");
    t.keys(&["Enter"]);
    t.wait_for(&format!("trusted {fp}"), Duration::from_secs(10));
    // The key is per host:port, so all three devices come up.
    t.wait_until("devices up", Duration::from_secs(40), |s| {
        s.matches(" up ").count() >= 3 || s.contains("3/3 devices up")
    });
    // The audit names the key the operator confirmed.
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(&format!("\"action\":\"accept host key {fp}\"")),
        "{audit}"
    );

    // :run on the filtered set (tag prod) → confirm → results view.
    t.keys(&[":"]);
    t.type_text("devices prod");
    t.keys(&["Enter"]);
    t.keys(&[":"]);
    t.type_text("run echo out-$((20+3))");
    t.keys(&["Enter"]);
    t.wait_for("on 2 device(s)?", Duration::from_secs(5));
    t.keys(&["y"]);
    let screen = t.wait_until("results", Duration::from_secs(20), |s| {
        s.contains("Run results") && s.matches("out-23").count() >= 2
    });
    assert!(!screen.contains("gamma"), "{screen}");
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert_eq!(
        audit.matches("run: echo out-$((20+3))").count(),
        4,
        "{audit}"
    );
}

/// A device with an encrypted key, a sandbox and a log file, for the console tests.
fn encrypted_setup() -> (tempfile::TempDir, Sshd, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    // The log file must be readable by the device user.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (enc, enc_pub) = sshd::keygen(dir.path(), "id_enc", "ed25519", "open-sesame");
    let sshd = Sshd::start(SshdOpts {
        authorized: vec![enc_pub],
        ..Default::default()
    });
    let p = sshd.port();
    std::fs::write(
        dir.path().join("known_hosts"),
        sshd.known_hosts_line(p) + "\n",
    )
    .unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "line-from-file-1\nline-from-file-2\n").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let fleet_file = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet_file,
        format!(
            "known_hosts: known_hosts\ndevices:\n - name: enc\n   host: 127.0.0.1\n   port: {p}\n   user: {TEST_USER}\n   identity_file: {}\n   log_file: {}\n   sandboxes:\n     - {{name: box, user: {SANDBOX_USER}}}\n",
            enc.display(),
            log.display()
        ),
    )
    .unwrap();
    (dir, sshd, fleet_file)
}

#[test]
fn console_passphrase_dialog_sandbox_picker_and_device_logs() {
    if !have_sshd() || !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let (_dir, _sshd, fleet_file) = encrypted_setup();
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().display().to_string();
    let cmd = format!(
        "{} --fleet {}",
        support::tmux::shell_quote(support::tmux::fleetdeck_bin()),
        support::tmux::shell_quote(fleet_file.to_str().unwrap())
    );
    let t = support::tmux::Tmux::start(
        &cmd,
        140,
        30,
        &[("HOME", home_s.as_str()), ("SSH_AUTH_SOCK", "")],
    );
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    // The key is encrypted: a masked passphrase dialog.
    t.wait_for("Passphrase needed for", Duration::from_secs(20));
    t.type_text("wrong-one");
    t.keys(&["Enter"]);
    // Wrong: asked again.
    t.wait_until("asked again", Duration::from_secs(20), |s| {
        s.contains("Passphrase needed for") && !s.contains("•••••••••")
    });
    t.type_text("open-sesame");
    let screen = t.wait_for("•••••••••••", Duration::from_secs(5));
    assert!(!screen.contains("open-sesame"), "masked: {screen}");
    t.keys(&["Enter"]);
    t.wait_until("device up", Duration::from_secs(20), |s| {
        s.contains(" up ") && !s.contains("Passphrase needed")
    });

    // S: the sandbox picker, then a login shell as the sandbox user.
    t.keys(&["S"]);
    t.wait_for("Sandbox on enc", Duration::from_secs(5));
    t.wait_for("1. box", Duration::from_secs(5));
    t.keys(&["Enter"]);
    // The remote shell's prompt: keys typed before it would reach the console, not the shell.
    t.wait_until("shell prompt", Duration::from_secs(15), |s| {
        s.lines().any(|l| l.trim_end().ends_with('$'))
    });
    t.type_text("echo user=$(id -un)");
    t.keys(&["Enter"]);
    t.wait_for(&format!("user={SANDBOX_USER}"), Duration::from_secs(15));
    t.type_text("exit");
    t.keys(&["Enter"]);
    t.wait_until("back", Duration::from_secs(15), |s| {
        s.contains("Devices") && s.contains(" up ")
    });

    // l: the file tail in the log view.
    t.keys(&["l"]);
    t.wait_for("line-from-file-2", Duration::from_secs(15));
    t.keys(&["Escape"]);
    t.wait_for("Devices", Duration::from_secs(5));
}

/// L8: the CLI asks on the terminal, outside the 10 s connect timeout (an answer after 11 s
/// still connects), and asks again after a wrong answer, 3 times like ssh.
#[test]
fn cli_asks_the_passphrase_on_the_terminal() {
    if !have_sshd() || !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let (_dir, _sshd, fleet_file) = encrypted_setup();
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().display().to_string();
    let cmd = format!(
        "{} --fleet {} run --device enc -- echo cli-$((1+1))",
        support::tmux::shell_quote(support::tmux::fleetdeck_bin()),
        support::tmux::shell_quote(fleet_file.to_str().unwrap())
    );
    let env = [("HOME", home_s.as_str()), ("SSH_AUTH_SOCK", "")];
    let prompts = |s: &str| s.matches("Enter passphrase for key").count();
    let t = support::tmux::Tmux::start(&cmd, 140, 30, &env);
    t.wait_for("Enter passphrase for key", Duration::from_secs(20));
    // A person taking their time: longer than the connect timeout.
    std::thread::sleep(Duration::from_secs(11));
    t.type_text("not-it");
    t.keys(&["Enter"]);
    t.wait_until("asked again", Duration::from_secs(20), |s| prompts(s) == 2);
    t.type_text("open-sesame");
    t.keys(&["Enter"]);
    let screen = t.wait_for("EXITED:", Duration::from_secs(20));
    assert!(screen.contains("cli-2"), "{screen}");
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert!(!screen.contains("timed out"), "{screen}");
    assert!(
        !screen.contains("open-sesame") && !screen.contains("not-it"),
        "no echo: {screen}"
    );
    drop(t);

    // Three wrong answers: no fourth prompt, the device fails with the reason.
    let t = support::tmux::Tmux::start(&cmd, 140, 30, &env);
    for n in 1..=3 {
        t.wait_until("prompt", Duration::from_secs(20), |s| prompts(s) == n);
        t.type_text(&format!("wrong-{n}"));
        t.keys(&["Enter"]);
    }
    let screen = t.wait_for("EXITED:", Duration::from_secs(20));
    assert_eq!(prompts(&screen), 3, "{screen}");
    assert!(screen.contains("3 wrong passphrases for"), "{screen}");
    assert!(screen.contains("EXITED:1"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_known_hosts_from_ssh_keygen() {
    if !have_sshd() {
        return;
    }
    let s = setup();
    let kh = s.dir.path().join("known_hosts");
    // `ssh-keygen -H` hashes every name in place, as HashKnownHosts does.
    support::run_ok("ssh-keygen", &["-H", "-f", kh.to_str().unwrap()]);
    let text = std::fs::read_to_string(&kh).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: h, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let (code, _) = exec(&b, "h", "true").await.unwrap();
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_read_the_mender_client_and_the_failed_flag_contract() {
    if !have_sshd() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A fake `mender-update` playing the client's CLI contract, first in the session PATH.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fake = bin.join("mender-update");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$1\" in\n  show-artifact) echo release-2026.11-rc1 ;;\n  *) echo \"unsupported: $1\" >&2; exit 2 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (k, k_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let sshd = Sshd::start(SshdOpts {
        authorized: vec![k_pub],
        set_env: vec![format!(
            "PATH={}:/usr/local/bin:/usr/bin:/bin",
            bin.display()
        )],
        ..Default::default()
    });
    let p = sshd.port();
    std::fs::write(
        dir.path().join("known_hosts"),
        sshd.known_hosts_line(p) + "\n",
    )
    .unwrap();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: m, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, updater: mender}}\n",
        k.display()
    );
    let b = fleet(dir.path(), &yaml, options(dir.path(), None, ""));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _watch = b.watch(ResourceKind::Device, tx);
    let row = next_snapshot(&mut rx).await.remove(0);
    let col = |name: &str| {
        let i = ResourceKind::Device
            .spec()
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap();
        row.cells[i].clone()
    };
    assert_eq!(col("ARTIFACT"), "release-2026.11-rc1", "{row:?}");
    assert_eq!(col("STATE"), "up", "no /run/appliance_failed here: {row:?}");
    assert_eq!(
        row.labels.get("updater").map(String::as_str),
        Some("mender")
    );
}

#[test]
fn a_broken_fleet_file_is_reported_with_its_position_and_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "devices:\n  - name: a\n    port: many\n").unwrap();
    let out = std::process::Command::new(support::tmux::fleetdeck_bin())
        .args(["--fleet", bad.to_str().unwrap(), "ls", "devices"])
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3:11: ", bad.display())),
        "file:line:col: {err}"
    );
    assert!(err.contains("no configured source lists devices"), "{err}");
    assert_eq!(out.status.code(), Some(1));

    // The console starts anyway and says why the fleet is missing.
    if !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let home_s = dir.path().display().to_string();
    let cmd = format!(
        "{} --fleet {}",
        support::tmux::shell_quote(support::tmux::fleetdeck_bin()),
        support::tmux::shell_quote(bad.to_str().unwrap())
    );
    let t = support::tmux::Tmux::start(&cmd, 200, 24, &[("HOME", home_s.as_str())]);
    let screen = t.wait_for("bad.yaml:3:11", Duration::from_secs(10));
    assert!(screen.contains("fleet not loaded"), "{screen}");
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    t.wait_for("Devices", Duration::from_secs(5));
}

#[test]
fn cli_run_is_refused_and_audited_in_read_only_mode() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fleet.yaml");
    std::fs::write(
        &f,
        "devices:\n  - {name: a, host: 127.0.0.1, port: 1, tags: [prod]}\n  - {name: b, host: 127.0.0.1, port: 1, tags: [lab]}\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::tmux::fleetdeck_bin())
        .args([
            "--readonly",
            "--fleet",
            f.to_str().unwrap(),
            "run",
            "--tag",
            "prod",
            "--",
            "reboot",
        ])
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("read-only mode: run refused on 1 device(s)"),
        "{err}"
    );
    let audit = std::fs::read_to_string(dir.path().join("state/fleetdeck/audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 1, "{audit}");
    assert!(
        audit.contains("\"phase\":\"refused\"") && audit.contains("run: reboot"),
        "{audit}"
    );
    assert!(audit.contains("device/a"), "{audit}");
}

/// L9: an ssh_config that cannot be used (endless, or including itself) is refused at once
/// with its name, like ssh refuses a bad config; the fleets it configures are left out.
#[test]
fn an_unusable_ssh_config_is_named_and_its_fleet_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fleet.yaml");
    let ls = |home: &Path| {
        let t0 = Instant::now();
        let out = std::process::Command::new(support::tmux::fleetdeck_bin())
            .args(["--fleet", f.to_str().unwrap(), "ls", "devices"])
            .env("HOME", home)
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .unwrap();
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    std::fs::write(
        &f,
        "ssh_config: /dev/zero\ndevices:\n  - {name: a, host: 127.0.0.1, port: 1}\n",
    )
    .unwrap();
    let err = ls(dir.path());
    assert!(
        err.contains(&format!(
            "{}: ssh_config /dev/zero: larger than 4 MiB; not read (fleet not loaded)",
            f.display()
        )),
        "{err}"
    );
    // ~/.ssh/config including itself twelve times (it hung for minutes).
    std::fs::write(&f, "devices:\n  - {name: a, host: 127.0.0.1, port: 1}\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    let cfg = home.path().join(".ssh/config");
    std::fs::write(&cfg, "Include config\n".repeat(12)).unwrap();
    let err = ls(home.path());
    assert!(
        err.contains(&format!(
            "{}: Include nested more than 16 levels",
            cfg.display()
        )) && err.contains("(fleets not loaded)"),
        "{err}"
    );
}

/// L10: `USER=alice` does not make the audit say alice: the uid comes from the OS and the name
/// from the user database.
#[test]
fn audit_user_is_the_uid_not_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fleet.yaml");
    std::fs::write(&f, "devices:\n  - {name: a, host: 127.0.0.1, port: 1}\n").unwrap();
    let out = std::process::Command::new(support::tmux::fleetdeck_bin())
        .args([
            "--readonly",
            "--fleet",
            f.to_str().unwrap(),
            "run",
            "--all",
            "--",
            "true",
        ])
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("USER", "alice")
        .env("LOGNAME", "alice")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let audit = std::fs::read_to_string(dir.path().join("state/fleetdeck/audit.jsonl")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    let uid = support::run_ok("id", &["-u"])
        .trim()
        .parse::<u64>()
        .unwrap();
    let name = support::run_ok("id", &["-un"]).trim().to_string();
    assert_eq!(entry["uid"], uid, "{audit}");
    assert_eq!(entry["user"], name.as_str(), "{audit}");
    assert!(!audit.contains("alice"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_pty_size_follows_resize() {
    if !have_sshd() {
        return;
    }
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let s = setup();
    let p = s.sshd.port();
    let yaml = format!(
        "known_hosts: known_hosts\ndevices:\n - {{name: r, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}}}\n",
        s.ed25519.display()
    );
    let b = fleet(s.dir.path(), &yaml, options(s.dir.path(), None, ""));
    let opts = ShellOpts {
        commands: vec![],
        cols: 100,
        rows: 30,
    };
    let mut sh = b.shell(&key(&b, "r"), &opts).await.unwrap();
    let mut seen = String::new();
    async fn until(sh: &mut fleetdeck::backend::ShellSession, seen: &mut String, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !seen.contains(needle) {
            assert!(Instant::now() < deadline, "waiting for {needle}: {seen}");
            if let Ok(Some(Ok(c))) =
                tokio::time::timeout(Duration::from_millis(500), sh.output.next()).await
            {
                seen.push_str(&String::from_utf8_lossy(&c));
            }
        }
    }
    sh.input
        .write_all(b"echo size=$(stty size | tr ' ' x)\n")
        .await
        .unwrap();
    until(&mut sh, &mut seen, "size=30x100").await;
    sh.resize.send((120, 40)).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    sh.input
        .write_all(b"echo size=$(stty size | tr ' ' x)\n")
        .await
        .unwrap();
    until(&mut sh, &mut seen, "size=40x120").await;
    sh.input.write_all(b"exit\n").await.unwrap();
    // The stream ends when the remote shell exits.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while sh.output.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "output ends after exit");
}
