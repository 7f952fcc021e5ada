//! One keymap file (a layer): `{context: {key: action}}`, validated with positions.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::KeyContext;
use super::key::{KEY_SYNTAX, KeyChord};
use crate::app::action::Action;
use crate::config::ConfigError;
use crate::config::layers::LayerKind;
#[cfg(test)]
use crate::config::schema;
use crate::config::yaml::{self, Entries, Scalar};

type Bindings = Option<Entries<Spanned<Scalar>, Spanned<ActionValue>>>;

/// An action name, or a list of them: `S: [scale, sandbox]` means "the first one that applies
/// to what is selected" (scale on services, sandbox on devices).
#[derive(Debug)]
pub(crate) enum ActionValue {
    One(Scalar),
    Many(Vec<Spanned<Scalar>>),
}

impl<'de> serde::Deserialize<'de> for ActionValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ActionValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an action name or a list of action names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Text(v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Text(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Text(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Text(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Text(v.to_string())))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Null))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<ActionValue, E> {
                Ok(ActionValue::One(Scalar::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<ActionValue, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ActionValue, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<Spanned<Scalar>>()? {
                    out.push(x);
                }
                Ok(ActionValue::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A fleetdeck keymap: per context, key → action (or a list: the first that applies).
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct KeymapDoc {
    /// The keymap this one changes, by name (`default`, `vim` or a user keymap).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    inherits: Option<Spanned<String>>,
    /// Keys that work everywhere.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    global: Bindings,
    /// Keys of resource tables.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    table: Bindings,
    /// Keys of the log view.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    logs: Bindings,
    /// Keys of the describe view.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    describe: Bindings,
    /// Keys of dialogs.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    dialog: Bindings,
    /// Keys of the help screen.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "schema::Bindings"))]
    help: Bindings,
}

/// One context's bindings in file order; empty = explicitly unbound.
pub(crate) type Section = Vec<(KeyChord, Vec<Action>)>;

#[derive(Debug)]
pub(crate) struct KeymapLayer {
    inherits: Option<Spanned<String>>,
    /// Per context, in file order; `None` = explicitly unbound.
    pub contexts: Vec<(KeyContext, Section)>,
}

pub(crate) struct KeymapKind;

impl LayerKind for KeymapKind {
    type Layer = KeymapLayer;
    const WHAT: &'static str = "keymap";
    const BUILTIN: &'static [(&'static str, &'static str)] = &[
        ("default", include_str!("../../../keymaps/default.yaml")),
        ("vim", include_str!("../../../keymaps/vim.yaml")),
    ];

    fn parse(text: &str, file: &Path) -> Result<KeymapLayer, ConfigError> {
        let Some(doc) = yaml::parse::<KeymapDoc>(text, file)? else {
            return Ok(KeymapLayer {
                inherits: None,
                contexts: Vec::new(),
            });
        };
        let sections = [
            (KeyContext::Global, doc.global),
            (KeyContext::Table, doc.table),
            (KeyContext::Logs, doc.logs),
            (KeyContext::Describe, doc.describe),
            (KeyContext::Dialog, doc.dialog),
            (KeyContext::Help, doc.help),
        ];
        let mut contexts = Vec::new();
        for (ctx, entries) in sections {
            let Some(entries) = entries else { continue };
            contexts.push((ctx, parse_section(&entries, file)?));
        }
        Ok(KeymapLayer {
            inherits: doc.inherits,
            contexts,
        })
    }

    fn inherits(layer: &KeymapLayer) -> Option<&Spanned<String>> {
        layer.inherits.as_ref()
    }
}

fn parse_section(
    entries: &Entries<Spanned<Scalar>, Spanned<ActionValue>>,
    file: &Path,
) -> Result<Section, ConfigError> {
    let mut out: Section = Vec::new();
    // Key spelling and line of each chord, to name the first one in a clash.
    let mut spelled: Vec<(KeyChord, String, u64)> = Vec::new();
    for (key, action) in &entries.0 {
        let Scalar::Text(name) = &key.value else {
            return Err(yaml::error_at(
                file,
                yaml::loc(key),
                "empty key name; quote punctuation keys such as '~', '?', ':' (an unquoted ~ is YAML null)",
            ));
        };
        let chord = KeyChord::parse(name).map_err(|msg| {
            yaml::error_at(
                file,
                yaml::loc(key),
                format!("{msg}; a key is {KEY_SYNTAX}"),
            )
        })?;
        if let Some((_, first, line)) = spelled.iter().find(|(c, _, _)| *c == chord) {
            return Err(yaml::error_at(
                file,
                yaml::loc(key),
                format!(
                    "key {} is the same key as {} on line {line}",
                    yaml::quote(name),
                    yaml::quote(first)
                ),
            ));
        }
        spelled.push((chord, name.clone(), key.referenced.line()));
        let actions = match &action.value {
            ActionValue::One(v) => parse_action(v, yaml::loc(action), file)?
                .into_iter()
                .collect(),
            ActionValue::Many(list) => {
                let mut v = Vec::new();
                for a in list {
                    if let Some(a) = parse_action(&a.value, yaml::loc(a), file)? {
                        v.push(a);
                    }
                }
                v
            }
        };
        out.push((chord, actions));
    }
    Ok(out)
}

fn parse_action(
    action: &Scalar,
    at: &serde_saphyr::Location,
    file: &Path,
) -> Result<Option<Action>, ConfigError> {
    let name = match action {
        Scalar::Null => return Ok(None),
        Scalar::Text(t) if t == "none" => return Ok(None),
        Scalar::Text(t) => t,
    };
    Action::from_name(name).map(Some).ok_or_else(|| {
        let names = || Action::ALL.iter().map(|a| a.name());
        let msg = format!(
            "unknown action {}{}; actions: {} (or `none` to unbind)",
            yaml::quote(name),
            yaml::hint(name, names()),
            names().collect::<Vec<_>>().join(", ")
        );
        yaml::error_at(file, at, msg)
    })
}

/// The JSON Schema of a keymap file, from the type that parses it.
#[cfg(test)]
pub(crate) fn json_schema() -> schemars::Schema {
    schemars::schema_for!(KeymapDoc)
}
