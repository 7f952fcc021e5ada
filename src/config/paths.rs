//! XDG locations.
//!
//! Per the XDG base-directory spec, an empty or relative `XDG_*_HOME` is ignored (it would
//! otherwise make the config location depend on the current directory).
use std::ffi::OsString;
use std::path::PathBuf;

fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// An absolute directory from the variable, or `None` when unset, empty or relative.
fn abs_dir(value: Option<OsString>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|p| p.is_absolute())
}

fn home_from(get: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    // Without a usable HOME there is no good answer; "/" keeps paths absolute and the failure
    // visible (an unwritable /.config) rather than writing into the current directory.
    abs_dir(get("HOME")).unwrap_or_else(|| PathBuf::from("/"))
}

fn xdg_from(get: &dyn Fn(&str) -> Option<OsString>, var: &str, fallback: &str) -> PathBuf {
    abs_dir(get(var))
        .unwrap_or_else(|| home_from(get).join(fallback))
        .join("fleetdeck")
}

/// `$XDG_CONFIG_HOME/fleetdeck` or `~/.config/fleetdeck`.
pub fn config_dir() -> PathBuf {
    xdg_from(&env, "XDG_CONFIG_HOME", ".config")
}

/// `$XDG_STATE_HOME/fleetdeck` or `~/.local/state/fleetdeck`: audit log, tracing log, update state.
pub fn state_dir() -> PathBuf {
    xdg_from(&env, "XDG_STATE_HOME", ".local/state")
}

pub fn default_config_file() -> PathBuf {
    config_dir().join("config.yaml")
}

/// User theme files: `<config_dir>/themes/NAME.yaml`.
pub fn themes_dir() -> PathBuf {
    config_dir().join("themes")
}

/// User keymap files: `<config_dir>/keymaps/NAME.yaml`.
pub fn keymaps_dir() -> PathBuf {
    config_dir().join("keymaps")
}

/// The append-only audit log: `<state_dir>/audit.jsonl`.
pub fn audit_file() -> PathBuf {
    state_dir().join("audit.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn xdg_wins_when_absolute() {
        let get = with(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg")]);
        assert_eq!(
            xdg_from(&get, "XDG_CONFIG_HOME", ".config"),
            PathBuf::from("/cfg/fleetdeck")
        );
    }

    #[test]
    fn empty_or_relative_xdg_is_ignored() {
        for bad in ["", "relative/dir"] {
            let vars = [("HOME", "/home/u"), ("XDG_CONFIG_HOME", bad)];
            let get = with(&vars);
            assert_eq!(
                xdg_from(&get, "XDG_CONFIG_HOME", ".config"),
                PathBuf::from("/home/u/.config/fleetdeck")
            );
        }
    }

    #[test]
    fn missing_home_falls_back_to_root() {
        let get = with(&[("HOME", "")]);
        assert_eq!(
            xdg_from(&get, "XDG_STATE_HOME", ".local/state"),
            PathBuf::from("/.local/state/fleetdeck")
        );
    }
}
