//! Fleet figures (ignored by default; run with the release binary):
//!
//!   cargo build --release
//!   FLEETDECK_BIN=target/release/fleetdeck cargo test --release --test engines fleet_bench:: -- --ignored --nocapture
//!
//! 100 devices = 10 real sshd instances × 10 loopback ports (sshd listens on at most 16). Measures (a) a full facts refresh
//! of all 100 devices (`fleetdeck ls devices -o json`: connect + auth + the facts script on
//! each, concurrency 32), (b) the peak RSS of that process, (c) the console: launch → the
//! header says 100/100 devices up, and its RSS (VmRSS / VmHWM) with 100 open sessions.
//!
//! Run it on its own (the `fleet_bench::` filter): (b) reads `getrusage(RUSAGE_CHILDREN)`, which
//! counts every child the test process has reaped, and the engines binary holds other tests too.

use crate::support;

use std::time::{Duration, Instant};

use support::sshd::{self, Sshd, SshdOpts, TEST_USER};

fn bin() -> String {
    std::env::var("FLEETDECK_BIN").unwrap_or_else(|_| support::tmux::fleetdeck_bin().to_string())
}

fn max_rss_children_kb() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss())
        .unwrap_or(0)
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore]
fn bench_facts_refresh_100_devices() {
    if !support::require("sshd", sshd::sshd_available()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k, k_pub) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
    let servers: Vec<Sshd> = (0..10)
        .map(|_| {
            Sshd::start(SshdOpts {
                authorized: vec![k_pub.clone()],
                extra_ports: 9,
                ..Default::default()
            })
        })
        .collect();
    let mut known = String::new();
    let mut yaml = "known_hosts: known_hosts\nconcurrency: 32\ndevices:\n".to_string();
    let mut n = 0;
    for s in &servers {
        for p in &s.ports {
            n += 1;
            known += &(s.known_hosts_line(*p) + "\n");
            yaml += &format!(
                " - {{name: dev-{n:03}, host: 127.0.0.1, port: {p}, user: {TEST_USER}, identity_file: {}, tags: [bench]}}\n",
                k.display()
            );
        }
    }
    assert_eq!(n, 100);
    std::fs::write(dir.path().join("known_hosts"), known).unwrap();
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(&fleet, yaml).unwrap();
    let home = tempfile::tempdir().unwrap();
    let env = |c: &mut std::process::Command| {
        c.env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env_remove("SSH_AUTH_SOCK");
    };

    let mut times = Vec::new();
    for _ in 0..5 {
        let mut c = std::process::Command::new(bin());
        c.args([
            "--fleet",
            fleet.to_str().unwrap(),
            "ls",
            "devices",
            "-o",
            "json",
        ]);
        env(&mut c);
        let t0 = Instant::now();
        let out = c.output().unwrap();
        let dt = t0.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = v.as_array().unwrap();
        let with_facts = rows.iter().filter(|r| r["kernel"] != "").count();
        assert_eq!(with_facts, 100, "every device answered: {v}");
        times.push(dt.as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let rss = max_rss_children_kb();
    println!(
        "FIGURE facts refresh of 100 devices (ls devices, concurrency 32): min {:.2}s median {:.2}s max {:.2}s",
        times[0], times[2], times[4]
    );
    println!(
        "FIGURE peak RSS of `ls devices` with 100 devices: {:.1} MB",
        rss as f64 / 1024.0
    );
    assert!(times[2] < 3.0, "median {:.2}s", times[2]);

    if !support::require("tmux", support::tmux::tmux_available()) {
        return;
    }
    let home_s = home.path().display().to_string();
    let cmd = format!(
        "{} --fleet {}",
        support::tmux::shell_quote(&bin()),
        support::tmux::shell_quote(fleet.to_str().unwrap())
    );
    let t0 = Instant::now();
    let t = support::tmux::Tmux::start(&cmd, 160, 40, &[("HOME", home_s.as_str())]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&[":"]);
    t.type_text("devices");
    t.keys(&["Enter"]);
    t.wait_for("100/100 devices up", Duration::from_secs(30));
    let up = t0.elapsed();
    std::thread::sleep(Duration::from_secs(5));
    let pid = t.program_pid().expect("pid");
    let (rss, hwm) = (status_kb(pid, "VmRSS:"), status_kb(pid, "VmHWM:"));
    println!(
        "FIGURE console launch → 100/100 devices up: {:.2}s; RSS {:.1} MB (peak {:.1} MB) with 100 sessions",
        up.as_secs_f64(),
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    assert!(hwm < 40 * 1024, "peak RSS {hwm} kB");

    // Idle between refreshes: CPU of the console over 20 s with 100 sessions open.
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 (utime, stime) are at 11 and 12 after the `)`.
        f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    let hz = 100.0; // USER_HZ on Linux
    let (a, t1) = (ticks(), Instant::now());
    std::thread::sleep(Duration::from_secs(20));
    let cpu = (ticks() - a) as f64 / hz / t1.elapsed().as_secs_f64() * 100.0;
    println!(
        "FIGURE console idle CPU over 20 s with 100 devices (facts interval per fleet file): {cpu:.2} % of one core"
    );
}
