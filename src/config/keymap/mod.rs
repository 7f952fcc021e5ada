//! Keymaps: `{context: {key: action}}` YAML files (built-in `default` and `vim`, user files
//! overriding them key by key) and the lookup from a terminal key event to an [`Action`].

pub(crate) mod file;
mod key;

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use crossterm::event::{KeyEvent, KeyEventKind};

pub use key::{KEY_SYNTAX, KeyChord};

use super::layers;
use super::{ConfigError, Loaded, paths};
use crate::app::action::Action;
use file::KeymapKind;

/// A user dir that never exists: built-ins resolve only against built-ins.
const NO_USER_DIR: &str = "/nonexistent/fleetdeck-builtin-only";

/// Where a key is pressed; a context's own bindings win over `global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    Global,
    Table,
    Logs,
    Describe,
    Dialog,
    Help,
}

impl KeyContext {
    /// Every context, in declaration order (`ctx as usize` indexes this).
    pub const ALL: &'static [KeyContext] = &[
        KeyContext::Global,
        KeyContext::Table,
        KeyContext::Logs,
        KeyContext::Describe,
        KeyContext::Dialog,
        KeyContext::Help,
    ];

    /// The section name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::Table => "table",
            KeyContext::Logs => "logs",
            KeyContext::Describe => "describe",
            KeyContext::Dialog => "dialog",
            KeyContext::Help => "help",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyContext> {
        KeyContext::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Effective key bindings. An empty list in a context's map means "explicitly unbound here":
/// it shadows the global binding of that key instead of falling through to it. A key may name
/// several actions: the first that applies to the selection runs ([`Keymap::lookup_all`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    pub name: String,
    maps: Vec<HashMap<KeyChord, Vec<Action>>>,
}

impl Keymap {
    /// Names of the embedded keymaps.
    pub fn builtin_names() -> Vec<&'static str> {
        layers::builtin_names::<KeymapKind>()
    }

    /// An embedded keymap; `None` for an unknown name.
    pub fn builtin(name: &str) -> Option<Keymap> {
        layers::builtin_text::<KeymapKind>(name)?;
        let chain = layers::chain::<KeymapKind>(name, Path::new(NO_USER_DIR)).ok()?;
        Some(Keymap::merge(name, &chain))
    }

    /// A keymap by name (user file `<config_dir>/keymaps/NAME.yaml` over the built-in of the
    /// same name or of its `inherits:`), or by path.
    pub fn load(name: &str) -> Result<Loaded<Keymap>, ConfigError> {
        Keymap::load_from_dir(name, &paths::keymaps_dir())
    }

    /// [`load`](Self::load) with the user keymap directory given.
    pub fn load_from_dir(name: &str, user_dir: &Path) -> Result<Loaded<Keymap>, ConfigError> {
        let chain = layers::chain::<KeymapKind>(name, user_dir)?;
        let display = Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(name);
        Ok(Loaded {
            value: Keymap::merge(display, &chain),
            warnings: Vec::new(),
        })
    }

    /// Parse one keymap file's text on top of its base (`inherits:` naming a built-in, else the
    /// built-in named like the file, else `default`). `file` names it in errors.
    pub fn from_yaml(text: &str, file: &Path) -> Result<Keymap, ConfigError> {
        let chain = layers::chain_from_text::<KeymapKind>(text, file, Path::new(NO_USER_DIR))?;
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("custom");
        Ok(Keymap::merge(name, &chain))
    }

    fn merge(name: &str, chain: &[file::KeymapLayer]) -> Keymap {
        let mut maps = vec![HashMap::new(); KeyContext::ALL.len()];
        for layer in chain {
            for (ctx, bindings) in &layer.contexts {
                if let Some(map) = maps.get_mut(*ctx as usize) {
                    map.extend(bindings.iter().cloned());
                }
            }
        }
        Keymap {
            name: name.to_string(),
            maps,
        }
    }

    fn own(&self, ctx: KeyContext) -> Option<&HashMap<KeyChord, Vec<Action>>> {
        self.maps.get(ctx as usize)
    }

    /// Every action of a key in `ctx` (own binding, else global), in the order written.
    pub fn lookup_all(&self, ctx: KeyContext, key: &KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.lookup_all_chord(ctx, &KeyChord::from_event(key))
    }

    /// [`lookup_all`](Self::lookup_all) for a chord.
    pub fn lookup_all_chord(&self, ctx: KeyContext, chord: &KeyChord) -> Vec<Action> {
        match self.own(ctx).and_then(|m| m.get(chord)) {
            Some(bound) => bound.clone(),
            None if ctx != KeyContext::Global => self
                .own(KeyContext::Global)
                .and_then(|m| m.get(chord))
                .cloned()
                .unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// The action of a key in `ctx`: the context's own binding, else the global one. Key
    /// releases (reported on Windows and with the kitty protocol) do nothing.
    pub fn lookup(&self, ctx: KeyContext, key: &KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        self.lookup_chord(ctx, &KeyChord::from_event(key))
    }

    pub fn lookup_chord(&self, ctx: KeyContext, chord: &KeyChord) -> Option<Action> {
        match self.own(ctx).and_then(|m| m.get(chord)) {
            Some(bound) => bound.first().copied(),
            None if ctx != KeyContext::Global => {
                self.own(KeyContext::Global)?.get(chord)?.first().copied()
            }
            None => None,
        }
    }

    /// (key label, action) pairs in effect in a context — its own plus the global ones it does
    /// not shadow — sorted by action, then plain keys before modified ones, for the help screen.
    pub fn bindings(&self, ctx: KeyContext) -> Vec<(String, Action)> {
        let mut out: Vec<(KeyChord, Action)> = Vec::new();
        if let Some(own) = self.own(ctx) {
            out.extend(own.iter().flat_map(|(k, a)| a.iter().map(|a| (*k, *a))));
        }
        if ctx != KeyContext::Global
            && let (Some(global), Some(own)) = (self.own(KeyContext::Global), self.own(ctx))
        {
            out.extend(
                global
                    .iter()
                    .filter(|(k, _)| !own.contains_key(*k))
                    .flat_map(|(k, a)| a.iter().map(|a| (*k, *a))),
            );
        }
        sorted(out)
    }

    /// Only the bindings written for `ctx` itself (a help screen with a separate global section).
    pub fn own_bindings(&self, ctx: KeyContext) -> Vec<(String, Action)> {
        let own = self
            .own(ctx)
            .map(|m| {
                m.iter()
                    .flat_map(|(k, a)| a.iter().map(|a| (*k, *a)))
                    .collect()
            })
            .unwrap_or_default();
        sorted(own)
    }

    /// Labels of the keys that trigger `action` in `ctx` (for hints like "? help").
    pub fn keys_for(&self, ctx: KeyContext, action: Action) -> Vec<String> {
        self.bindings(ctx)
            .into_iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k)
            .collect()
    }
}

fn sorted(mut v: Vec<(KeyChord, Action)>) -> Vec<(String, Action)> {
    v.sort_by_cached_key(|(k, a)| (*a, k.rank()));
    v.into_iter().map(|(k, a)| (k.label(), a)).collect()
}

impl Default for Keymap {
    fn default() -> Self {
        static DEFAULT: OnceLock<Keymap> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // The embedded default is tested to parse; this last resort still lets the
                // user leave and navigate.
                Keymap::builtin("default").unwrap_or_else(|| {
                    let mut maps = vec![HashMap::new(); KeyContext::ALL.len()];
                    let basic = [
                        ("ctrl-c", Action::Quit),
                        ("q", Action::Quit),
                        ("esc", Action::Back),
                        ("enter", Action::Enter),
                        ("up", Action::Up),
                        ("down", Action::Down),
                    ];
                    for (name, action) in basic {
                        if let Ok(k) = KeyChord::parse(name) {
                            maps[KeyContext::Global as usize].insert(k, vec![action]);
                        }
                    }
                    Keymap {
                        name: "default".into(),
                        maps,
                    }
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEventState, KeyModifiers};

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }
    fn ch(c: char) -> KeyEvent {
        ev(KeyCode::Char(c), KeyModifiers::NONE)
    }
    fn km(yaml: &str) -> Result<Keymap, ConfigError> {
        Keymap::from_yaml(yaml, Path::new("/u/keymaps/custom.yaml"))
    }

    #[test]
    fn every_builtin_parses_and_quits() {
        for name in Keymap::builtin_names() {
            let k = Keymap::builtin(name)
                .unwrap_or_else(|| panic!("built-in keymap {name} must parse"));
            for ctx in KeyContext::ALL {
                assert_eq!(
                    k.lookup(*ctx, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                    Some(Action::Quit),
                    "{name}"
                );
                assert!(!k.bindings(*ctx).is_empty());
            }
        }
        assert!(Keymap::builtin("emacs").is_none());
    }

    #[test]
    fn default_lookup() {
        let k = Keymap::default();
        assert_eq!(k.lookup(KeyContext::Table, &ch('q')), Some(Action::Quit));
        assert_eq!(k.lookup(KeyContext::Table, &ch('?')), Some(Action::Help));
        assert_eq!(
            k.lookup(
                KeyContext::Table,
                &ev(KeyCode::Char('?'), KeyModifiers::SHIFT)
            ),
            Some(Action::Help)
        );
        assert_eq!(k.lookup(KeyContext::Table, &ch('l')), Some(Action::Logs));
        assert_eq!(k.lookup(KeyContext::Table, &ch('/')), Some(Action::Filter));
        assert_eq!(k.lookup(KeyContext::Logs, &ch('/')), Some(Action::Search));
        assert_eq!(
            k.lookup(
                KeyContext::Logs,
                &ev(KeyCode::Char('N'), KeyModifiers::SHIFT)
            ),
            Some(Action::SearchPrev)
        );
        assert_eq!(k.lookup(KeyContext::Logs, &ch('q')), Some(Action::Back));
        assert_eq!(
            k.lookup(KeyContext::Dialog, &ch('y')),
            Some(Action::Confirm)
        );
        assert_eq!(
            k.lookup(KeyContext::Dialog, &ev(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Action::Cancel)
        );
        assert_eq!(
            k.lookup(KeyContext::Table, &ev(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Action::Back)
        );
        assert_eq!(
            k.lookup(
                KeyContext::Table,
                &ev(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::Remove)
        );
        // k9s movement is in the default keymap; Enter does not confirm a y/n dialog.
        assert_eq!(k.lookup(KeyContext::Table, &ch('j')), Some(Action::Down));
        assert_eq!(k.lookup(KeyContext::Help, &ch('G')), Some(Action::Bottom));
        assert_eq!(
            k.lookup(KeyContext::Dialog, &ev(KeyCode::Enter, KeyModifiers::NONE)),
            None
        );
        let mut release = ch('q');
        release.kind = KeyEventKind::Release;
        release.state = KeyEventState::NONE;
        assert_eq!(k.lookup(KeyContext::Table, &release), None);
    }

    #[test]
    fn vim_adds_movement_and_keeps_arrows() {
        let k = Keymap::builtin("vim").unwrap();
        assert_eq!(k.lookup(KeyContext::Table, &ch('j')), Some(Action::Down));
        assert_eq!(
            k.lookup(
                KeyContext::Table,
                &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            k.lookup(KeyContext::Table, &ev(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(k.lookup(KeyContext::Table, &ch('l')), Some(Action::Logs));
        assert_eq!(k.lookup(KeyContext::Logs, &ch('l')), Some(Action::Right));
    }

    #[test]
    fn bindings_are_effective_and_sorted() {
        let k = Keymap::default();
        let g = k.bindings(KeyContext::Global);
        assert_eq!(g[0], ("q".to_string(), Action::Quit));
        assert_eq!(g[1], ("ctrl-c".to_string(), Action::Quit));
        let t = k.bindings(KeyContext::Table);
        assert!(
            t.contains(&("?".to_string(), Action::Help)),
            "global keys are effective in table"
        );
        assert!(t.contains(&("G".to_string(), Action::Bottom)) || !t.iter().any(|(l, _)| l == "G"));
        let logs = k.bindings(KeyContext::Logs);
        assert!(logs.contains(&("q".to_string(), Action::Back)));
        assert!(
            !logs.contains(&("q".to_string(), Action::Quit)),
            "shadowed global binding is hidden"
        );
        assert_eq!(
            k.bindings(KeyContext::Logs),
            k.bindings(KeyContext::Logs),
            "stable"
        );
        assert_eq!(k.keys_for(KeyContext::Table, Action::Help), ["?", "f1"]);
        assert!(
            k.own_bindings(KeyContext::Table)
                .iter()
                .all(|(_, a)| *a != Action::Quit)
        );
    }

    #[test]
    fn unbind_shadows_global() {
        let k = km("table:\n  q: none\nglobal:\n  \"?\": ~\n").unwrap();
        assert_eq!(k.lookup(KeyContext::Table, &ch('q')), None);
        assert_eq!(k.lookup(KeyContext::Describe, &ch('q')), Some(Action::Back));
        assert_eq!(k.lookup(KeyContext::Table, &ch('?')), None);
        assert_eq!(
            k.lookup(KeyContext::Table, &ev(KeyCode::F(1), KeyModifiers::NONE)),
            Some(Action::Help)
        );
    }

    #[test]
    fn errors_are_located() {
        let e = km("table:\n  x: stpo\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 6), "{e}");
        assert!(
            e.message
                .starts_with("unknown action `stpo` (did you mean `stop`?)"),
            "{e}"
        );
        assert!(
            e.message.contains("toggle_follow"),
            "lists valid names: {e}"
        );

        let e = km("logs:\n  f: toggle_follow\n  ctrl-foo: save\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 3), "{e}");
        assert!(e.message.contains("unknown key name `foo`"), "{e}");

        let e = km("table:\n  G: bottom\n  shift-g: top\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 3), "{e}");
        assert!(e.message.contains("same key as `G` on line 2"), "{e}");

        let e = km("table:\n  ~: sort_reverse\n").unwrap_err();
        assert!(e.message.contains("quote"), "{e}");

        let e = km("tabel:\n  x: stop\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("unknown field `tabel`"), "{e}");

        let e = km("table: [x, y]\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn override_keeps_the_rest() {
        let k = Keymap::from_yaml("table:\n  x: kill\n", Path::new("/u/keymaps/vim.yaml")).unwrap();
        assert_eq!(k.lookup(KeyContext::Table, &ch('x')), Some(Action::Kill));
        assert_eq!(
            k.lookup(KeyContext::Table, &ch('j')),
            Some(Action::Down),
            "vim base kept"
        );
        assert_eq!(k.lookup(KeyContext::Table, &ch('t')), Some(Action::Start));
    }
}
