//! docs/USAGE.md's key tables are checked against the built-in keymaps and the actions, so the
//! documentation cannot drift from what the keys do. A failure names the key and the section.
//!
//! How a table row is read: the first cell holds backticked keys, the second backticked
//! action names (or `movement`: each key is the movement action it names). `a` / `b` with
//! `x` / `y` pairs them in order; `a`, `b` with one action binds both; one key with several
//! actions is a list (the first that applies runs).

use std::collections::BTreeMap;

use super::action::Action;
use crate::config::{KeyChord, KeyContext, Keymap};

const USAGE: &str = include_str!("../../docs/USAGE.md");

/// Section headings of the key tables and their keymap contexts.
const SECTIONS: &[(&str, KeyContext)] = &[
    ("### Global", KeyContext::Global),
    ("### Tables", KeyContext::Table),
    ("### Logs", KeyContext::Logs),
    ("### Describe", KeyContext::Describe),
    ("### Help", KeyContext::Help),
    ("### Dialogs", KeyContext::Dialog),
];

/// key label → actions, in the order written.
type Bindings = BTreeMap<String, Vec<Action>>;

fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A key as the keymap labels it (`Ctrl-K` and `ctrl-k` are one key).
fn label(key: &str) -> String {
    KeyChord::parse(key)
        .map(|c| c.label())
        .unwrap_or_else(|e| panic!("docs/USAGE.md names key `{key}`: {e}"))
}

fn action(name: &str) -> Action {
    Action::from_name(name)
        .unwrap_or_else(|| panic!("docs/USAGE.md names action `{name}`, which does not exist"))
}

/// The action a movement key stands for in a `movement` row.
fn movement(key: &str) -> Action {
    match key {
        "up" => Action::Up,
        "down" => Action::Down,
        "pageup" => Action::PageUp,
        "pagedown" => Action::PageDown,
        "home" => Action::Top,
        "end" => Action::Bottom,
        "left" => Action::Left,
        "right" => Action::Right,
        other => panic!("docs/USAGE.md: `{other}` in a movement row is no movement key"),
    }
}

/// The table rows (cells) under `heading`, up to the next heading.
fn rows(heading: &str) -> Vec<Vec<&'static str>> {
    let start = USAGE
        .lines()
        .position(|l| l.starts_with(heading))
        .unwrap_or_else(|| panic!("docs/USAGE.md has no `{heading}` section"));
    USAGE
        .lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with('|')
                && !l.starts_with("|---")
                && !l.starts_with("| key")
                && !l.starts_with("| context")
        })
        .map(|l| l.split('|').map(str::trim).collect())
        .collect()
}

fn documented(heading: &str) -> Bindings {
    let mut out = Bindings::new();
    for cells in rows(heading) {
        let (keys, acts) = (cells[1], cells[2]);
        let names = backticked(keys);
        if acts == "movement" {
            for k in names {
                out.entry(label(k)).or_default().push(movement(k));
            }
            continue;
        }
        let actions: Vec<Action> = backticked(acts).into_iter().map(action).collect();
        if names.len() == actions.len() && keys.contains(" / ") {
            for (k, a) in names.iter().zip(&actions) {
                out.entry(label(k)).or_default().push(*a);
            }
        } else if actions.len() == 1 {
            for k in names {
                out.entry(label(k)).or_default().push(actions[0]);
            }
        } else if names.len() == 1 {
            out.entry(label(names[0])).or_default().extend(&actions);
        } else {
            panic!(
                "docs/USAGE.md `{heading}`: cannot pair keys and actions in `{keys}` | `{acts}`"
            );
        }
    }
    out
}

/// A context's own bindings in a keymap, each key's actions in the order written.
fn bound(keymap: &Keymap, ctx: KeyContext) -> Bindings {
    let mut out = Bindings::new();
    for (key, _) in keymap.own_bindings(ctx) {
        if out.contains_key(&key) {
            continue;
        }
        let chord = KeyChord::parse(&key).unwrap_or_else(|e| panic!("{key}: {e}"));
        out.insert(key, keymap.lookup_all_chord(ctx, &chord));
    }
    out
}

/// What differs between the documented and the bound keys, one line per key.
fn compare(section: &str, keymap: &str, docs: &Bindings, keys: &Bindings) -> Vec<String> {
    let names = |a: &[Action]| a.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    for (key, actions) in keys {
        match docs.get(key) {
            None => problems.push(format!(
                "{section}: key `{key}` ({}) is bound in the {keymap} keymap but missing from docs/USAGE.md",
                names(actions)
            )),
            Some(d) if d != actions => problems.push(format!(
                "{section}: key `{key}` is documented as {} but the {keymap} keymap binds {}",
                names(d),
                names(actions)
            )),
            Some(_) => {}
        }
    }
    for (key, actions) in docs {
        if !keys.contains_key(key) {
            problems.push(format!(
                "{section}: docs/USAGE.md documents key `{key}` ({}) that the {keymap} keymap does not bind",
                names(actions)
            ));
        }
    }
    problems
}

#[test]
fn usage_key_tables_match_the_default_keymap_and_the_actions() {
    let keymap = Keymap::builtin("default").expect("the default keymap parses");
    let mut problems = Vec::new();
    let mut mentioned: Vec<Action> = Vec::new();
    for (heading, ctx) in SECTIONS {
        let docs = documented(heading);
        mentioned.extend(docs.values().flatten());
        problems.extend(compare(heading, "default", &docs, &bound(&keymap, *ctx)));
    }
    for a in Action::ALL {
        if !mentioned.contains(a) {
            problems.push(format!(
                "action `{}` has no key in docs/USAGE.md's key tables",
                a.name()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `vim` table lists what the vim keymap adds per context: "`j` down, `ctrl-f` page down".
#[test]
fn usage_vim_table_matches_the_vim_keymap() {
    let vim = Keymap::builtin("vim").expect("the vim keymap parses");
    let default = Keymap::builtin("default").expect("the default keymap parses");
    let mut docs: BTreeMap<KeyContext, Bindings> = BTreeMap::new();
    for cells in rows("### The `vim` keymap") {
        let bindings: Bindings = cells[2]
            .split(", ")
            .map(|b| {
                let key = backticked(b)[0];
                let name = b
                    .rsplit('`')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .replace(' ', "_");
                (label(key), vec![action(&name)])
            })
            .collect();
        for ctx in cells[1].split(", ") {
            let ctx = KeyContext::from_name(ctx)
                .unwrap_or_else(|| panic!("docs/USAGE.md vim table: no context `{ctx}`"));
            docs.insert(ctx, bindings.clone());
        }
    }
    let mut problems = Vec::new();
    for ctx in KeyContext::ALL {
        let (base, added) = (bound(&default, *ctx), bound(&vim, *ctx));
        let added: Bindings = added
            .into_iter()
            .filter(|(k, a)| base.get(k) != Some(a))
            .collect();
        let section = format!("vim table, {}", ctx.name());
        let documented = docs.remove(ctx).unwrap_or_default();
        problems.extend(compare(&section, "vim", &documented, &added));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The "Actions:" list of the keymap-file section names every action, in order.
#[test]
fn usage_lists_every_action_name() {
    let start = USAGE
        .find("Actions: `")
        .expect("docs/USAGE.md lists the actions (\"Actions: `...`\")");
    let list = backticked(&USAGE[start..])[0];
    let documented: Vec<&str> = list.split_whitespace().collect();
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    for a in &actions {
        assert!(
            documented.contains(a),
            "docs/USAGE.md's action list lacks `{a}`"
        );
    }
    for d in &documented {
        assert!(
            actions.contains(d),
            "docs/USAGE.md's action list names `{d}`, no action"
        );
    }
    assert_eq!(
        documented, actions,
        "docs/USAGE.md lists the actions in their order"
    );
}
