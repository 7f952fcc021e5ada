//! Keys and navigation (#15), the real binary in tmux against the real Docker Engine: k9s
//! movement, `y` copying through OSC 52 into tmux's buffer, Enter not confirming a y/n dialog,
//! the `:kind` history (`-`, `[`, `]`), the last view remembered across a restart, `--view`,
//! and a malformed state file that does not stop the console.

use crate::support;

use std::time::Duration;

use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
use support::{TestContainer, TestVolume, docker_available, require};

const T: Duration = Duration::from_secs(15);

fn ready() -> bool {
    require("tmux", tmux_available()) && require("docker", docker_available())
}

/// The console with `args`, its XDG state in `state` when given (a restart shares it).
fn console(args: &str, state: Option<&std::path::Path>) -> Tmux {
    let state = state.map(|p| p.display().to_string());
    let env: Vec<(&str, &str)> = state
        .as_deref()
        .map(|s| vec![("XDG_STATE_HOME", s)])
        .unwrap_or_default();
    Tmux::start(
        &format!("{} {args}", shell_quote(fleetdeck_bin())),
        120,
        35,
        &env,
    )
}

/// `y`, then the toast naming what was copied.
fn copy(t: &Tmux, name: &str) {
    t.keys(&["y"]);
    t.wait_for(&format!("copied name {name} (OSC 52)"), T);
}

fn quit(t: &Tmux) {
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

#[test]
fn j_k_g_shift_g_move_and_y_copies_into_the_tmux_buffer() {
    if !ready() {
        return;
    }
    let tag = format!("keysnav{}", std::process::id());
    let cs: Vec<TestContainer> = ["a", "b", "c"]
        .iter()
        .map(|s| TestContainer::spec(&format!("{tag}-{s}")).run())
        .collect();
    let t = console("", None);
    // tmux takes OSC 52 from the program into its paste buffer.
    t.command(&["set", "-g", "set-clipboard", "on"]);
    t.wait_for(&cs[2].name, T);
    t.keys(&["/"]);
    t.type_text(&tag);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{tag}"), T);
    copy(&t, &cs[0].name);
    let buffer = t.command(&["show-buffer"]);
    assert_eq!(buffer, cs[0].name, "the copy reached tmux's buffer");
    t.keys(&["j"]);
    copy(&t, &cs[1].name);
    t.keys(&["G"]);
    copy(&t, &cs[2].name);
    t.keys(&["k"]);
    copy(&t, &cs[1].name);
    t.keys(&["g"]);
    copy(&t, &cs[0].name);
    assert_eq!(t.command(&["show-buffer"]), cs[0].name);
    // An unbound key says so.
    t.keys(&["Z"]);
    t.wait_for("Z: no action here", T);
    quit(&t);
}

#[test]
fn enter_does_not_confirm_a_destructive_dialog() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("keys-enter").run();
    let t = console("", None);
    t.wait_for(&c.name, T);
    t.keys(&["/"]);
    t.type_text(&c.name);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{}", c.name), T);
    t.keys(&["C-d"]);
    t.wait_for("[y] yes", T);
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(1500));
    let screen = t.screen();
    assert!(screen.contains("[y] yes"), "still asking:\n{screen}");
    assert!(
        c.inspect("{{.State.Running}}").as_deref() == Some("true"),
        "Enter removed the container"
    );
    t.keys(&["n"]);
    t.wait_gone("[y] yes", T);
    assert_eq!(c.inspect("{{.State.Running}}").as_deref(), Some("true"));
    quit(&t);
}

#[test]
fn history_back_forward_and_previous_view() {
    if !ready() {
        return;
    }
    let c = TestContainer::spec("keys-hist").run();
    let v = TestVolume::create("keys-hist", &[]);
    let t = console("", None);
    t.wait_for(&c.name, T);
    t.keys(&["/"]);
    t.type_text(&c.name);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{}", c.name), T);
    t.keys(&[":"]);
    t.type_text("volumes");
    t.keys(&["Enter"]);
    t.wait_for(&v.name, T);
    t.keys(&[":"]);
    t.type_text("images");
    t.keys(&["Enter"]);
    t.wait_gone(&v.name, T);
    // `[` back to volumes, `[` to the containers with their filter.
    t.keys(&["["]);
    t.wait_for(&v.name, T);
    t.keys(&["["]);
    let screen = t.wait_for(&c.name, T);
    assert!(
        screen.contains(&format!("/{}", c.name)),
        "the filter kept:\n{screen}"
    );
    // `]` forward to volumes; `-` toggles between the last two.
    t.keys(&["]"]);
    t.wait_for(&v.name, T);
    t.keys(&["-"]);
    t.wait_for(&format!("/{}", c.name), T);
    t.keys(&["-"]);
    t.wait_for(&v.name, T);
    quit(&t);
}

#[test]
fn the_last_view_and_filter_come_back_and_view_overrides_them() {
    if !ready() {
        return;
    }
    let v = TestVolume::create("keys-last", &[]);
    let other = TestVolume::create("keys-last-other", &[]);
    let state = tempfile::tempdir().expect("tempdir");
    let t = console("", Some(state.path()));
    t.keys(&[":"]);
    t.type_text("volumes");
    t.keys(&["Enter"]);
    t.wait_for(&other.name, T);
    t.keys(&["/"]);
    t.type_text(&v.name);
    t.keys(&["Enter"]);
    t.wait_gone(&other.name, T);
    quit(&t);
    drop(t);

    // A restart opens on the volumes, filtered as they were left.
    let t = console("", Some(state.path()));
    let screen = t.wait_for(&format!("/{}", v.name), T);
    assert!(screen.contains("Volumes"), "the kind is back:\n{screen}");
    t.wait_for(&v.name, T);
    assert!(!t.screen().contains(&other.name), "the filter is back");
    quit(&t);
    drop(t);

    // `--view` wins over the remembered view.
    let t = console("--view containers", Some(state.path()));
    let screen = t.wait_for("Containers", T);
    assert!(!screen.contains(&format!("/{}", v.name)), "{screen}");
    quit(&t);
    drop(t);

    // A malformed state file is ignored: the console starts on its default view.
    std::fs::write(
        state.path().join("fleetdeck").join("last-view.json"),
        "{ not json",
    )
    .expect("write");
    let t = console("", Some(state.path()));
    t.wait_for("Containers", T);
    quit(&t);
}
