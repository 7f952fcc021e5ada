//! JSON Schemas of the four file kinds (config, fleet, keymap, theme), so an editor with a YAML
//! language server completes and checks them. The example files and built-in themes and keymaps
//! point at the copies in `assets/schemas/`, and `fleetdeck schema NAME` prints one.
//!
//! The schemas are derived from the types that parse them, but only in the test build
//! (`derive::generate`): a test keeps the committed copies equal to the types, and the binary
//! embeds those copies. Deriving them at run time cost the binary the schemars crate and a
//! `JsonSchema` impl per config type, for a command run once in a while (#14, binary size).
//!
//! The schema is a help for editors, not the validator: fleetdeck's own parse (with
//! file:line:col errors, hints and cross-field checks) stays the authority.

/// The file kinds with a schema, as `fleetdeck schema` names them.
pub const NAMES: &[&str] = &["config", "fleet", "keymap", "theme"];

/// The schema of `name` as pretty JSON with a final newline, or None for an unknown name.
pub fn generate(name: &str) -> Option<String> {
    let text = match name {
        "config" => include_str!("../../assets/schemas/config.schema.json"),
        "fleet" => include_str!("../../assets/schemas/fleet.schema.json"),
        "keymap" => include_str!("../../assets/schemas/keymap.schema.json"),
        "theme" => include_str!("../../assets/schemas/theme.schema.json"),
        _ => return None,
    };
    Some(text.to_string())
}

#[cfg(test)]
pub(crate) use derive::{Bindings, Colour, RoleStyles};

/// The derivation from the types, for the test that keeps `assets/schemas/` current.
#[cfg(test)]
mod derive {
    use std::borrow::Cow;
    use std::marker::PhantomData;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    use crate::app::action::Action;
    use crate::config::theme::Role;

    /// The schema of `name` as the types give it, pretty JSON with a final newline.
    pub fn generate(name: &str) -> Option<String> {
        let schema = match name {
            "config" => schemars::schema_for!(crate::config::Config),
            "fleet" => crate::backend::fleet::file::json_schema(),
            "keymap" => crate::config::keymap::file::json_schema(),
            "theme" => crate::config::theme::file::json_schema(),
            _ => return None,
        };
        let mut text = serde_json::to_string_pretty(&schema).ok()?;
        text.push('\n');
        Some(text)
    }

    /// A colour as a theme writes it: a palette or colour name, `#rrggbb`, or a 256-colour index.
    pub(crate) struct Colour;

    impl JsonSchema for Colour {
        fn schema_name() -> Cow<'static, str> {
            "Colour".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A palette name, a colour name (red, lightblue, ...), #rrggbb, or a 256-colour index; ~ for none.",
                "anyOf": [
                    {"type": "string"},
                    {"type": "integer", "minimum": 0, "maximum": 255},
                    {"type": "null"}
                ]
            })
        }
    }

    /// `styles:` of a theme: one entry per role, no other key.
    pub(crate) struct RoleStyles<T>(PhantomData<T>);

    impl<T: JsonSchema> JsonSchema for RoleStyles<T> {
        fn schema_name() -> Cow<'static, str> {
            "RoleStyles".into()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let style = generator.subschema_for::<T>().to_value();
            let properties: serde_json::Map<String, serde_json::Value> = Role::ALL
                .iter()
                .map(|r| (r.name().to_string(), style.clone()))
                .collect();
            json_schema!({
                "type": "object",
                "properties": properties,
                "additionalProperties": false
            })
        }
    }

    /// One keymap context: key (`ctrl-d`, `G`, `f1`, ...) → an action, a list of actions (the
    /// first that applies), or `~` to unbind.
    pub(crate) struct Bindings;

    impl JsonSchema for Bindings {
        fn schema_name() -> Cow<'static, str> {
            "Bindings".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
            let action = json_schema!({"enum": names});
            json_schema!({
                "type": ["object", "null"],
                "additionalProperties": {
                    "anyOf": [
                        action.clone(),
                        {"type": "array", "items": action},
                        {"type": "null"}
                    ]
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::action::Action;
    use crate::config::theme::Role;

    /// The copies in assets/schemas/ are what the types generate. After changing a config type,
    /// `FLEETDECK_WRITE_SCHEMAS=1 cargo test --lib schema` rewrites them.
    #[test]
    fn committed_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schemas");
        let write = std::env::var_os("FLEETDECK_WRITE_SCHEMAS").is_some();
        for name in NAMES {
            let text = derive::generate(name).unwrap();
            let path = dir.join(format!("{name}.schema.json"));
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{} is stale: run FLEETDECK_WRITE_SCHEMAS=1 cargo test --lib schema",
                path.display()
            );
        }
    }

    #[test]
    fn every_action_and_role_is_offered() {
        let keymap = generate("keymap").unwrap();
        for a in Action::ALL {
            assert!(
                keymap.contains(&format!("\"{}\"", a.name())),
                "{}",
                a.name()
            );
        }
        let theme = generate("theme").unwrap();
        for r in Role::ALL {
            assert!(theme.contains(&format!("\"{}\"", r.name())), "{}", r.name());
        }
        assert_eq!(generate("nope"), None);
    }
}
