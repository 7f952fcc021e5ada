//! Named, layered files (themes and keymaps): a built-in set embedded in the binary, user files
//! in `<config_dir>/<kind>/NAME.yaml` that override the built-in of the same name key by key,
//! `inherits:` to start from another one, and explicit paths.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::ConfigError;
use super::yaml;

/// More than this many `inherits:` hops is a cycle or a mistake.
const MAX_DEPTH: usize = 16;

pub(crate) trait LayerKind {
    type Layer;
    /// "theme" / "keymap", for messages.
    const WHAT: &'static str;
    /// (name, YAML text) of the embedded files.
    const BUILTIN: &'static [(&'static str, &'static str)];
    fn parse(text: &str, file: &Path) -> Result<Self::Layer, ConfigError>;
    fn inherits(layer: &Self::Layer) -> Option<&Spanned<String>>;
}

/// The pseudo path under which a built-in file is reported in messages.
pub(crate) fn builtin_path<K: LayerKind>(name: &str) -> PathBuf {
    PathBuf::from(format!("<built-in>/{}s/{name}.yaml", K::WHAT))
}

pub(crate) fn builtin_text<K: LayerKind>(name: &str) -> Option<&'static str> {
    K::BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(crate) fn builtin_names<K: LayerKind>() -> Vec<&'static str> {
    K::BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A theme/keymap argument is a path when it has a separator or a YAML extension; otherwise
/// it is a name looked up in the user dir and the built-ins.
pub(crate) fn looks_like_path(spec: &str) -> bool {
    spec.contains('/') || spec.ends_with(".yaml") || spec.ends_with(".yml")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

enum Next {
    /// A name: user file if present (and not already used in this chain), else the built-in.
    Named(String, Option<(PathBuf, Spanned<String>)>),
    /// An explicit file.
    File(PathBuf),
    /// Only the built-in of this name.
    Builtin(String),
}

/// The layers to merge, base first. `spec` is a name or a path; `user_dir` is where user
/// files by name live.
pub(crate) fn chain<K: LayerKind>(
    spec: &str,
    user_dir: &Path,
) -> Result<Vec<K::Layer>, ConfigError> {
    let start = if looks_like_path(spec) {
        Next::File(PathBuf::from(spec))
    } else {
        Next::Named(spec.to_string(), None)
    };
    walk::<K>(Vec::new(), HashSet::new(), start, user_dir, spec)
}

/// The chain for text that is not (yet) a file on disk: `file` names it in errors and decides
/// its base like a user file of that name would.
pub(crate) fn chain_from_text<K: LayerKind>(
    text: &str,
    file: &Path,
    user_dir: &Path,
) -> Result<Vec<K::Layer>, ConfigError> {
    let layer = K::parse(text, file)?;
    let next = parent_of::<K>(&layer, file);
    let mut seen = HashSet::new();
    seen.insert(file.to_path_buf());
    walk::<K>(
        vec![layer],
        seen,
        next,
        user_dir,
        &file.display().to_string(),
    )
}

/// Where a user/explicit file's chain continues.
fn parent_of<K: LayerKind>(layer: &K::Layer, file: &Path) -> Next {
    match K::inherits(layer) {
        Some(parent) if looks_like_path(&parent.value) => {
            // Relative to the file that names it, like an include.
            let dir = file.parent().unwrap_or(Path::new("."));
            Next::File(dir.join(&parent.value))
        }
        Some(parent) => Next::Named(
            parent.value.clone(),
            Some((file.to_path_buf(), parent.clone())),
        ),
        None => {
            // A user file overrides the built-in of its own name; a new name starts from the
            // default so every role/key still has a value.
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            Next::Builtin(if builtin_text::<K>(stem).is_some() {
                stem.into()
            } else {
                "default".into()
            })
        }
    }
}

fn walk<K: LayerKind>(
    mut layers: Vec<K::Layer>,
    mut seen: HashSet<PathBuf>,
    mut next: Next,
    user_dir: &Path,
    spec: &str,
) -> Result<Vec<K::Layer>, ConfigError> {
    for _ in 0..MAX_DEPTH {
        next = match next {
            Next::Named(name, from) => {
                let user = user_dir.join(format!("{name}.yaml"));
                if valid_name(&name) && !seen.contains(&user) && user.is_file() {
                    Next::File(user)
                } else if builtin_text::<K>(&name).is_some() {
                    Next::Builtin(name)
                } else if seen.contains(&user) {
                    let msg = format!(
                        "`inherits:` cycle through {} {}",
                        K::WHAT,
                        yaml::quote(&name)
                    );
                    return Err(match from {
                        Some((file, at)) => yaml::error_at(&file, yaml::loc(&at), msg),
                        None => ConfigError::whole_file(&user, msg),
                    });
                } else {
                    let msg = format!(
                        "unknown {} {}{}: not a file in {} nor a built-in ({})",
                        K::WHAT,
                        yaml::quote(&name),
                        yaml::hint(&name, builtin_names::<K>()),
                        user_dir.display(),
                        builtin_names::<K>().join(", ")
                    );
                    return Err(match from {
                        Some((file, at)) => yaml::error_at(&file, yaml::loc(&at), msg),
                        None => ConfigError::whole_file(&user, msg),
                    });
                }
            }
            Next::File(file) => {
                let text = yaml::read_text(&file)?;
                let layer = K::parse(&text, &file)?;
                let next = parent_of::<K>(&layer, &file);
                seen.insert(file);
                layers.push(layer);
                next
            }
            Next::Builtin(name) => {
                let path = builtin_path::<K>(&name);
                let Some(text) = builtin_text::<K>(&name) else {
                    return Err(ConfigError::whole_file(
                        &path,
                        format!("no built-in {} named {}", K::WHAT, yaml::quote(&name)),
                    ));
                };
                let layer = K::parse(text, &path)?;
                let parent = K::inherits(&layer).map(|p| p.value.clone());
                layers.push(layer);
                match parent {
                    Some(p) if p != name => Next::Builtin(p),
                    _ => {
                        layers.reverse();
                        return Ok(layers);
                    }
                }
            }
        };
    }
    Err(ConfigError::whole_file(
        Path::new(spec),
        format!(
            "{} inheritance is deeper than {MAX_DEPTH} levels (a cycle of `inherits:`?)",
            K::WHAT
        ),
    ))
}
