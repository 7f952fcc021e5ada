//! The console harness: an `AppState` fed the way the terminal and the backends feed it, with no
//! terminal and no engine. Build a state ([`state`], [`bare_state`]), give it rows
//! ([`snapshot`], [`status`]), press keys in the keymap's own notation ([`key`] takes `"ctrl-d"`,
//! `"U"`, `"enter"`, a `KeyCode` or a `char`; [`typed`] takes text with `<name>` for named keys,
//! `":pods<enter>"`), draw it at a size into a ratatui `TestBackend` ([`draw`], for insta
//! snapshots) and read what came out ([`acts`], [`names`], [`toast`], [`top_table`]).
//!
//! Every key and message goes through `fleetdeck::app::update`, the reducer the real console
//! runs; every helper returns the effects it produced.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::app::action::Action;
use fleetdeck::app::state::View;
use fleetdeck::app::{AppState, Effect, Msg, update};
use fleetdeck::backend::BackendEvent;
use fleetdeck::config::{KeyChord, Settings, load_settings};
use fleetdeck::model::{
    Resource, ResourceAction, ResourceKey, ResourceKind, SourceId, SourceStatus,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Settings as the binary loads them with the built-in `default` theme and keymap. Loading reads
/// the environment (config directory, `NO_COLOR`, `TERM`), so it holds [`super::env_lock`]:
/// tests in the same binary change those variables.
pub fn loaded_settings() -> Settings {
    let _env = super::env_lock();
    load_settings(None, Some("default"), Some("default"))
        .expect("defaults")
        .value
}

/// A console with [`loaded_settings`], read-only or not.
pub fn state(read_only: bool) -> AppState {
    AppState::new(loaded_settings(), read_only)
}

/// A console with the built-in `Settings::default()` (never the machine's files or environment),
/// not read-only: what the view snapshots draw.
pub fn bare_state() -> AppState {
    AppState::new(Settings::default(), false)
}

/// A source reports its status (the header and the unreachable marks read it).
pub fn status(st: &mut AppState, source: &SourceId, status: SourceStatus) -> Vec<Effect> {
    update(
        st,
        Msg::Backend(BackendEvent::Status(source.clone(), status)),
    )
}

/// `source` sends a complete list of `kind`.
pub fn snapshot(
    st: &mut AppState,
    source: &SourceId,
    kind: ResourceKind,
    resources: Vec<Resource>,
) -> Vec<Effect> {
    update(
        st,
        Msg::Backend(BackendEvent::Snapshot {
            source: source.clone(),
            kind,
            resources,
        }),
    )
}

/// One key, as a keymap names it (`"ctrl-d"`, `"U"`, `"enter"`, `"shift-tab"`), a `KeyCode`
/// (no modifiers), a `char` or a whole `KeyEvent`.
pub trait IntoKey {
    fn into_key(self) -> KeyEvent;
}

impl IntoKey for KeyEvent {
    fn into_key(self) -> KeyEvent {
        self
    }
}

impl IntoKey for KeyCode {
    fn into_key(self) -> KeyEvent {
        KeyEvent::new(self, KeyModifiers::NONE)
    }
}

impl IntoKey for char {
    fn into_key(self) -> KeyEvent {
        KeyCode::Char(self).into_key()
    }
}

impl IntoKey for &str {
    fn into_key(self) -> KeyEvent {
        let chord = KeyChord::parse(self).unwrap_or_else(|e| panic!("key {self:?}: {e}"));
        KeyEvent::new(chord.code, chord.modifiers)
    }
}

/// Press one key (see [`IntoKey`]).
pub fn key(st: &mut AppState, k: impl IntoKey) -> Vec<Effect> {
    update(st, Msg::Term(Event::Key(k.into_key())))
}

/// Type `text` key by key; `<name>` is the named key (`"gw-1<enter>"`, `":pods<enter>"`,
/// `"<ctrl-d>"`). A `<` that does not start a key name is typed as itself.
pub fn typed(st: &mut AppState, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && end > 2
            && let Ok(chord) = KeyChord::parse(&rest[1..end])
        {
            fx.extend(key(st, KeyEvent::new(chord.code, chord.modifiers)));
            rest = &rest[end + 1..];
            continue;
        }
        fx.extend(key(st, c));
        rest = &rest[c.len_utf8()..];
    }
    fx
}

/// `:text` and Enter in the command bar, the text typed literally. Returns the effects of the
/// Enter.
pub fn command(st: &mut AppState, text: &str) -> Vec<Effect> {
    key(st, ':');
    for c in text.chars() {
        key(st, c);
    }
    key(st, KeyCode::Enter)
}

/// Dispatch an action directly, as a key bound to it would.
pub fn act(st: &mut AppState, a: Action) -> Vec<Effect> {
    update(st, Msg::Action(a))
}

/// Draw the whole console at `w`×`h` into a TestBackend; the buffer as text (for insta).
pub fn draw(st: &mut AppState, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| fleetdeck::ui::render(f, st)).expect("draw");
    format!("{}", term.backend())
}

/// The resource actions among `fx`: target name and action.
pub fn acts(fx: &[Effect]) -> Vec<(String, ResourceAction)> {
    acts_with_keys(fx)
        .into_iter()
        .map(|(_, name, action)| (name, action))
        .collect()
}

/// The resource actions among `fx` with their keys.
pub fn acts_with_keys(fx: &[Effect]) -> Vec<(ResourceKey, String, ResourceAction)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Act { key, name, action } => Some((key.clone(), name.clone(), action.clone())),
            _ => None,
        })
        .collect()
}

/// The names of the rows in the table on top (panics when the top is not a table).
pub fn names(st: &AppState) -> Vec<String> {
    match st.top() {
        View::Table(t) => t.rows.iter().map(|r| r.name.clone()).collect(),
        _ => panic!("top is not a table"),
    }
}

/// The kind and parent of the table on top.
pub fn top_table(st: &AppState) -> (ResourceKind, Option<String>) {
    let View::Table(t) = st.top() else {
        panic!("a table on top")
    };
    (t.kind, t.parent.clone())
}

/// The toast's text, empty when there is none.
pub fn toast(st: &AppState) -> String {
    st.toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}
