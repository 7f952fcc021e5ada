//! Config, theme and keymap files from disk: located errors, user overrides, XDG lookup,
//! colour degradation, the audit log, and robustness against garbage input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::app::action::Action;
use fleetdeck::audit::{AuditEntry, AuditLog};
use fleetdeck::config::{self, ColorSupport, Config, KeyChord, KeyContext, Keymap, Role, Theme};
use ratatui::style::{Color, Modifier};

/// Tests that read or change the process environment (XDG dirs, NO_COLOR, USER) take this
/// lock: `set_var` while another thread reads the environment is undefined behaviour.
static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run `f` with the given variables set (None = removed), restoring them afterwards.
// `set_var` is unsafe (edition 2024) because another thread may read the environment: every
// test in this binary that touches it holds `ENV`, and none reads it from a second thread.
#[allow(unsafe_code)]
fn with_env<R>(vars: &[(&str, Option<&str>)], f: impl FnOnce() -> R) -> R {
    let _guard = env_lock();
    let saved: Vec<_> = vars
        .iter()
        .map(|(k, _)| (k.to_string(), std::env::var_os(k)))
        .collect();
    for (k, v) in vars {
        // SAFETY: every test in this binary that touches the environment holds `ENV`.
        unsafe {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    for (k, v) in saved {
        // SAFETY: as above.
        unsafe {
            match v {
                Some(v) => std::env::set_var(&k, v),
                None => std::env::remove_var(&k),
            }
        }
    }
    out.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// Assert an error displays as `<file>:<line>:<col>: ...` and mentions `needle`.
fn assert_at(err: &config::ConfigError, file: &Path, line: usize, col: usize, needle: &str) {
    let prefix = format!("{}:{line}:{col}: ", file.display());
    let shown = err.to_string();
    assert!(
        shown.starts_with(&prefix),
        "expected prefix {prefix:?}, got {shown:?}"
    );
    assert!(shown.contains(needle), "expected {needle:?} in {shown:?}");
}

// ---------------------------------------------------------------- malformed files

#[test]
fn malformed_config_is_located() {
    let file = fixture("malformed.yaml");
    let err = Config::load(Some(&file)).unwrap_err();
    assert_at(&err, &file, 4, 12, "mapping values are not allowed");

    let file = fixture("wrong_type.yaml");
    let err = Config::load(Some(&file)).unwrap_err();
    assert_at(&err, &file, 4, 9, "expected a non-negative whole number");
}

#[test]
fn malformed_theme_is_located() {
    let file = fixture("themes/broken.yaml");
    let err = Theme::load_from_dir(file.to_str().unwrap(), Path::new("/nonexistent")).unwrap_err();
    assert_at(&err, &file, 5, 43, "bracket");
}

#[test]
fn malformed_keymap_is_located() {
    let file = fixture("keymaps/broken.yaml");
    let err = Keymap::load_from_dir(file.to_str().unwrap(), Path::new("/nonexistent")).unwrap_err();
    assert_at(&err, &file, 4, 2, "did not find expected key");
}

// ---------------------------------------------------------------- unknown names

#[test]
fn unknown_action_key_colour_role_are_located() {
    let none = Path::new("/nonexistent");

    let file = fixture("keymaps/typo.yaml");
    let err = Keymap::load_from_dir(file.to_str().unwrap(), none).unwrap_err();
    assert_at(
        &err,
        &file,
        3,
        6,
        "unknown action `stpo` (did you mean `stop`?)",
    );
    assert!(
        err.message.contains("since_cycle"),
        "valid names are listed: {err}"
    );

    let file = fixture("keymaps/badkey.yaml");
    let err = Keymap::load_from_dir(file.to_str().unwrap(), none).unwrap_err();
    assert_at(&err, &file, 4, 3, "unknown key name `hyper-x`");
    assert!(
        err.message.contains("pagedown"),
        "key syntax is explained: {err}"
    );

    let file = fixture("themes/badcolour.yaml");
    let err = Theme::load_from_dir(file.to_str().unwrap(), none).unwrap_err();
    assert_at(&err, &file, 3, 24, "unknown colour `crimson`");

    let file = fixture("themes/badrole.yaml");
    let err = Theme::load_from_dir(file.to_str().unwrap(), none).unwrap_err();
    assert_at(&err, &file, 4, 3, "unknown role `status.ok`");
    assert!(
        err.message.contains("status.running"),
        "valid roles are listed: {err}"
    );
}

// ---------------------------------------------------------------- user files over built-ins

#[test]
fn user_keymap_overrides_one_key_and_keeps_the_rest() {
    // keymaps/default.yaml in the fixtures: x → kill, ctrl-k unbound.
    let k = Keymap::load_from_dir("default", &fixture("keymaps"))
        .unwrap()
        .value;
    assert_eq!(k.lookup(KeyContext::Table, &key('x')), Some(Action::Kill));
    assert_eq!(
        k.lookup(
            KeyContext::Table,
            &KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL)
        ),
        None
    );
    // Everything else is the built-in default.
    let builtin = Keymap::builtin("default").unwrap();
    for ctx in KeyContext::ALL {
        for (label, action) in builtin.bindings(*ctx) {
            if label == "x" || label == "ctrl-k" {
                continue;
            }
            let chord = KeyChord::parse(&label).unwrap();
            // A key may name several actions (`S: [scale, sandbox]`): each must still be there.
            assert!(
                k.lookup_all_chord(*ctx, &chord).contains(&action),
                "{ctx:?} {label} {action:?}"
            );
        }
    }
    assert_eq!(k.lookup(KeyContext::Global, &key('q')), Some(Action::Quit));
}

#[test]
fn user_files_are_found_through_xdg_config_home() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fleetdeck");
    std::fs::create_dir_all(dir.join("keymaps")).unwrap();
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::copy(
        fixture("keymaps/default.yaml"),
        dir.join("keymaps/default.yaml"),
    )
    .unwrap();
    std::fs::copy(fixture("themes/ocean.yaml"), dir.join("themes/ocean.yaml")).unwrap();
    std::fs::write(dir.join("config.yaml"), "theme: ocean\nread_only: true\n").unwrap();

    let xdg = tmp.path().to_str().unwrap();
    let loaded = with_env(
        &[
            ("XDG_CONFIG_HOME", Some(xdg)),
            ("NO_COLOR", None),
            ("COLORTERM", Some("truecolor")),
        ],
        || config::load_settings(None, None, None),
    )
    .unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = loaded.value;
    assert_eq!(
        s.config_file.as_deref(),
        Some(dir.join("config.yaml").as_path())
    );
    assert!(s.config.read_only);
    assert_eq!(s.theme.name, "ocean");
    assert_eq!(
        s.theme.style(Role::TableSelected).bg,
        Some(Color::Rgb(0, 0x80, 0x80))
    );
    assert_eq!(
        s.keymap.lookup(KeyContext::Table, &key('x')),
        Some(Action::Kill)
    );

    // Overrides beat the config file.
    let loaded = with_env(
        &[("XDG_CONFIG_HOME", Some(xdg)), ("NO_COLOR", None)],
        || config::load_settings(None, Some("mono"), Some("vim")),
    )
    .unwrap();
    assert_eq!(loaded.value.theme.name, "mono");
    assert_eq!(
        loaded.value.keymap.lookup(KeyContext::Table, &key('j')),
        Some(Action::Down)
    );
}

#[test]
fn inherits_starts_from_the_named_theme() {
    // ocean.yaml: inherits light, changes the accent, makes hints italic.
    let ocean = Theme::load_from_dir("ocean", &fixture("themes"))
        .unwrap()
        .value;
    let light = Theme::builtin("light").unwrap();
    let teal = Some(Color::Rgb(0, 0x80, 0x80));
    // Light's selection (white on accent) with the new accent.
    assert_eq!(
        ocean.style(Role::TableSelected).fg,
        light.style(Role::TableSelected).fg
    );
    assert_eq!(ocean.style(Role::TableSelected).bg, teal);
    assert_eq!(ocean.style(Role::TableHeader).fg, teal);
    // Untouched roles are light's, not default's.
    assert_eq!(
        ocean.style(Role::StatusFailed),
        light.style(Role::StatusFailed)
    );
    assert_ne!(
        ocean.style(Role::StatusFailed),
        Theme::builtin("default").unwrap().style(Role::StatusFailed)
    );
    // The user's own change merges with the inherited colour.
    assert!(
        ocean
            .style(Role::Hint)
            .add_modifier
            .contains(Modifier::ITALIC)
    );
    assert_eq!(ocean.style(Role::Hint).fg, light.style(Role::Hint).fg);
}

#[test]
fn user_file_named_like_a_builtin_can_inherit_it_or_a_path() {
    let tmp = tempfile::tempdir().unwrap();
    // `inherits: default` inside the user's default.yaml means the built-in, not itself.
    std::fs::write(
        tmp.path().join("default.yaml"),
        "inherits: default\nstyles:\n  hint: { fg: red }\n",
    )
    .unwrap();
    let t = Theme::load_from_dir("default", tmp.path()).unwrap().value;
    assert_eq!(t.style(Role::Hint).fg, Some(Color::Red));
    assert_eq!(
        t.style(Role::TableHeader),
        Theme::default().style(Role::TableHeader)
    );
    // A path in `inherits:` is relative to the file that names it.
    std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
    std::fs::write(tmp.path().join("sub/base.yaml"), "inherits: mono\n").unwrap();
    std::fs::write(tmp.path().join("top.yaml"), "inherits: sub/base.yaml\n").unwrap();
    let path = tmp.path().join("top.yaml");
    let t = Theme::load_from_dir(path.to_str().unwrap(), Path::new("/nonexistent"))
        .unwrap()
        .value;
    assert_eq!(t.name, "top");
    assert_eq!(
        t.style(Role::TableSelected),
        Theme::builtin("mono").unwrap().style(Role::TableSelected)
    );
}

#[test]
fn inherits_errors_point_at_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.yaml"), "# a\ninherits: nosuchtheme\n").unwrap();
    let err = Theme::load_from_dir("a", tmp.path()).unwrap_err();
    assert_at(
        &err,
        &tmp.path().join("a.yaml"),
        2,
        11,
        "unknown theme `nosuchtheme`",
    );

    // A cycle between user files ends at an error, not a hang.
    std::fs::write(tmp.path().join("b.yaml"), "inherits: c\n").unwrap();
    std::fs::write(tmp.path().join("c.yaml"), "inherits: b\n").unwrap();
    let err = Theme::load_from_dir("b", tmp.path()).unwrap_err();
    assert!(err.message.contains("cycle"), "{err}");

    let err = Theme::load_from_dir("nope", tmp.path()).unwrap_err();
    assert!(err.message.contains("unknown theme `nope`"), "{err}");
}

// ---------------------------------------------------------------- colour capability

#[test]
fn no_color_means_no_fg_or_bg_anywhere() {
    for name in Theme::builtin_names()
        .into_iter()
        .chain(["themes/ocean.yaml"])
    {
        let theme = if name.contains('/') {
            Theme::load_from_dir(fixture(name).to_str().unwrap(), Path::new("/nonexistent"))
                .unwrap()
                .value
        } else {
            Theme::builtin(name).unwrap()
        };
        let plain = theme.resolve(ColorSupport::NoColor);
        for role in Role::ALL {
            let s = plain.style(*role);
            assert_eq!((s.fg, s.bg), (None, None), "{name} {}", role.name());
        }
        for n in 0..16 {
            let s = plain.prefix_style(n);
            assert_eq!((s.fg, s.bg), (None, None));
        }
        assert!(
            plain
                .style(Role::TableSelected)
                .add_modifier
                .contains(Modifier::REVERSED),
            "{name}"
        );
    }
    // And through the environment, as the console does it.
    let loaded = with_env(
        &[
            ("NO_COLOR", Some("1")),
            ("XDG_CONFIG_HOME", Some("/nonexistent")),
        ],
        || config::load_settings(None, Some("default"), None),
    )
    .unwrap();
    assert_eq!(loaded.value.theme.support(), ColorSupport::NoColor);
    for role in Role::ALL {
        let s = loaded.value.theme.style(*role);
        assert_eq!((s.fg, s.bg), (None, None), "{}", role.name());
    }
}

#[test]
fn hex_downgrades_to_an_index_on_256_colours() {
    let theme = Theme::from_yaml(
        "styles:\n  hint: { fg: \"#ff0000\", bg: \"#000080\" }\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    let s = theme.resolve(ColorSupport::Ansi256).style(Role::Hint);
    assert_eq!(s.fg, Some(Color::Indexed(196)));
    assert_eq!(s.bg, Some(Color::Indexed(18)));
    let s = theme.resolve(ColorSupport::Ansi16).style(Role::Hint);
    assert!(matches!(s.fg, Some(Color::LightRed | Color::Red)), "{s:?}");
    // The built-in default has no true colour left on a 256-colour terminal.
    let d = Theme::default().resolve(ColorSupport::Ansi256);
    for role in Role::ALL {
        let s = d.style(*role);
        assert!(
            !matches!(s.fg, Some(Color::Rgb(..))) && !matches!(s.bg, Some(Color::Rgb(..))),
            "{}",
            role.name()
        );
    }
}

// ---------------------------------------------------------------- Config::load and XDG

#[test]
fn config_load_explicit_and_default() {
    let missing = fixture("does-not-exist.yaml");
    let err = Config::load(Some(&missing)).unwrap_err();
    assert!(
        err.to_string().starts_with(&missing.display().to_string()),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fleetdeck");
    std::fs::create_dir_all(&dir).unwrap();
    let xdg = tmp.path().to_str().unwrap();

    // Missing default file: defaults, no warning.
    let loaded = with_env(&[("XDG_CONFIG_HOME", Some(xdg))], || Config::load(None)).unwrap();
    assert_eq!(loaded.value, Config::default());
    assert!(loaded.warnings.is_empty());

    // Malformed default file: defaults plus a located warning.
    std::fs::copy(fixture("malformed.yaml"), dir.join("config.yaml")).unwrap();
    let loaded = with_env(&[("XDG_CONFIG_HOME", Some(xdg))], || Config::load(None)).unwrap();
    assert_eq!(loaded.value, Config::default());
    assert_eq!(loaded.warnings.len(), 1);
    let expected = format!("{}:4:12: ", dir.join("config.yaml").display());
    assert!(
        loaded.warnings[0].starts_with(&expected),
        "{:?}",
        loaded.warnings
    );

    // An empty XDG_CONFIG_HOME is ignored (falls back to $HOME/.config).
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".config/fleetdeck")).unwrap();
    std::fs::write(home.join(".config/fleetdeck/config.yaml"), "keymap: vim\n").unwrap();
    let loaded = with_env(
        &[
            ("XDG_CONFIG_HOME", Some("")),
            ("HOME", Some(home.to_str().unwrap())),
        ],
        || Config::load(None),
    )
    .unwrap();
    assert_eq!(loaded.value.keymap, "vim");
}

#[test]
fn bad_theme_or_keymap_warns_and_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fleetdeck");
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::create_dir_all(dir.join("keymaps")).unwrap();
    std::fs::copy(
        fixture("themes/badcolour.yaml"),
        dir.join("themes/light.yaml"),
    )
    .unwrap();
    std::fs::copy(fixture("keymaps/typo.yaml"), dir.join("keymaps/vim.yaml")).unwrap();
    std::fs::write(dir.join("config.yaml"), "theme: light\nkeymap: vim\n").unwrap();
    let loaded = with_env(
        &[
            ("XDG_CONFIG_HOME", Some(tmp.path().to_str().unwrap())),
            ("NO_COLOR", None),
        ],
        || config::load_settings(None, None, None),
    )
    .unwrap();
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].starts_with(&format!(
        "{}:3:24: ",
        dir.join("themes/light.yaml").display()
    )));
    assert!(
        loaded.warnings[1]
            .starts_with(&format!("{}:3:6: ", dir.join("keymaps/vim.yaml").display()))
    );
    // The built-ins of the same names are used.
    assert_eq!(loaded.value.theme.name, "light");
    assert_eq!(
        loaded.value.keymap.lookup(KeyContext::Table, &key('j')),
        Some(Action::Down)
    );

    // An explicit --config that is broken is fatal.
    let r = with_env(&[], || {
        config::load_settings(Some(&fixture("malformed.yaml")), None, None)
    });
    assert!(r.is_err());
}

// ---------------------------------------------------------------- built-ins

#[test]
fn every_builtin_theme_and_keymap_parses() {
    assert_eq!(Theme::builtin_names(), ["default", "light", "mono"]);
    for name in Theme::builtin_names() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("themes/{name}.yaml")),
        )
        .unwrap();
        let theme = Theme::from_yaml(&text, Path::new(&format!("{name}.yaml"))).unwrap();
        assert_eq!(
            Some(theme.style(Role::TableSelected)),
            Theme::builtin(name).map(|t| t.style(Role::TableSelected))
        );
    }
    assert_eq!(Keymap::builtin_names(), ["default", "vim"]);
    for name in Keymap::builtin_names() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("keymaps/{name}.yaml")),
        )
        .unwrap();
        let k = Keymap::from_yaml(&text, Path::new(&format!("{name}.yaml"))).unwrap();
        assert_eq!(
            Some(k.bindings(KeyContext::Table)),
            Keymap::builtin(name).map(|k| k.bindings(KeyContext::Table))
        );
    }
}

// ---------------------------------------------------------------- audit

#[test]
fn audit_concurrent_appends_stay_whole_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let log = AuditLog::new(tmp.path().join("state/fleetdeck/audit.jsonl"));
    let _guard = env_lock(); // AuditEntry reads $USER
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    // A long target makes torn writes likely if locking were wrong.
                    let target = format!("t{t}-{i}-{}", "x".repeat(4096));
                    let e = AuditEntry::attempt("docker:local", target, "stop");
                    log.append(&e).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let text = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 200);
    let mut seen = std::collections::HashSet::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["phase"], "attempt");
        assert!(seen.insert(v["target"].as_str().unwrap().to_string()));
    }
}

// ---------------------------------------------------------------- garbage in, errors out

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn feed_all(text: &str) {
    let f = Path::new("garbage.yaml");
    // Only "does not panic" matters here; errors are expected.
    let _ = Config::from_yaml(text, f);
    let _ = Theme::from_yaml(text, f);
    let _ = Keymap::from_yaml(text, f);
    let _ = KeyChord::parse(text);
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Random bytes, lossily decoded.
    for _ in 0..300 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        feed_all(&String::from_utf8_lossy(&bytes));
    }
    // Random YAML-ish tokens, which get much further into the parsers.
    const TOKENS: &[&str] = &[
        "\n",
        "  ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\"",
        "'",
        "#",
        "&a ",
        "*a",
        "!!str ",
        "~",
        "? ",
        "|",
        ">",
        "theme",
        "styles",
        "palette",
        "inherits",
        "table",
        "logs",
        "global",
        "table.header",
        "fg",
        "bg",
        "bold",
        "true",
        "1e999",
        "-1",
        "18446744073709551616",
        "#ff00ff",
        "ctrl-",
        "shift-",
        "quit",
        "none",
        "\t",
        "\u{1b}",
        "\u{feff}",
        "\0",
        "---\n",
        "...\n",
        "<<: *a",
        "default",
        "light",
        "mono",
        "vim",
        "/",
        "../",
        "é",
    ];
    for _ in 0..3000 {
        let n = rng.below(40);
        let text: String = (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect();
        feed_all(&text);
    }
    // Mutations of the real files.
    let originals = [
        include_str!("../themes/default.yaml"),
        include_str!("../themes/light.yaml"),
        include_str!("../keymaps/default.yaml"),
        include_str!("../keymaps/vim.yaml"),
    ];
    for original in originals {
        for _ in 0..200 {
            let mut bytes = original.as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(bytes.len());
                const SET: &[u8] = b" :-[]{}\"'#\n\tx0~*&!|>";
                bytes[i] = SET[rng.below(SET.len())];
            }
            feed_all(&String::from_utf8_lossy(&bytes));
        }
    }
    // Pathological shapes.
    feed_all(&"[".repeat(100_000));
    feed_all(&"{a: ".repeat(50_000));
    feed_all(
        &(0..3000)
            .map(|i| format!("{}- x\n", " ".repeat(i)))
            .collect::<String>(),
    );
    feed_all(
        &(0..3000)
            .map(|i| format!("{}table:\n", " ".repeat(i)))
            .collect::<String>(),
    );
    feed_all(&format!("logs:\n  tail: {}\n", "9".repeat(10_000)));
    feed_all(&format!("logs:\n  tail: 1e{}\n", "9".repeat(1000)));
    feed_all(&format!(
        "styles:\n  hint: {{ fg: {} }}\n",
        "9".repeat(10_000)
    ));
    feed_all(&format!("table:\n  {}: quit\n", "x".repeat(1_000_000)));
    feed_all(&format!("table:\n  x: {}\n", "y".repeat(1_000_000)));
    let laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
                  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
                  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
    feed_all(laughs);
    feed_all(&format!(
        "palette:\n  p: &p \"#ffffff\"\nstyles:\n{}",
        Role::ALL
            .iter()
            .map(|r| format!("  {}: {{ fg: *p }}\n", r.name()))
            .collect::<String>()
    ));
}
