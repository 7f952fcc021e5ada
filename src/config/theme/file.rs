//! One theme file (a layer) and the merge of a chain of layers into concrete role styles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::Role;
use super::color::{self, NAMED};
use crate::config::ConfigError;
use crate::config::layers::LayerKind;
#[cfg(test)]
use crate::config::schema;
use crate::config::yaml::{self, Entries, Scalar};

/// A fleetdeck theme: a palette of named colours and a style per role.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ThemeDoc {
    /// The theme this one changes, by name (`default`, `light`, `mono` or a user theme).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    inherits: Option<Spanned<String>>,
    /// Named colours, used by the styles as `fg: accent`.
    #[serde(default)]
    #[cfg_attr(
        test,
        schemars(with = "Option<std::collections::BTreeMap<String, schema::Colour>>")
    )]
    palette: Option<Entries<Spanned<String>, Spanned<Scalar>>>,
    /// A style per role (table rows, header, dialogs, log levels, ...).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<schema::RoleStyles<StyleDoc>>"))]
    styles: Option<Entries<Spanned<String>, StyleDoc>>,
    /// Colours of the source prefixes in multi-source logs, cycled.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<Vec<schema::Colour>>"))]
    prefixes: Option<Vec<Spanned<Scalar>>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct StyleDoc {
    /// Foreground: a palette name, a colour name, `#rrggbb` or a 256-colour index.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(test, schemars(with = "Option<schema::Colour>"))]
    fg: Option<Spanned<Scalar>>,
    /// Background, written like `fg`.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(test, schemars(with = "Option<schema::Colour>"))]
    bg: Option<Spanned<Scalar>>,
    #[serde(default)]
    bold: Option<bool>,
    #[serde(default)]
    dim: Option<bool>,
    #[serde(default)]
    italic: Option<bool>,
    #[serde(default)]
    underlined: Option<bool>,
    #[serde(default)]
    reversed: Option<bool>,
}

/// A key that is present is `Some` even when its value is null: `fg: #5fafff` (unquoted, so
/// a comment) must be reported, not silently mean "no colour".
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Spanned<Scalar>>, D::Error> {
    Spanned::<Scalar>::deserialize(d).map(Some)
}

/// A colour as written, with where it was written, resolved only after all layers are merged
/// so a palette entry redefined in a user file re-colours every role of the base theme.
#[derive(Debug, Clone)]
pub(crate) struct ColorRef {
    text: Option<String>,
    file: PathBuf,
    at: Location,
}

impl ColorRef {
    fn new(s: &Spanned<Scalar>, file: &Path) -> ColorRef {
        let text = match &s.value {
            Scalar::Text(t) => Some(t.clone()),
            Scalar::Null => None,
        };
        ColorRef {
            text,
            file: file.to_path_buf(),
            at: *yaml::loc(s),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct StyleLayer {
    fg: Option<ColorRef>,
    bg: Option<ColorRef>,
    /// (modifier, on/off) in the order written; `false` removes an inherited modifier.
    mods: Vec<(Modifier, bool)>,
}

#[derive(Debug)]
pub(crate) struct ThemeLayer {
    pub file: PathBuf,
    inherits: Option<Spanned<String>>,
    palette: Vec<(String, ColorRef)>,
    styles: Vec<(Role, StyleLayer)>,
    prefixes: Option<Vec<ColorRef>>,
}

pub(crate) struct ThemeKind;

impl LayerKind for ThemeKind {
    type Layer = ThemeLayer;
    const WHAT: &'static str = "theme";
    const BUILTIN: &'static [(&'static str, &'static str)] = &[
        ("default", include_str!("../../../themes/default.yaml")),
        ("light", include_str!("../../../themes/light.yaml")),
        ("mono", include_str!("../../../themes/mono.yaml")),
    ];

    fn parse(text: &str, file: &Path) -> Result<ThemeLayer, ConfigError> {
        let Some(doc) = yaml::parse::<ThemeDoc>(text, file)? else {
            return Ok(ThemeLayer {
                file: file.to_path_buf(),
                inherits: None,
                palette: Vec::new(),
                styles: Vec::new(),
                prefixes: None,
            });
        };
        let palette = doc
            .palette
            .unwrap_or_default()
            .0
            .into_iter()
            .map(|(k, v)| (k.value, ColorRef::new(&v, file)))
            .collect();
        let mut styles = Vec::new();
        for (name, s) in doc.styles.unwrap_or_default().0 {
            let Some(role) = Role::from_name(&name.value) else {
                return Err(yaml::error_at(
                    file,
                    yaml::loc(&name),
                    format!(
                        "unknown role {}{}; roles: {}",
                        yaml::quote(&name.value),
                        yaml::hint(&name.value, Role::ALL.iter().map(|r| r.name())),
                        Role::ALL
                            .iter()
                            .map(|r| r.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let mods = [
                (Modifier::BOLD, s.bold),
                (Modifier::DIM, s.dim),
                (Modifier::ITALIC, s.italic),
                (Modifier::UNDERLINED, s.underlined),
                (Modifier::REVERSED, s.reversed),
            ]
            .into_iter()
            .filter_map(|(m, on)| on.map(|on| (m, on)))
            .collect();
            styles.push((
                role,
                StyleLayer {
                    fg: s.fg.as_ref().map(|c| ColorRef::new(c, file)),
                    bg: s.bg.as_ref().map(|c| ColorRef::new(c, file)),
                    mods,
                },
            ));
        }
        let prefixes = doc
            .prefixes
            .map(|v| v.iter().map(|c| ColorRef::new(c, file)).collect());
        Ok(ThemeLayer {
            file: file.to_path_buf(),
            inherits: doc.inherits,
            palette,
            styles,
            prefixes,
        })
    }

    fn inherits(layer: &ThemeLayer) -> Option<&Spanned<String>> {
        layer.inherits.as_ref()
    }
}

/// A role's style before the terminal's colour support is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RoleSpec {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub mods: Modifier,
}

/// All layers merged and every colour reference resolved.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub specs: Vec<RoleSpec>,
    pub prefixes: Vec<Color>,
}

pub(crate) fn merge(layers: &[ThemeLayer]) -> Result<Merged, ConfigError> {
    let mut palette: HashMap<&str, &ColorRef> = HashMap::new();
    let mut roles: Vec<StyleLayer> = vec![StyleLayer::default(); Role::ALL.len()];
    let mut prefixes: Option<&Vec<ColorRef>> = None;
    for layer in layers {
        for (name, c) in &layer.palette {
            palette.insert(name.as_str(), c);
        }
        for (role, s) in &layer.styles {
            let Some(slot) = roles.get_mut(*role as usize) else {
                continue;
            };
            if s.fg.is_some() {
                slot.fg.clone_from(&s.fg);
            }
            if s.bg.is_some() {
                slot.bg.clone_from(&s.bg);
            }
            slot.mods.extend(s.mods.iter().copied());
        }
        if layer.prefixes.is_some() {
            prefixes = layer.prefixes.as_ref();
        }
    }
    let resolve = |c: &Option<ColorRef>| c.as_ref().map(|c| resolve_color(c, &palette)).transpose();
    let mut specs = Vec::with_capacity(roles.len());
    for s in &roles {
        let mut mods = Modifier::empty();
        for (m, on) in &s.mods {
            mods.set(*m, *on);
        }
        specs.push(RoleSpec {
            fg: resolve(&s.fg)?,
            bg: resolve(&s.bg)?,
            mods,
        });
    }
    let prefixes = match prefixes {
        Some(list) => list
            .iter()
            .map(|c| resolve_color(c, &palette))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(Merged { specs, prefixes })
}

/// A palette entry may name another one (`warn: orange`); this bounds the chain and
/// reports cycles instead of looping.
const MAX_PALETTE_HOPS: usize = 8;

fn resolve_color(c: &ColorRef, palette: &HashMap<&str, &ColorRef>) -> Result<Color, ConfigError> {
    let mut cur = c;
    // The names followed so far: a repeat is a cycle; a long chain without one is just long.
    let mut seen: Vec<&str> = Vec::new();
    for _ in 0..=MAX_PALETTE_HOPS {
        let Some(text) = cur.text.as_deref() else {
            return Err(yaml::error_at(
                &cur.file,
                &cur.at,
                "empty colour (quote hex colours: \"#5fafff\" — an unquoted # starts a comment)",
            ));
        };
        if let Some(next) = palette.get(text) {
            if seen.contains(&text) {
                seen.push(text);
                let chain: Vec<String> = seen.iter().map(|n| yaml::quote(n)).collect();
                return Err(yaml::error_at(
                    &c.file,
                    &c.at,
                    format!(
                        "palette names refer to each other in a cycle: {}",
                        chain.join(" → ")
                    ),
                ));
            }
            seen.push(text);
            cur = next;
            continue;
        }
        return color::parse_literal(text).ok_or_else(|| {
            let candidates: Vec<&str> = palette
                .keys()
                .copied()
                .chain(NAMED.iter().map(|(n, _)| *n))
                .collect();
            let mut names: Vec<&str> = palette.keys().copied().collect();
            names.sort_unstable();
            yaml::error_at(
                &cur.file,
                &cur.at,
                format!(
                    "unknown colour {}{}; use \"#rrggbb\", 0-255, a palette name{} or one of: {}",
                    yaml::quote(text),
                    yaml::hint(text, candidates),
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", names.join(", "))
                    },
                    NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            )
        });
    }
    Err(yaml::error_at(
        &c.file,
        &c.at,
        format!(
            "palette chain too long: more than {MAX_PALETTE_HOPS} names refer on to each other \
             (starting {}); let a name give a colour within {MAX_PALETTE_HOPS} steps",
            seen.first().map(|n| yaml::quote(n)).unwrap_or_default()
        ),
    ))
}

/// The JSON Schema of a theme file, from the type that parses it.
#[cfg(test)]
pub(crate) fn json_schema() -> schemars::Schema {
    schemars::schema_for!(ThemeDoc)
}
