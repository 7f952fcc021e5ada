//! Themes: semantic roles → styles, loaded from YAML (built-in `default`, `light`, `mono`, user
//! files overriding them) and adapted to what the terminal can show.
//!
//! A [`Theme`] keeps the colours as written and a table of styles for one [`ColorSupport`];
//! `Theme::builtin`/`load` give the as-written (true-colour) styles so rendering tests are
//! deterministic, and the console calls [`Theme::resolve`] with [`ColorSupport::detect`] once.

mod color;
pub(crate) mod file;

use std::path::Path;
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};

pub use color::{ColorSupport, parse_literal as parse_color};
use file::{RoleSpec, ThemeKind};

use super::layers;

/// A user dir that never exists: built-ins resolve only against built-ins.
const NO_USER_DIR: &str = "/nonexistent/fleetdeck-builtin-only";
use super::{ConfigError, Loaded, paths};

macro_rules! roles {
    ($($variant:ident => $name:literal,)*) => {
        /// Semantic styles the UI draws with. Theme files name them with dots: `table.header`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Role {
            $($variant,)*
        }

        impl Role {
            /// Every role, in declaration order (`role as usize` indexes this).
            pub const ALL: &'static [Role] = &[$(Role::$variant,)*];

            /// The dotted name used in theme files.
            pub fn name(self) -> &'static str {
                match self { $(Role::$variant => $name,)* }
            }

            pub fn from_name(name: &str) -> Option<Role> {
                match name { $($name => Some(Role::$variant),)* _ => None }
            }
        }
    };
}

roles! {
    Base => "base",
    Header => "header",
    Breadcrumb => "breadcrumb",
    SourceOk => "source.ok",
    SourceError => "source.error",
    TableHeader => "table.header",
    TableRow => "table.row",
    TableSelected => "table.selected",
    StatusOk => "status.running",
    StatusPending => "status.pending",
    StatusFailed => "status.failed",
    StatusStopped => "status.stopped",
    StatusUnknown => "status.unknown",
    LogsText => "logs.text",
    LogsTimestamp => "logs.timestamp",
    LogsMatch => "logs.match",
    LogsCurrentMatch => "logs.current_match",
    LogsError => "logs.error",
    LogsWarn => "logs.warn",
    LogsMarker => "logs.marker",
    DialogBorder => "dialog.border",
    DialogTitle => "dialog.title",
    DialogText => "dialog.text",
    DialogDanger => "dialog.danger",
    CommandPrompt => "command.prompt",
    CommandText => "command.text",
    CommandCompletion => "command.completion",
    FilterText => "filter.text",
    ToastInfo => "toast.info",
    ToastError => "toast.error",
    HelpKey => "help.key",
    HelpDescription => "help.description",
    HelpSection => "help.section",
    StatsCpu => "stats.cpu",
    StatsMem => "stats.mem",
    Hint => "hint",
}

/// Roles whose visibility depends on a background colour: without colour they must still
/// stand out, so they get `reversed` when nothing else marks them.
const HIGHLIGHT_ROLES: [Role; 4] = [
    Role::TableSelected,
    Role::LogsMatch,
    Role::LogsCurrentMatch,
    Role::ToastInfo,
];

/// Prefix styles when there is no colour: distinguishable with modifiers alone.
const MONO_PREFIXES: [Modifier; 5] = [
    Modifier::BOLD,
    Modifier::UNDERLINED,
    Modifier::BOLD.union(Modifier::UNDERLINED),
    Modifier::DIM,
    Modifier::DIM.union(Modifier::UNDERLINED),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// As written, indexed by `Role as usize`.
    specs: Vec<RoleSpec>,
    prefixes: Vec<Color>,
    /// Derived from the built-in `mono`: already meant for no colour.
    monochrome: bool,
    support: ColorSupport,
    /// `specs` adapted to `support`.
    styles: Vec<Style>,
    prefix_styles: Vec<Style>,
}

impl Theme {
    /// Names of the embedded themes.
    pub fn builtin_names() -> Vec<&'static str> {
        layers::builtin_names::<ThemeKind>()
    }

    /// An embedded theme, as written (true colour). `None` for an unknown name.
    pub fn builtin(name: &str) -> Option<Theme> {
        layers::builtin_text::<ThemeKind>(name)?;
        // A directory that never exists keeps user files out: built-ins stay as shipped.
        let chain = layers::chain::<ThemeKind>(name, Path::new(NO_USER_DIR)).ok()?;
        let merged = file::merge(&chain).ok()?;
        Some(Theme::from_merged(name, merged, is_mono(&chain)))
    }

    /// A theme by name (user file `<config_dir>/themes/NAME.yaml` over the built-in of the
    /// same name or of its `inherits:`), or by path (`./my.yaml`, `/etc/x.yaml`).
    pub fn load(name: &str) -> Result<Loaded<Theme>, ConfigError> {
        Theme::load_from_dir(name, &paths::themes_dir())
    }

    /// [`load`](Self::load) with the user theme directory given (tests, alternative layouts).
    pub fn load_from_dir(name: &str, user_dir: &Path) -> Result<Loaded<Theme>, ConfigError> {
        let chain = layers::chain::<ThemeKind>(name, user_dir)?;
        let merged = file::merge(&chain)?;
        let display = Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(name);
        Ok(Loaded {
            value: Theme::from_merged(display, merged, is_mono(&chain)),
            warnings: Vec::new(),
        })
    }

    /// Parse one theme file's text on top of its base (`inherits:` naming a built-in, else the
    /// built-in named like the file, else `default`). `file` names it in errors.
    pub fn from_yaml(text: &str, file: &Path) -> Result<Theme, ConfigError> {
        let chain = layers::chain_from_text::<ThemeKind>(text, file, Path::new(NO_USER_DIR))?;
        let merged = file::merge(&chain)?;
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("custom");
        Ok(Theme::from_merged(name, merged, is_mono(&chain)))
    }

    fn from_merged(name: &str, merged: file::Merged, monochrome: bool) -> Theme {
        let mut t = Theme {
            name: name.to_string(),
            specs: merged.specs,
            prefixes: merged.prefixes,
            monochrome,
            support: ColorSupport::TrueColor,
            styles: Vec::new(),
            prefix_styles: Vec::new(),
        };
        t.apply(ColorSupport::TrueColor);
        t
    }

    /// This theme adapted to a terminal: hex colours downgraded to the 256 or 16 colour
    /// palette, and with [`ColorSupport::NoColor`] no colours at all (the `mono` theme's
    /// modifiers are used, so selection and matches stay visible).
    pub fn resolve(&self, support: ColorSupport) -> Theme {
        let mut t = self.clone();
        t.apply(support);
        t
    }

    /// The colour support the styles are resolved for.
    pub fn support(&self) -> ColorSupport {
        self.support
    }

    fn apply(&mut self, support: ColorSupport) {
        self.support = support;
        let source: Vec<RoleSpec> = if support == ColorSupport::NoColor && !self.monochrome {
            // A colour theme without colour loses what set rows apart; mono is designed for it.
            mono_specs().unwrap_or_else(|| self.specs.clone())
        } else {
            self.specs.clone()
        };
        self.styles = Role::ALL
            .iter()
            .map(|role| {
                let spec = source.get(*role as usize).copied().unwrap_or_default();
                adapt(*role, spec, support)
            })
            .collect();
        self.prefix_styles = if support == ColorSupport::NoColor || self.prefixes.is_empty() {
            MONO_PREFIXES
                .iter()
                .map(|m| Style::default().add_modifier(*m))
                .collect()
        } else {
            self.prefixes
                .iter()
                .map(|c| match color::downgrade(*c, support) {
                    Some(c) => Style::default().fg(c),
                    None => Style::default(),
                })
                .collect()
        };
    }

    pub fn style(&self, role: Role) -> Style {
        self.styles.get(role as usize).copied().unwrap_or_default()
    }

    /// Style of the n-th source prefix in multi-source logs (cycles through a palette).
    pub fn prefix_style(&self, n: usize) -> Style {
        match self.prefix_styles.len() {
            0 => Style::default(),
            len => self.prefix_styles[n % len],
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        static DEFAULT: OnceLock<Theme> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Theme::builtin("default").unwrap_or_else(fallback))
            .clone()
    }
}

/// Only reachable if the embedded default were broken (a test guards against that): a
/// minimal theme that keeps the selection visible.
fn fallback() -> Theme {
    let mut specs = vec![RoleSpec::default(); Role::ALL.len()];
    for role in HIGHLIGHT_ROLES {
        specs[role as usize].mods = Modifier::REVERSED;
    }
    for role in [Role::TableHeader, Role::HelpSection, Role::Header] {
        specs[role as usize].mods = Modifier::BOLD;
    }
    Theme::from_merged(
        "default",
        file::Merged {
            specs,
            prefixes: Vec::new(),
        },
        true,
    )
}

fn mono_specs() -> Option<Vec<RoleSpec>> {
    static MONO: OnceLock<Option<Vec<RoleSpec>>> = OnceLock::new();
    MONO.get_or_init(|| {
        let chain = layers::chain::<ThemeKind>("mono", Path::new(NO_USER_DIR)).ok()?;
        file::merge(&chain).ok().map(|m| m.specs)
    })
    .clone()
}

/// Whether the chain (base first) is rooted at the built-in mono theme.
fn is_mono(chain: &[file::ThemeLayer]) -> bool {
    chain
        .first()
        .is_some_and(|l| l.file == layers::builtin_path::<ThemeKind>("mono"))
}

fn adapt(role: Role, spec: RoleSpec, support: ColorSupport) -> Style {
    let mut fg = spec.fg.and_then(|c| color::downgrade(c, support));
    let mut bg = spec.bg.and_then(|c| color::downgrade(c, support));
    let mut mods = spec.mods;
    // Two different hex colours can land on the same palette entry: the text would vanish.
    if fg.is_some() && fg == bg {
        fg = None;
        bg = None;
        mods |= Modifier::REVERSED;
    }
    let lost_bg = spec.bg.is_some() && bg.is_none();
    if (lost_bg || support == ColorSupport::NoColor)
        && HIGHLIGHT_ROLES.contains(&role)
        && !mods.intersects(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::BOLD)
    {
        mods |= Modifier::REVERSED;
    }
    let mut style = Style::default();
    if let Some(c) = fg {
        style = style.fg(c);
    }
    if let Some(c) = bg {
        style = style.bg(c);
    }
    style.add_modifier(mods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(yaml: &str) -> Result<Theme, ConfigError> {
        Theme::from_yaml(yaml, Path::new("/u/themes/custom.yaml"))
    }

    #[test]
    fn role_names_are_unique_and_round_trip() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "ALL is in declaration order");
            assert_eq!(Role::from_name(r.name()), Some(*r));
        }
        assert_eq!(Role::StatusOk.name(), "status.running");
        assert_eq!(Role::LogsCurrentMatch.name(), "logs.current_match");
        assert_eq!(Role::ToastError.name(), "toast.error");
    }

    #[test]
    fn every_builtin_parses() {
        for name in Theme::builtin_names() {
            let theme =
                Theme::builtin(name).unwrap_or_else(|| panic!("built-in theme {name} must parse"));
            assert_eq!(theme.name, name);
            let sel = theme.style(Role::TableSelected);
            assert!(
                sel.bg.is_some() || sel.add_modifier.contains(Modifier::REVERSED),
                "{name}: selection visible"
            );
        }
        assert!(Theme::builtin("nope").is_none());
    }

    #[test]
    fn builtins_in_every_colour_mode() {
        for name in Theme::builtin_names() {
            let theme = Theme::builtin(name).unwrap();
            for support in [
                ColorSupport::TrueColor,
                ColorSupport::Ansi256,
                ColorSupport::Ansi16,
                ColorSupport::NoColor,
            ] {
                let r = theme.resolve(support);
                for role in Role::ALL {
                    let s = r.style(*role);
                    if s.fg.is_some() {
                        assert_ne!(
                            s.fg,
                            s.bg,
                            "{name}/{support:?}/{}: text on its own colour",
                            role.name()
                        );
                    }
                    for c in [s.fg, s.bg].into_iter().flatten() {
                        match support {
                            ColorSupport::NoColor => panic!("{name}: colour with NO_COLOR"),
                            ColorSupport::Ansi16 => {
                                assert!(
                                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                                    "{name}/{}: {c:?}",
                                    role.name()
                                )
                            }
                            ColorSupport::Ansi256 => assert!(!matches!(c, Color::Rgb(..)), "{c:?}"),
                            ColorSupport::TrueColor => {}
                        }
                    }
                }
                let sel = r.style(Role::TableSelected);
                assert!(
                    sel.bg.is_some() || sel.add_modifier.contains(Modifier::REVERSED),
                    "{name}/{support:?}"
                );
                // Current match must differ from the other matches.
                assert_ne!(
                    r.style(Role::LogsMatch),
                    r.style(Role::LogsCurrentMatch),
                    "{name}/{support:?}"
                );
            }
        }
    }

    #[test]
    fn mono_uses_only_modifiers() {
        let mono = Theme::builtin("mono").unwrap();
        for role in Role::ALL {
            let s = mono.style(*role);
            assert!(s.fg.is_none() && s.bg.is_none(), "{}", role.name());
            assert!(
                (s.add_modifier
                    - (Modifier::BOLD | Modifier::REVERSED | Modifier::UNDERLINED | Modifier::DIM))
                    .is_empty()
            );
        }
        assert_eq!(
            mono.style(Role::TableSelected),
            Style::default().add_modifier(Modifier::REVERSED)
        );
        assert_ne!(mono.prefix_style(0), mono.prefix_style(1));
    }

    #[test]
    fn no_color_uses_mono() {
        let d = Theme::builtin("default")
            .unwrap()
            .resolve(ColorSupport::NoColor);
        assert_eq!(
            d.style(Role::TableSelected),
            Style::default().add_modifier(Modifier::REVERSED)
        );
        assert_eq!(d.support(), ColorSupport::NoColor);
        for n in 0..12 {
            let s = d.prefix_style(n);
            assert!(s.fg.is_none() && s.bg.is_none());
        }
    }

    #[test]
    fn palette_modifiers_and_override() {
        let th = t("inherits: default\npalette:\n  accent: \"#ff0000\"\nstyles:\n  table.header: { bold: false }\n  hint: { fg: 9, italic: true }\n")
            .unwrap();
        // Redefining a palette name re-colours the base theme's roles that use it.
        assert_eq!(th.style(Role::TableHeader).fg, Some(Color::Rgb(255, 0, 0)));
        assert!(
            !th.style(Role::TableHeader)
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert_eq!(th.style(Role::Hint).fg, Some(Color::Indexed(9)));
        assert!(th.style(Role::Hint).add_modifier.contains(Modifier::ITALIC));
        // Untouched roles keep the default's style.
        assert_eq!(
            th.style(Role::StatusFailed),
            Theme::default().style(Role::StatusFailed)
        );
    }

    #[test]
    fn downgrade_on_256_and_16() {
        let th = t("styles:\n  hint: { fg: \"#5fafff\" }\n").unwrap();
        assert_eq!(th.style(Role::Hint).fg, Some(Color::Rgb(0x5f, 0xaf, 0xff)));
        assert_eq!(
            th.resolve(ColorSupport::Ansi256).style(Role::Hint).fg,
            Some(Color::Indexed(75))
        );
        assert_eq!(
            th.resolve(ColorSupport::Ansi16).style(Role::Hint).fg,
            Some(Color::LightBlue)
        );
        // Back to true colour from a downgraded copy: nothing is lost.
        let back = th
            .resolve(ColorSupport::Ansi16)
            .resolve(ColorSupport::TrueColor);
        assert_eq!(
            back.style(Role::Hint).fg,
            Some(Color::Rgb(0x5f, 0xaf, 0xff))
        );
    }

    #[test]
    fn colliding_colours_become_reversed() {
        let th = t("styles:\n  table.selected: { fg: \"#000001\", bg: \"#000000\" }\n").unwrap();
        let s = th.resolve(ColorSupport::Ansi16).style(Role::TableSelected);
        assert_eq!((s.fg, s.bg), (None, None));
        assert!(s.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn errors_are_located() {
        let e = t("styles:\n  table.headr: { bold: true }\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3), "{e}");
        assert!(
            e.message
                .contains("unknown role `table.headr` (did you mean `table.header`?)"),
            "{e}"
        );

        let e = t("styles:\n  hint: { fg: bleu }\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 15), "{e}");
        assert!(
            e.message
                .contains("unknown colour `bleu` (did you mean `blue`?)"),
            "{e}"
        );

        let e = t("palette:\n  a: nope\nstyles:\n  hint: { fg: a }\n").unwrap_err();
        assert_eq!(
            (e.line, e.col),
            (2, 6),
            "the bad palette value is reported: {e}"
        );

        let e = t("palette:\n  a: b\n  b: a\nstyles:\n  hint: { fg: a }\n").unwrap_err();
        assert!(e.message.contains("cycle: `a` → `b` → `a`"), "{e}");

        // A long chain without a repeat is not a cycle: it says so (the review's 100,000 steps).
        let mut chain = String::from("palette:\n");
        for i in 0..100_000 {
            chain += &format!("  c{i}: c{}\n", i + 1);
        }
        chain += "  c100000: red\nstyles:\n  hint: { fg: c0 }\n";
        let e = t(&chain).unwrap_err();
        assert!(e.message.contains("palette chain too long"), "{e}");
        assert!(!e.message.contains("cycle"), "{e}");

        let e = t("styles:\n  hint: { fg: #5fafff }\n").unwrap_err();
        assert!(e.message.contains("quote hex"), "{e}");
        let e = t("styles:\n  hint:\n    fg: #5fafff\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("quote hex"), "{e}");

        let e = t("styles:\n  hint: { colour: red }\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("unknown field `colour`"), "{e}");

        let e = t("inherits: nosuch\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 11), "{e}");
    }

    #[test]
    fn empty_file_is_its_base() {
        assert_eq!(
            t("").unwrap().style(Role::TableHeader),
            Theme::default().style(Role::TableHeader)
        );
        let light = Theme::from_yaml("# nothing\n", Path::new("/x/light.yaml")).unwrap();
        assert_eq!(
            light.style(Role::TableSelected),
            Theme::builtin("light").unwrap().style(Role::TableSelected)
        );
    }
}
