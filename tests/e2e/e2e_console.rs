//! The real binary in tmux against the real Docker Engine, driven as an operator would.

use crate::support;

use std::time::{Duration, Instant};

use support::tmux::{Tmux, fleetdeck_bin, process_alive, shell_quote, tmux_available};
use support::{TestContainer, docker_available, require};

const T: Duration = Duration::from_secs(15);

fn ready() -> bool {
    require("tmux", tmux_available()) && require("docker", docker_available())
}

fn console(args: &str) -> Tmux {
    Tmux::start(
        &format!("{} {args}", shell_quote(fleetdeck_bin())),
        120,
        35,
        &[],
    )
}

/// Launch, wait for `name`, filter the table down to it.
fn console_filtered_to(name: &str, args: &str) -> Tmux {
    let t = console(args);
    t.wait_for(name, T);
    t.keys(&["/"]);
    t.type_text(name);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{name}"), T);
    t
}

/// Wait for the exit line and the tty-mode line the wrapper prints after it (`icanon` when
/// the terminal was restored, `-icanon` when not).
fn wait_exit(t: &Tmux, exited: &str) -> String {
    t.wait_until("the exit status and the tty mode", T, |s| {
        s.contains(exited) && s.lines().any(|l| l.trim().ends_with("icanon"))
    })
}

fn tty_restored(screen: &str) -> bool {
    screen.lines().any(|l| l.trim() == "icanon")
}

#[test]
fn list_filter_logs_help_and_quit_restores_the_terminal() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("e2e-logs")
        .cmd(&[
            "sh",
            "-c",
            "echo fleetdeck-e2e-known-line; printf 'before\\033[2Jafter\\n'; \
             printf '\\033]52;c;ZXZpbA==\\007clipboard-attempt-done\\n'; \
             printf '\\033[31mred-line\\033[0m\\n'; trap 'exit 0' TERM; while :; do sleep 1; done",
        ])
        .run();
    let t = console_filtered_to(&c.name, "");
    let screen = t.screen();
    assert!(screen.contains("running"), "state shown:\n{screen}");
    assert!(screen.contains(" 1/"), "filter leaves one row:\n{screen}");

    t.keys(&["l"]);
    let screen = t.wait_for("clipboard-attempt-done", T);
    assert!(screen.contains("fleetdeck-e2e-known-line"));
    assert!(
        screen.contains("beforeafter"),
        "ESC[2J neutralised, text kept:\n{screen}"
    );
    assert!(screen.contains("red-line"));
    assert!(
        !screen.contains("ZXZpbA"),
        "OSC 52 payload never reaches the terminal:\n{screen}"
    );
    // The screen was not cleared by ESC[2J: the header is still there.
    assert!(screen.contains("fleetdeck"), "header survived:\n{screen}");

    t.keys(&["Escape"]);
    t.wait_until("back on the table", T, |s| {
        s.contains("NAME") && s.contains(&c.name)
    });
    t.keys(&["?"]);
    t.wait_for("Help", T);
    t.keys(&["Escape"]);
    t.wait_gone("Help —", T);
    t.keys(&["q"]);
    let screen = wait_exit(&t, "EXITED:0");
    assert!(
        tty_restored(&screen),
        "terminal back in cooked mode after quit:\n{screen}"
    );
}

#[test]
fn shell_hands_the_terminal_over_and_comes_back() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("e2e-shell").run();
    let t = console_filtered_to(&c.name, "");
    t.keys(&["s"]);
    t.wait_for("~. to detach", T);
    t.type_text("echo fleetdeck-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_for("fleetdeck-42", T);
    t.type_text("exit");
    t.keys(&["Enter"]);
    let screen = t.wait_until("the table again", T, |s| {
        s.contains("NAME") && s.contains(&c.name)
    });
    assert!(
        screen.contains(&format!("/{}", c.name)),
        "filter kept: back exactly where we were:\n{screen}"
    );

    // `~.` after a newline detaches without ending the remote shell's container.
    t.keys(&["s"]);
    t.wait_for("~. to detach", T);
    t.keys(&["Enter", "~", "."]);
    let screen = t.wait_until("the table after detach", T, |s| {
        s.contains("NAME") && s.contains("detached")
    });
    assert!(screen.contains(&c.name));
    t.keys(&["q"]);
    let screen = wait_exit(&t, "EXITED:0");
    assert!(tty_restored(&screen), "{screen}");
}

#[test]
fn stop_asks_first_and_is_audited() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("e2e-stop").run();
    let t = console_filtered_to(&c.name, "");
    t.keys(&["x"]);
    t.wait_for("Stop container", T);
    t.keys(&["n"]);
    t.wait_gone("Stop container", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        c.inspect("{{.State.Status}}").as_deref(),
        Some("running"),
        "cancel does nothing"
    );

    t.keys(&["x"]);
    t.wait_for("Stop container", T);
    t.keys(&["y"]);
    assert!(
        c.wait_state("exited", T),
        "confirmed stop stops the container"
    );
    t.wait_for("exited", T);

    let audit = t.state_dir().join("audit.jsonl");
    let ok = support::wait_until(T, || {
        std::fs::read_to_string(&audit)
            .map(|s| s.contains("\"phase\":\"result\""))
            .unwrap_or(false)
    });
    assert!(ok, "audit result written");
    let text = std::fs::read_to_string(&audit).unwrap_or_default();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(entries.len(), 2, "attempt + result: {text}");
    assert_eq!(entries[0]["phase"], "attempt");
    assert_eq!(entries[0]["action"], "stop");
    assert!(
        entries[0]["target"]
            .as_str()
            .unwrap_or("")
            .contains(&c.name)
    );
    assert_eq!(entries[1]["ok"], true);
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

#[test]
fn read_only_refuses_mutations_and_audits_the_refusal() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("e2e-ro").run();
    let t = console_filtered_to(&c.name, "--readonly");
    let screen = t.screen();
    assert!(
        screen.contains("READ-ONLY"),
        "badge in the header:\n{screen}"
    );
    t.keys(&["C-d"]);
    t.wait_for("read-only mode: remove", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.inspect("{{.State.Status}}").as_deref(), Some("running"));
    let audit = t.state_dir().join("audit.jsonl");
    assert!(
        support::wait_until(T, || std::fs::read_to_string(&audit)
            .map(|s| s.contains("refused"))
            .unwrap_or(false)),
        "refusal audited"
    );
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

#[test]
fn changes_from_another_terminal_show_up_live() {
    if !ready() {
        return;
    }
    let marker = support::unique_name("live");
    let t = console("");
    t.wait_for("NAME", T);
    t.keys(&["/"]);
    t.type_text(&marker);
    t.keys(&["Enter"]);
    t.wait_for(&format!("no containers match /{marker}"), T);
    let c = TestContainer::spec(&marker).run();
    let start = Instant::now();
    t.wait_for("running", Duration::from_secs(5));
    let appeared = start.elapsed();
    support::run_ok("docker", &["stop", "-t", "1", &c.name]);
    let start = Instant::now();
    t.wait_for("exited", Duration::from_secs(5));
    let stopped = start.elapsed();
    eprintln!("appeared after {appeared:?}, stop seen after {stopped:?} (includes tmux polling)");
    assert!(appeared < Duration::from_secs(1) && stopped < Duration::from_secs(1));
    t.keys(&["q"]);
}

#[test]
fn hangup_ends_the_console() {
    if !ready() {
        return;
    }
    let t = console("");
    t.wait_for("NAME", T);
    let pid = t.program_pid().expect("fleetdeck pid");
    assert!(process_alive(pid));
    // Closing the terminal is what a dropped SSH session does: SIGHUP and a dead tty.
    t.kill_session();
    assert!(
        support::wait_until(Duration::from_secs(5), || !process_alive(pid)),
        "fleetdeck {pid} still running after hang-up"
    );
}

/// A terminal that disappears under the console (tmux killed, SSH dropped) must not make the
/// exit panic: ratatui's `Drop` reported the failed cursor restore with `eprintln!`, which
/// panicked on the dead tty and landed in fleetdeck.log as `panic: … failed printing to stderr`.
#[test]
fn hangup_leaves_no_panic_behind() {
    if !require("tmux", tmux_available()) {
        return;
    }
    for round in 0..3 {
        let t = console("--docker-host unix:///nonexistent/docker.sock");
        t.wait_for("cannot reach Docker", T);
        let pid = t.program_pid().expect("fleetdeck pid");
        t.kill_session();
        assert!(
            support::wait_until(Duration::from_secs(5), || !process_alive(pid)),
            "fleetdeck {pid} still running after hang-up"
        );
        let log = std::fs::read_to_string(t.state_dir().join("fleetdeck.log")).unwrap_or_default();
        assert!(
            !log.contains("panic") && !log.contains("failed printing"),
            "round {round}: {log}"
        );
    }
}

#[test]
fn sigterm_restores_the_terminal() {
    if !ready() {
        return;
    }
    let t = console("");
    t.wait_for("NAME", T);
    let pid = t.program_pid().expect("fleetdeck pid");
    support::run_ok("kill", &["-TERM", &pid.to_string()]);
    let screen = wait_exit(&t, "EXITED:");
    assert!(tty_restored(&screen), "{screen}");
}

#[test]
fn unreachable_engine_is_reported_and_the_console_keeps_working() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let t = console("--docker-host unix:///nonexistent/docker.sock");
    let screen = t.wait_for("cannot reach Docker", T);
    // The header chip: the state first, then as much of the error as fits.
    assert!(screen.contains("docker:local reconnecting in"), "{screen}");
    t.keys(&["?"]);
    // Help lists every source's whole status.
    let screen = t.wait_for("Help", T);
    assert!(screen.contains("Sources"), "{screen}");
    t.keys(&["Escape", ":"]);
    t.type_text("images");
    t.keys(&["Enter"]);
    t.wait_for("Images", T);
    t.keys(&["q"]);
    let screen = wait_exit(&t, "EXITED:0");
    assert!(tty_restored(&screen));
}

#[test]
fn malformed_default_config_warns_with_position_and_runs_on_defaults() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let t = console("--docker-host unix:///nonexistent/docker.sock");
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
    drop(t);
    // A fresh console whose default config file is broken on line 3.
    let t = Tmux::start(
        &format!(
            "mkdir -p \"$XDG_CONFIG_HOME/fleetdeck\" && printf 'theme: default\\nlogs:\\n  tail: [oops\\n' > \"$XDG_CONFIG_HOME/fleetdeck/config.yaml\" && {} --docker-host unix:///nonexistent/docker.sock",
            shell_quote(fleetdeck_bin())
        ),
        120,
        35,
        &[],
    );
    let screen = t.wait_for("config.yaml:3:", T);
    assert!(screen.contains("running on defaults"), "{screen}");
    assert!(screen.contains("NAME"), "table still shown:\n{screen}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

/// An appliance or bastion without Docker: `docker: false` shows no Docker source and opens on
/// devices instead of an empty containers table retrying forever; `--view` picks the start
/// view, an unknown one is refused; `TERM=dumb` gets a sentence pointing to the CLI, not
/// escape soup.
#[test]
fn docker_off_start_view_and_a_dumb_terminal() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "docker: false\n").unwrap();
    let config = shell_quote(&config.display().to_string());

    let t = console(&format!("--config {config}"));
    let screen = t.wait_for("no sources configured", T);
    assert!(screen.contains("Devices"), "{screen}");
    assert!(!screen.contains("docker:"), "{screen}");
    t.keys(&["q"]);
    wait_exit(&t, "EXITED:0");

    let t = console(&format!("--config {config} --view pods"));
    t.wait_for("Pods", T);

    let t = console("--view nope");
    let screen = wait_exit(&t, "EXITED:2");
    assert!(screen.contains("--view: no view named `nope`"), "{screen}");

    let t = Tmux::start(
        &format!("TERM=dumb {}", shell_quote(fleetdeck_bin())),
        120,
        35,
        &[],
    );
    let screen = wait_exit(&t, "EXITED:2");
    assert!(
        screen.contains("TERM=dumb cannot show the console"),
        "{screen}"
    );
    assert!(tty_restored(&screen), "{screen}");
}

/// The raw bytes the console writes, under `script` (a real pty, no tmux re-encoding in
/// between): with `TERM` as given, until `q`.
fn raw_output(term: &str) -> Vec<u8> {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("typescript");
    let cmd = format!(
        "stty cols 100 rows 30; TERM={term} {} --docker-host unix:///nonexistent/docker.sock",
        shell_quote(fleetdeck_bin())
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &cmd])
        .arg(&log)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env_remove("COLORTERM")
        .env_remove("LC_ALL")
        .env("LANG", "C.UTF-8")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("script (util-linux)");
    let drawn = support::wait_until(T, || {
        std::fs::read(&log).is_ok_and(|b| b.windows(4).any(|w| w == b"NAME"))
    });
    assert!(drawn, "no table drawn under TERM={term}");
    child.stdin.as_mut().unwrap().write_all(b"q").unwrap();
    assert!(child.wait().unwrap().success());
    std::fs::read(&log).unwrap()
}

/// 16-colour terminals (`TERM=linux`, `xterm`, `vt100`) get the classic SGR colour codes
/// (30–37, 90–97), never `38;5;N`, which many of them do not understand; 256-colour terminals
/// keep the indexed form.
#[test]
fn sixteen_colour_terminals_get_classic_sgr_codes() {
    let has = |out: &[u8], pat: &[u8]| out.windows(pat.len()).any(|w| w == pat);
    let out = raw_output("xterm");
    assert!(!has(&out, b"\x1b[38;5;"), "38;5;N sent to TERM=xterm");
    assert!(!has(&out, b"\x1b[59m"));
    assert!(
        has(&out, b"\x1b[9") || has(&out, b"\x1b[3"),
        "no colour at all"
    );
    let out = raw_output("xterm-256color");
    assert!(
        has(&out, b"\x1b[38;5;"),
        "256-colour terminals keep indexed colours"
    );
}

/// `LANG=C` (a serial console, a minimal appliance): not one character outside ASCII reaches
/// the terminal — borders, status dots, arrows, ellipses — and the layout stays; `--ascii`
/// forces it under a UTF-8 locale too.
#[test]
fn a_c_locale_gets_ascii_only() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let cmd = format!(
        "{} --docker-host unix:///nonexistent/docker.sock",
        shell_quote(fleetdeck_bin())
    );
    let utf8 = Tmux::start(&cmd, 100, 30, &[]);
    let screen = utf8.wait_for("NAME", T);
    assert!(
        !screen.is_ascii(),
        "a UTF-8 locale keeps the glyphs: {screen}"
    );
    for (env, args) in [(&[("LANG", "C")][..], ""), (&[][..], " --ascii")] {
        let t = Tmux::start(&format!("{cmd}{args}"), 100, 30, env);
        let screen = t.wait_for("NAME", T);
        assert!(screen.is_ascii(), "{env:?}{args}: {screen}");
        t.keys(&["?"]);
        let help = t.wait_for("Esc closes", T);
        assert!(help.is_ascii(), "{help}");
    }
}

/// `:timeline` in the real console: a container killed from another terminal shows as `kill`
/// then `die` (newest first), `/` keeps its rows, Enter lands on its row in the containers view.
#[test]
fn timeline_shows_a_kill_live_and_enter_opens_the_container() {
    if !ready() {
        return;
    }
    let marker = support::unique_name("tl");
    let t = console("");
    t.wait_for("NAME", T);
    t.keys(&[":"]);
    t.type_text("tl");
    t.keys(&["Enter"]);
    t.wait_for("Timeline", T);
    let c = TestContainer::spec(&marker).run();
    support::run_ok("docker", &["kill", &c.name]);
    t.wait_for("exit code 137", Duration::from_secs(5));
    t.keys(&["/"]);
    t.type_text(&marker);
    t.keys(&["Enter"]);
    t.wait_for("exit code 137", T);
    t.keys(&["Enter"]);
    // The containers view, on top of the timeline (names are cut at the column's width;
    // the row selected is asserted by tests/console/app_timeline.rs).
    t.wait_for("Timeline › Containers", T);
    t.wait_for("Exited (137)", T);
    t.keys(&["q"]);
}

/// `:triage` in the real console: the badge counts problems on the containers view, the
/// triage table shows an unhealthy and an exited container in the engine's words, Enter lands
/// on the container's own view, and a removed container leaves the table.
#[test]
fn triage_shows_problems_opens_them_and_forgets_fixed_ones() {
    if !ready() {
        return;
    }
    let sick = TestContainer::spec("tri-ui-sick")
        .arg("--health-cmd=echo no answer on 8080; exit 1")
        .arg("--health-interval=1s")
        .arg("--health-retries=1")
        .run();
    let exited = TestContainer::spec("tri-ui-exit")
        .cmd(&["sh", "-c", "exit 1"])
        .run();
    assert!(exited.wait_state("exited", T));
    // Wide enough for the test containers' full names.
    let t = Tmux::start(&shell_quote(fleetdeck_bin()), 200, 35, &[]);
    t.wait_for(&exited.name, T);
    t.wait_for("problem", T);
    t.keys(&[":"]);
    t.type_text("triage");
    t.keys(&["Enter"]);
    t.wait_for("unhealthy: no answer on 8080", T);
    t.wait_for("exited with code 1", T);
    t.keys(&["/"]);
    t.type_text(&sick.name);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{}", sick.name), T);
    t.keys(&["Enter"]);
    let screen = t.wait_for("Triage › Containers", T);
    assert!(screen.contains(&sick.name), "{screen}");
    t.keys(&["Escape", "Escape"]);
    t.wait_for(&exited.name, T);
    drop(sick);
    let screen = t.wait_gone("no answer on 8080", T);
    assert!(screen.contains("exited with code 1"), "{screen}");
    t.keys(&[":"]);
    t.type_text("q!");
    t.keys(&["Enter"]);
}

/// A log view follows its container through `docker restart`: the lines from before stay, a
/// `── restarted HH:MM:SS ──` marker (`-- restarted HH:MM:SS --` with `--ascii`) and the new
/// instance's lines follow.
#[test]
fn logs_follow_a_container_through_docker_restart() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("e2e-rs")
        .cmd(&[
            "sh",
            "-c",
            "n=$(cat /boots 2>/dev/null || echo 0); n=$((n+1)); echo $n > /boots; \
             echo boot-number-$n; trap 'exit 0' TERM; while :; do sleep 1; done",
        ])
        .run();
    for (args, mark, boot) in [("", "── restarted ", 2), (" --ascii", "-- restarted ", 3)] {
        let t = console_filtered_to(&c.name, args);
        t.keys(&["l"]);
        t.wait_for(&format!("boot-number-{}", boot - 1), T);
        support::run_ok("docker", &["restart", "-t", "1", &c.name]);
        let screen = t.wait_for(&format!("boot-number-{boot}"), T);
        let lines: Vec<&str> = screen.lines().collect();
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{screen}"))
        };
        let before = at(&format!("boot-number-{}", boot - 1));
        let marker = at(mark);
        assert!(
            before < marker && marker < at(&format!("boot-number-{boot}")),
            "before, marker, after:\n{screen}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.contains(mark)).count(),
            1,
            "one marker per restart:\n{screen}"
        );
        if !args.is_empty() {
            assert!(screen.is_ascii(), "{screen}");
        }
        t.keys(&["q"]);
        t.keys(&["q"]);
        wait_exit(&t, "EXITED:0");
    }
}

/// `--local` (#14): this machine as a device: its row with facts, its logs, and its shell
/// (the real terminal handed to `$SHELL`, then the console back where it was).
#[test]
fn local_device_shows_its_facts_logs_and_shell() {
    if !require("tmux", tmux_available()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "docker: false\n").unwrap();
    let t = Tmux::start(
        &format!(
            "{} --config {} --local --view devices",
            shell_quote(fleetdeck_bin()),
            shell_quote(&config.display().to_string())
        ),
        140,
        35,
        &[("SHELL", "/bin/sh")],
    );
    let host = fleetdeck::backend::registry::hostname();
    let kernel = support::run_ok("uname", &["-r"]);
    let kernel: String = kernel.trim().chars().take(5).collect();
    let row = |s: &str| {
        s.lines().any(|l| {
            l.starts_with(&host)
                && l.contains(" up ")
                && l.contains(" local ")
                && l.contains(&kernel)
        })
    };
    let screen = t.wait_until("the local device with its facts", T, row);
    assert!(screen.contains("fleet:local"), "{screen}");

    t.keys(&["l"]);
    let screen = t.wait_for(&format!("Logs({host})"), T);
    assert!(!screen.contains("no device"), "{screen}");
    t.keys(&["Escape"]);
    t.wait_until("the devices again", T, row);

    t.keys(&["s"]);
    t.wait_for("exit to return", T);
    t.type_text("echo fleetdeck-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_for("fleetdeck-42", T);
    t.type_text("exit");
    t.keys(&["Enter"]);
    let screen = t.wait_until("the devices after the shell", T, |s| {
        row(s) && s.contains("exited")
    });
    assert!(screen.contains("Devices"), "{screen}");
    t.keys(&["q"]);
    let screen = wait_exit(&t, "EXITED:0");
    assert!(tty_restored(&screen), "{screen}");
}
