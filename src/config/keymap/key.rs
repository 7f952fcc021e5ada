//! Key names (`ctrl-c`, `G`, `shift-tab`, `f5`) ↔ normalised key chords.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key plus modifiers, normalised so that what a file names and what a terminal sends
/// compare equal: a character carries its own shift (`G`, `?`, never `shift-g`), shift-tab is
/// `BackTab`, and ctrl-letters are lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Named keys, in the spelling used for labels first.
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pgup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("pgdn", KeyCode::PageDown),
];

/// Modifier prefixes, in the order labels print them.
const PREFIXES: &[(&str, KeyModifiers)] = &[
    ("ctrl-", KeyModifiers::CONTROL),
    ("control-", KeyModifiers::CONTROL),
    ("alt-", KeyModifiers::ALT),
    ("meta-", KeyModifiers::ALT),
    ("shift-", KeyModifiers::SHIFT),
];

/// For error messages: what a key name may look like.
pub const KEY_SYNTAX: &str = "a single character (q, G, ?, /), enter, esc, tab, backtab/shift-tab, space, backspace, \
delete, insert, up, down, left, right, home, end, pageup, pagedown or f1-f12, optionally \
prefixed by ctrl-, alt- or shift-";

impl KeyChord {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        normalise(code, modifiers)
    }

    /// The chord of a terminal key event (crossterm quirks smoothed out).
    pub fn from_event(ev: &KeyEvent) -> KeyChord {
        normalise(ev.code, ev.modifiers)
    }

    /// Parse a key name as written in keymap files. The error text is a message for the user.
    pub fn parse(name: &str) -> Result<KeyChord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = name;
        'prefixes: loop {
            let lower = rest.to_ascii_lowercase();
            for (prefix, m) in PREFIXES {
                // `ctrl--` is ctrl + '-'; a bare `ctrl-` is not a key.
                if lower.starts_with(prefix) && rest.len() > prefix.len() {
                    mods |= *m;
                    rest = &rest[prefix.len()..];
                    continue 'prefixes;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    *code
                } else if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCode::F(n)
                } else {
                    return Err(format!(
                        "unknown key name {}",
                        super::super::yaml::quote(rest)
                    ));
                }
            }
        };
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && c != ' ' => {
                if !c.is_alphabetic() {
                    return Err(format!(
                        "`shift-{c}`: write the shifted character itself (e.g. `?` rather than `shift-/`)"
                    ));
                }
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(upper(c))
            }
            other => other,
        };
        Ok(normalise(code, mods))
    }

    /// Human label, also a valid key name: `ctrl-c`, `G`, `enter`, `shift-tab`, `space`.
    pub fn label(&self) -> String {
        let mut out = String::new();
        for (name, m) in [
            ("ctrl-", KeyModifiers::CONTROL),
            ("alt-", KeyModifiers::ALT),
            ("shift-", KeyModifiers::SHIFT),
        ] {
            if self.modifiers.contains(m) {
                out.push_str(name);
            }
        }
        for (name, m) in [
            ("super-", KeyModifiers::SUPER),
            ("hyper-", KeyModifiers::HYPER),
            ("meta-", KeyModifiers::META),
        ] {
            if self.modifiers.contains(m) {
                out.push_str(name);
            }
        }
        match self.code {
            KeyCode::Char(' ') => out.push_str("space"),
            KeyCode::Char(c) => out.push(c),
            KeyCode::BackTab => out.push_str("shift-tab"),
            KeyCode::F(n) => out.push_str(&format!("f{n}")),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((n, _)) => out.push_str(n),
                None => out.push_str(&format!("{code:?}").to_lowercase()),
            },
        }
        out
    }

    /// Sort key for help listings: plain keys before modified ones, then by label.
    pub(crate) fn rank(&self) -> (u32, String) {
        (self.modifiers.bits().count_ones(), self.label())
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn normalise(code: KeyCode, mut mods: KeyModifiers) -> KeyChord {
    let code = match code {
        KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
            // The character already says what shift did (`G`, `?`); some terminals also set
            // SHIFT, some send a lower-case letter with SHIFT (kitty protocol).
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::Char(upper(c))
        }
        KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        other => other,
    };
    if code == KeyCode::BackTab {
        mods.remove(KeyModifiers::SHIFT);
    }
    let code = match code {
        // Legacy terminals send ctrl-shift-d exactly like ctrl-d, so the two cannot be bound
        // separately; fold them (also makes `ctrl-D` in a file mean ctrl-d).
        KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) && c.is_ascii_uppercase() => {
            KeyCode::Char(c.to_ascii_lowercase())
        }
        other => other,
    };
    KeyChord {
        code,
        modifiers: mods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyChord {
        KeyChord::parse(s).unwrap()
    }

    #[test]
    fn parses_names() {
        assert_eq!(
            p("q"),
            KeyChord::new(KeyCode::Char('q'), KeyModifiers::NONE)
        );
        assert_eq!(
            p("G"),
            KeyChord::new(KeyCode::Char('G'), KeyModifiers::NONE)
        );
        assert_eq!(p("shift-g"), p("G"));
        assert_eq!(
            p("ctrl-c"),
            KeyChord::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        assert_eq!(p("Ctrl-C"), p("ctrl-c"));
        assert_eq!(
            p("ctrl--"),
            KeyChord::new(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            p("-"),
            KeyChord::new(KeyCode::Char('-'), KeyModifiers::NONE)
        );
        assert_eq!(p("shift-tab"), p("backtab"));
        assert_eq!(
            p("space"),
            KeyChord::new(KeyCode::Char(' '), KeyModifiers::NONE)
        );
        assert_eq!(p("f12"), KeyChord::new(KeyCode::F(12), KeyModifiers::NONE));
        assert_eq!(
            p("alt-x"),
            KeyChord::new(KeyCode::Char('x'), KeyModifiers::ALT)
        );
        assert_eq!(
            p("shift-up"),
            KeyChord::new(KeyCode::Up, KeyModifiers::SHIFT)
        );
        assert_eq!(
            p("PageDown"),
            KeyChord::new(KeyCode::PageDown, KeyModifiers::NONE)
        );
        for bad in [
            "", "ctrl-", "f13", "f0", "shift-/", "foo", "ctrl-foo", "\u{1b}",
        ] {
            assert!(KeyChord::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn events_normalise() {
        let ev = |c, m| KeyChord::from_event(&KeyEvent::new(c, m));
        assert_eq!(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), p("G"));
        assert_eq!(ev(KeyCode::Char('g'), KeyModifiers::SHIFT), p("G"));
        assert_eq!(ev(KeyCode::Char('?'), KeyModifiers::SHIFT), p("?"));
        assert_eq!(ev(KeyCode::BackTab, KeyModifiers::SHIFT), p("shift-tab"));
        assert_eq!(ev(KeyCode::Tab, KeyModifiers::SHIFT), p("shift-tab"));
        assert_eq!(ev(KeyCode::Char('C'), KeyModifiers::CONTROL), p("ctrl-c"));
        assert_eq!(
            ev(
                KeyCode::Char('C'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            ),
            p("ctrl-c")
        );
        assert_eq!(p("ctrl-shift-c"), p("ctrl-c"));
    }

    #[test]
    fn labels_round_trip() {
        for name in [
            "q",
            "G",
            "ctrl-c",
            "enter",
            "esc",
            "shift-tab",
            "space",
            "f5",
            "pageup",
            "alt-x",
            "shift-up",
            "?",
            ":",
        ] {
            let k = p(name);
            assert_eq!(k.label(), name);
            assert_eq!(p(&k.label()), k);
        }
    }
}
