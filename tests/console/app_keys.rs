//! Keys and navigation (#15): k9s movement in the default keymap, the unbound-key hint, Enter
//! on y/n dialogs, `/` opening empty, the `:kind` history (`-`, `[`, `]`), Tab cycling in the
//! command bar, copy (`y`, OSC 52), the help overlay's ends, the footers, and kinds that no
//! configured source lists.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, ModifierKeyCode};
use fleetdeck::app::history::ViewMemo;
use fleetdeck::app::state::{Mode, View};
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::model::{
    Health, LogLine, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, StyledText,
};

use crate::support::console::*;

fn docker() -> SourceId {
    SourceId::new("docker:local")
}

fn container(name: &str, status: &str) -> Resource {
    let cells = [name, "busybox", "running", status, "0", "", "", "shop", ""];
    assert_eq!(cells.len(), ResourceKind::Container.spec().columns.len());
    Resource {
        key: ResourceKey {
            source: docker(),
            kind: ResourceKind::Container,
            id: format!("id-{name}"),
        },
        name: name.into(),
        parent: None,
        health: Health::Ok,
        cells: cells.iter().map(|s| s.to_string()).collect(),
        created: None,
        labels: Default::default(),
        facts: Default::default(),
    }
}

/// A console (built-in default keymap) with web-1 … web-5 listed.
fn containers() -> AppState {
    let mut st = state(false);
    let rows = (1..=5)
        .map(|i| container(&format!("web-{i}"), &format!("Up {i} minutes")))
        .collect();
    snapshot(&mut st, &docker(), ResourceKind::Container, rows);
    st
}

fn selected(st: &AppState) -> String {
    match st.top() {
        View::Table(t) => t.selected_row().map(|r| r.name.clone()).unwrap_or_default(),
        _ => panic!("a table on top"),
    }
}

fn copied(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Copy(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn footer(st: &mut AppState, w: u16) -> String {
    let screen = draw(st, w, 24);
    screen
        .lines()
        .filter(|l| l.starts_with('"'))
        .nth(23)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn j_k_g_shift_g_and_pages_move_in_tables() {
    let mut st = containers();
    key(&mut st, 'j');
    key(&mut st, 'j');
    assert_eq!(selected(&st), "web-3");
    key(&mut st, 'k');
    assert_eq!(selected(&st), "web-2");
    key(&mut st, 'G');
    assert_eq!(selected(&st), "web-5");
    key(&mut st, 'g');
    assert_eq!(selected(&st), "web-1");
    key(&mut st, "ctrl-f");
    assert_eq!(selected(&st), "web-5");
    key(&mut st, "ctrl-b");
    assert_eq!(selected(&st), "web-1");
}

#[test]
fn an_unbound_key_hints_at_help_and_modifiers_alone_say_nothing() {
    let mut st = containers();
    key(&mut st, 'Z');
    assert_eq!(toast(&st), "Z: no action here — ? lists the keys");
    st.toast = None;
    key(
        &mut st,
        KeyEvent::new(
            KeyCode::Modifier(ModifierKeyCode::LeftShift),
            KeyModifiers::SHIFT,
        ),
    );
    key(&mut st, KeyCode::CapsLock);
    assert!(st.toast.is_none(), "{}", toast(&st));
}

#[test]
fn enter_does_not_confirm_a_y_n_dialog_but_y_does() {
    let mut st = containers();
    key(&mut st, "ctrl-d");
    assert!(matches!(st.mode, Mode::Confirm(_)));
    let fx = key(&mut st, "enter");
    assert!(acts(&fx).is_empty(), "Enter removed something: {fx:?}");
    assert!(matches!(st.mode, Mode::Confirm(_)), "still asking");
    let fx = key(&mut st, 'y');
    assert_eq!(
        acts(&fx),
        vec![("web-1".to_string(), ResourceAction::Remove)]
    );
}

#[test]
fn slash_opens_empty_and_what_is_typed_replaces_the_filter() {
    let mut st = containers();
    typed(&mut st, "/web-2<enter>");
    assert_eq!(names(&st), vec!["web-2"]);
    key(&mut st, '/');
    let Mode::Filter(i) = &st.mode else {
        panic!("filter prompt")
    };
    assert_eq!(i.text, "", "opens empty");
    let line = footer(&mut st, 100);
    assert!(line.contains("/▏"), "the prompt is the key: {line}");
    assert!(line.contains("now /web-2"), "the old filter shown: {line}");
    typed(&mut st, "web-4<enter>");
    assert_eq!(names(&st), vec!["web-4"], "replaced, not appended");
}

#[test]
fn history_goes_back_forward_and_toggles_with_filters_kept() {
    let mut st = containers();
    typed(&mut st, "/web-3<enter>");
    command(&mut st, "pods");
    command(&mut st, "devices");
    assert_eq!(top_table(&st).0, ResourceKind::Device);
    key(&mut st, '[');
    assert_eq!(top_table(&st).0, ResourceKind::Pod);
    key(&mut st, '[');
    assert_eq!(top_table(&st).0, ResourceKind::Container);
    assert_eq!(names(&st), vec!["web-3"], "the filter it was left with");
    key(&mut st, '[');
    assert!(toast(&st).contains("no earlier view"), "{}", toast(&st));
    key(&mut st, ']');
    assert_eq!(top_table(&st).0, ResourceKind::Pod);
    // `-` toggles between the last two views shown.
    key(&mut st, '-');
    assert_eq!(top_table(&st).0, ResourceKind::Container);
    key(&mut st, '-');
    assert_eq!(top_table(&st).0, ResourceKind::Pod);
    // From a log view: the stream stops with the jump.
    key(&mut st, '-');
    key(&mut st, 'l');
    assert!(matches!(st.top(), View::Logs(_)));
    let fx = key(&mut st, '-');
    assert!(fx.contains(&Effect::CloseLogs), "{fx:?}");
    assert_eq!(top_table(&st).0, ResourceKind::Pod);
}

#[test]
fn tab_cycles_completions_and_an_empty_colon_lists_them() {
    let mut st = containers();
    key(&mut st, ':');
    let line = footer(&mut st, 200);
    assert!(
        line.contains("containers") && line.contains("projects"),
        "an empty `:` lists the kinds: {line}"
    );
    typed(&mut st, "p");
    let list = fleetdeck::app::update::completions("p");
    assert!(list.len() >= 3, "{list:?}");
    let text = |st: &AppState| match &st.mode {
        Mode::Command(i) => i.text.clone(),
        _ => panic!("command bar"),
    };
    key(&mut st, "tab");
    assert_eq!(text(&st), list[0]);
    key(&mut st, "tab");
    assert_eq!(text(&st), list[1]);
    key(&mut st, "shift-tab");
    key(&mut st, "shift-tab");
    assert_eq!(text(&st), list[list.len() - 1], "back past the first wraps");
    // A typed key ends the cycle: Tab completes the new text.
    typed(&mut st, "<ctrl-u>dev<tab>");
    assert_eq!(text(&st), "devices");
}

#[test]
fn y_copies_the_name_the_scrolled_cell_the_log_line_and_the_describe_text() {
    let mut st = containers();
    key(&mut st, 'j');
    let fx = key(&mut st, 'y');
    assert_eq!(copied(&fx), vec!["web-2"]);
    assert_eq!(toast(&st), "copied name web-2 (OSC 52)");
    // Scrolled right: the first column scrolled to (IMAGE, the one after the pinned NAME).
    key(&mut st, "right");
    let fx = key(&mut st, 'y');
    assert_eq!(copied(&fx), vec!["busybox"]);
    assert_eq!(toast(&st), "copied image busybox (OSC 52)");
    key(&mut st, "right");
    key(&mut st, "right");
    assert_eq!(copied(&key(&mut st, 'y')), vec!["Up 2 minutes"]);

    // Logs: the newest line while following, the top line once scrolled.
    let fx = key(&mut st, 'l');
    let stream = fx
        .iter()
        .find_map(|e| match e {
            Effect::OpenLogs { stream, .. } => Some(*stream),
            _ => None,
        })
        .expect("logs open");
    let line = |t: &str| LogLine {
        ts: None,
        source: None,
        text: StyledText {
            text: t.into(),
            runs: vec![],
        },
        marker: false,
    };
    update(
        &mut st,
        Msg::Backend(BackendEvent::LogLines {
            stream,
            lines: vec![line("first"), line("second"), line("third")],
        }),
    );
    assert_eq!(copied(&key(&mut st, 'y')), vec!["third"]);
    assert_eq!(toast(&st), "copied log line third (OSC 52)");
    key(&mut st, 'g');
    assert_eq!(copied(&key(&mut st, 'y')), vec!["first"]);
    // The search match wins.
    typed(&mut st, "/sec<enter>");
    assert_eq!(copied(&key(&mut st, 'y')), vec!["second"]);
    key(&mut st, "esc");
    key(&mut st, "esc");

    // Describe: the whole text, once it arrived.
    key(&mut st, 'd');
    assert!(copied(&key(&mut st, 'y')).is_empty());
    let View::Describe(d) = st.top() else {
        panic!("describe")
    };
    let key_ = d.key.clone();
    update(
        &mut st,
        Msg::Described {
            key: key_,
            result: Ok("name: web-2\nimage: busybox\n".into()),
        },
    );
    assert_eq!(
        copied(&key(&mut st, 'y')),
        vec!["name: web-2\nimage: busybox\n"]
    );
    assert_eq!(toast(&st), "copied describe of web-2: 2 lines (OSC 52)");
}

#[test]
fn the_log_search_prompt_shows_slash_and_the_footer_n_n_m() {
    let mut st = containers();
    key(&mut st, 'l');
    let line = footer(&mut st, 120);
    for hint in ["<n> next", "<N> prev", "<m> matches"] {
        assert!(line.contains(hint), "{hint} in {line}");
    }
    key(&mut st, '/');
    let line = footer(&mut st, 120);
    assert!(line.starts_with("\"/▏"), "log search prompt: {line}");
}

#[test]
fn describe_footer_names_back_once() {
    let mut st = containers();
    key(&mut st, 'd');
    let line = footer(&mut st, 120);
    assert_eq!(line.matches("back").count(), 1, "{line}");
}

#[test]
fn help_end_and_pagedown_stop_at_the_last_page() {
    let mut st = containers();
    key(&mut st, '?');
    key(&mut st, 'G');
    draw(&mut st, 80, 24);
    let Mode::Help { scroll: last } = st.mode else {
        panic!("help")
    };
    assert!(last > 0 && last < 200, "clamped to the last page: {last}");
    for _ in 0..20 {
        key(&mut st, "pagedown");
        draw(&mut st, 80, 24);
    }
    let Mode::Help { scroll } = st.mode else {
        panic!("help")
    };
    assert_eq!(scroll, last, "PageDown does not scroll past the end");
    let screen = draw(&mut st, 80, 24);
    assert!(screen.contains(":quit"), "the last line in view:\n{screen}");
    key(&mut st, "pageup");
    key(&mut st, 'g');
    let Mode::Help { scroll } = st.mode else {
        panic!("help")
    };
    assert_eq!(scroll, 0);
}

#[test]
fn a_kind_no_source_lists_says_how_to_configure_one() {
    let mut st = containers();
    st.served = Some(vec![ResourceKind::Container, ResourceKind::Image]);
    command(&mut st, "po");
    let screen = draw(&mut st, 120, 24);
    assert!(
        screen.contains("no Kubernetes source configured: set KUBECONFIG or `kube:` in the config"),
        "{screen}"
    );
    assert!(!screen.contains("no pods"), "{screen}");
    command(&mut st, "devices");
    let screen = draw(&mut st, 120, 24);
    assert!(screen.contains("no device fleet configured"), "{screen}");
    command(&mut st, "mdevices");
    assert!(draw(&mut st, 120, 24).contains("no Mender server configured"));
    // A kind a source lists is not concerned.
    command(&mut st, "containers");
    let screen = draw(&mut st, 120, 24);
    assert!(!screen.contains("source configured"), "{screen}");
}

#[test]
fn a_restored_view_has_its_kind_filter_and_sort() {
    let mut st = containers();
    let memo = ViewMemo {
        kind: ResourceKind::Container,
        filter: Some("re:web-[24]".into()),
        sort_column: 0,
        sort_descending: true,
    };
    fleetdeck::app::update::restore_view(&mut st, &memo);
    assert_eq!(names(&st), vec!["web-4", "web-2"]);
    assert_eq!(fleetdeck::app::last_view::current(&st), Some(memo));
}
