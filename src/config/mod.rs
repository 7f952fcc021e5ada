//! Configuration, themes and keymaps (YAML via serde-saphyr), with file:line:col errors.
//!
//! Loading never takes the console down for a problem in an implicit file: the XDG config,
//! a user theme or keymap that is malformed is reported as a warning and the built-in
//! defaults are used. Only what the user named explicitly (`--config`) is fatal.

mod error;
pub mod keymap;
mod layers;
pub mod paths;
pub mod schema;
pub mod theme;
pub(crate) mod yaml;

pub use error::ConfigError;
pub use keymap::{KeyChord, KeyContext, Keymap};
pub use theme::{ColorSupport, Role, Theme};

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Lines of history fetched when logs open.
    pub tail: usize,
    /// Ring buffer size of the log view.
    pub buffer_lines: usize,
    pub timestamps: bool,
    pub wrap: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            tail: 1000,
            buffer_lines: 100_000,
            timestamps: false,
            wrap: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ShellConfig {
    /// Tried in order inside the container; the first that exists runs.
    pub commands: Vec<String>,
}

impl Default for ShellConfig {
    fn default() -> Self {
        ShellConfig {
            commands: vec!["/bin/bash".into(), "/bin/sh".into()],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DockerSource {
    pub name: String,
    /// unix:///path, tcp://host:port, http(s)://; absent = resolve like the docker CLI.
    #[serde(default)]
    pub host: Option<String>,
}

/// One Kubernetes context shown as a source (`kube:<context>`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct KubeSource {
    /// A context name from the kubeconfig (KUBECONFIG, else ~/.kube/config).
    pub context: String,
    /// Namespace scope; absent = the context's namespace (else `default`); `*` = all.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// One Mender server (`mender:<name>`): the management API at `url`, authenticated with the
/// personal access token held in the environment variable `token_env` (never in the file).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MenderSource {
    pub name: String,
    /// e.g. `https://hosted.mender.io` or `https://mender.example.com`
    pub url: String,
    /// The NAME of the environment variable holding the token, e.g. MENDER_TOKEN.
    pub token_env: String,
}

/// fleetdeck's config file (~/.config/fleetdeck/config.yaml).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub theme: String,
    pub keymap: String,
    pub read_only: bool,
    /// Ask before stop/kill/remove and other destructive actions.
    pub confirm_destructive: bool,
    pub logs: LogConfig,
    pub shell: ShellConfig,
    /// Docker endpoints; empty = one source "local" resolved like the docker CLI; `false` =
    /// none (an appliance or a bastion without Docker).
    pub docker: DockerSources,
    /// Kubernetes contexts shown at once; absent = the kubeconfig's current context (when a
    /// kubeconfig exists), `[]` = none.
    pub kube: Option<Vec<KubeSource>>,
    /// Fleet files (devices over SSH); `~/` and paths relative to the config file work.
    pub fleet: Vec<PathBuf>,
    /// Mender servers (management API).
    pub mender: Vec<MenderSource>,
    /// What `:triage` and `fleetdeck triage` count as a problem.
    pub triage: crate::triage::TriageConfig,
    /// The view the console opens on, by kind name or alias (`devices`, `pods`, ...); default:
    /// the view it was left on (kind, filter, sort; `<state_dir>/last-view.json`), else
    /// containers, or devices when `docker: false`. `--view` overrides it.
    pub start_view: Option<String>,
    /// Draw with ASCII only (borders, arrows, gauges): `true`/`false`; absent = when the
    /// locale (LC_ALL, LC_CTYPE, LANG) is not UTF-8. `--ascii` sets it.
    pub ascii: Option<bool>,
    /// At most this many frames a second for what streams and watches change (keys always
    /// redraw at once); default 30.
    pub max_fps: Option<u32>,
    /// Bytes a second the console may write to the terminal for those frames (a frame of N
    /// bytes holds the next back N / this seconds); default 16384 when it runs in an SSH
    /// session (SSH_CONNECTION or SSH_TTY set), else no limit; 0 = no limit.
    pub max_bytes_per_sec: Option<u64>,
}

/// The kind a start view names (`start_view:`, `--view`), or why there is none.
pub fn view_kind(name: &str) -> Result<crate::model::ResourceKind, String> {
    crate::model::ResourceKind::from_alias(name)
        .ok_or_else(|| format!("no view named `{name}` (e.g. containers, devices, pods)"))
}

/// `docker:` in the config: a list of endpoints, or `false` for no Docker source at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DockerSources {
    /// Empty (and not `off`) = one source "local" resolved like the docker CLI.
    pub list: Vec<DockerSource>,
    /// `docker: false`: a machine without Docker shows no Docker source, instead of an empty
    /// containers table retrying forever.
    pub off: bool,
}

impl std::ops::Deref for DockerSources {
    type Target = Vec<DockerSource>;
    fn deref(&self) -> &Vec<DockerSource> {
        &self.list
    }
}

impl<'de> Deserialize<'de> for DockerSources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match yaml::list_or_false(d)? {
            Some(list) => DockerSources { list, off: false },
            None => DockerSources {
                list: Vec::new(),
                off: true,
            },
        })
    }
}

#[cfg(test)]
impl schemars::JsonSchema for DockerSources {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DockerSources".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let item = generator.subschema_for::<DockerSource>();
        schemars::json_schema!({
            "description": "Docker endpoints, or false for none.",
            "anyOf": [
                {"type": "array", "items": item},
                {"type": "boolean"},
                {"type": "null"}
            ]
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: "default".into(),
            keymap: "default".into(),
            read_only: false,
            confirm_destructive: true,
            logs: LogConfig::default(),
            shell: ShellConfig::default(),
            docker: DockerSources::default(),
            kube: None,
            fleet: Vec::new(),
            mender: Vec::new(),
            start_view: None,
            ascii: None,
            max_fps: None,
            max_bytes_per_sec: None,
            triage: Default::default(),
        }
    }
}

/// A config plus the problems met while loading it (shown as toasts; the console runs on).
#[derive(Debug, Clone, Default)]
pub struct Loaded<T> {
    pub value: T,
    pub warnings: Vec<String>,
}

impl Config {
    /// `explicit` = the `--config` flag: a problem with it is an error (refuse to start).
    /// Otherwise the XDG file is used when present, and a malformed one falls back to defaults
    /// with a warning naming file:line:col.
    pub fn load(explicit: Option<&Path>) -> Result<Loaded<Config>, ConfigError> {
        Config::load_from(explicit, &paths::default_config_file()).map(|(loaded, _)| loaded)
    }

    /// [`load`](Self::load) with the implicit file given; also returns the file actually used.
    pub fn load_from(
        explicit: Option<&Path>,
        default_file: &Path,
    ) -> Result<(Loaded<Config>, Option<PathBuf>), ConfigError> {
        if let Some(file) = explicit {
            let text = yaml::read_text(file)?;
            let config = Config::from_yaml(&text, file)?;
            return Ok((
                Loaded {
                    value: config,
                    warnings: Vec::new(),
                },
                Some(file.to_path_buf()),
            ));
        }
        match std::fs::metadata(default_file) {
            // No config file is the normal first run, not a problem worth a toast.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Loaded::default(), None));
            }
            _ => {}
        }
        let parsed =
            yaml::read_text(default_file).and_then(|text| Config::from_yaml(&text, default_file));
        Ok(match parsed {
            Ok(config) => (
                Loaded {
                    value: config,
                    warnings: Vec::new(),
                },
                Some(default_file.to_path_buf()),
            ),
            Err(e) => (
                Loaded {
                    value: Config::default(),
                    warnings: vec![e.to_string()],
                },
                None,
            ),
        })
    }

    /// Parse YAML text; `file` is only used in error messages. An empty document means all
    /// defaults.
    pub fn from_yaml(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let Some(config) = yaml::parse::<Config>(text, file)? else {
            return Ok(Config::default());
        };
        // Parsing succeeded, so the same text parses again; this pass only gathers positions
        // for the checks serde cannot express.
        let spots = yaml::parse::<Spots>(text, file)
            .ok()
            .flatten()
            .unwrap_or_default();
        config.validate(&spots, file)?;
        Ok(config)
    }

    fn validate(&self, spots: &Spots, file: &Path) -> Result<(), ConfigError> {
        let at = |s: Option<&Spanned<IgnoredAny>>, msg: &str| match s {
            Some(s) => yaml::error_at(file, yaml::loc(s), msg),
            None => ConfigError::whole_file(file, msg),
        };
        let logs = spots.logs.as_ref();
        if self.logs.buffer_lines == 0 {
            return Err(at(
                logs.and_then(|l| l.buffer_lines.as_ref()),
                "logs.buffer_lines must be at least 1",
            ));
        }
        let shell = spots.shell.as_ref().and_then(|s| s.commands.as_ref());
        if self.shell.commands.is_empty() || self.shell.commands.iter().any(|c| c.trim().is_empty())
        {
            return Err(at(
                shell,
                "shell.commands needs at least one command, and no empty ones",
            ));
        }
        for (name, value) in [("theme", &self.theme), ("keymap", &self.keymap)] {
            if value.trim().is_empty() {
                let spot = if name == "theme" {
                    spots.theme.as_ref()
                } else {
                    spots.keymap.as_ref()
                };
                return Err(at(spot, &format!("{name} must not be empty")));
            }
        }
        if let Some(view) = &self.start_view
            && let Err(e) = view_kind(view)
        {
            return Err(at(spots.start_view.as_ref(), &format!("start_view: {e}")));
        }
        let docker_spots = spots.docker.as_deref().unwrap_or_default();
        for (i, d) in self.docker.iter().enumerate() {
            let spot = docker_spots.get(i);
            let name_at = spot.and_then(|s| s.name.as_ref());
            if d.name.trim().is_empty() {
                return Err(at(name_at, "docker source name must not be empty"));
            }
            if let Some(first) = self.docker[..i].iter().position(|o| o.name == d.name) {
                let line = docker_spots
                    .get(first)
                    .and_then(|s| s.name.as_ref())
                    .map(|s| s.referenced.line());
                let where_ = line
                    .map(|l| format!(" (first on line {l})"))
                    .unwrap_or_default();
                return Err(at(
                    name_at,
                    &format!(
                        "duplicate docker source name {}{where_}",
                        yaml::quote(&d.name)
                    ),
                ));
            }
            if let Some(host) = &d.host {
                let scheme = host.split_once("://").map(|(s, _)| s);
                if !matches!(
                    scheme,
                    Some("unix" | "tcp" | "http" | "https" | "ssh" | "npipe")
                ) {
                    return Err(at(
                        spot.and_then(|s| s.host.as_ref()),
                        &format!(
                            "docker host {} needs a scheme: unix:///path, tcp://host:port, http(s)://host:port or ssh://user@host",
                            yaml::quote(host)
                        ),
                    ));
                }
            }
        }
        let kube_spots = spots.kube.as_deref().unwrap_or_default();
        for (i, k) in self.kube.iter().flatten().enumerate() {
            let ctx_at = kube_spots.get(i).and_then(|s| s.context.as_ref());
            if k.context.trim().is_empty() {
                return Err(at(ctx_at, "kube context must not be empty"));
            }
            let earlier = self.kube.iter().flatten().take(i);
            if earlier.clone().any(|o| o.context == k.context) {
                return Err(at(
                    ctx_at,
                    &format!("duplicate kube context {}", yaml::quote(&k.context)),
                ));
            }
            if k.namespace.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(at(
                    kube_spots.get(i).and_then(|s| s.namespace.as_ref()),
                    "kube namespace must not be empty (leave it out for the context's own)",
                ));
            }
        }
        let mender_spots = spots.mender.as_deref().unwrap_or_default();
        for (i, m) in self.mender.iter().enumerate() {
            let spot = mender_spots.get(i);
            if m.name.trim().is_empty() {
                return Err(at(
                    spot.and_then(|s| s.name.as_ref()),
                    "mender source name must not be empty",
                ));
            }
            if self.mender[..i].iter().any(|o| o.name == m.name) {
                return Err(at(
                    spot.and_then(|s| s.name.as_ref()),
                    &format!("duplicate mender source name {}", yaml::quote(&m.name)),
                ));
            }
            if !(m.url.starts_with("https://") || m.url.starts_with("http://")) {
                return Err(at(
                    spot.and_then(|s| s.url.as_ref()),
                    &format!(
                        "mender url {} must start with https:// (or http://)",
                        yaml::quote(&m.url)
                    ),
                ));
            }
            if m.token_env.trim().is_empty() || m.token_env.contains(['=', ' ']) {
                return Err(at(
                    spot.and_then(|s| s.token_env.as_ref()),
                    "mender token_env is the NAME of an environment variable (e.g. MENDER_TOKEN)",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
struct KubeSpots {
    #[serde(default)]
    context: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    namespace: Option<Spanned<IgnoredAny>>,
}

/// Positions of the values [`Config::validate`] checks (unknown fields are ignored here; the
/// real parse already rejected them).
#[derive(Debug, Default, Deserialize)]
struct Spots {
    #[serde(default)]
    theme: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    keymap: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    logs: Option<LogSpots>,
    #[serde(default)]
    shell: Option<ShellSpots>,
    #[serde(default, deserialize_with = "yaml::list_or_false")]
    docker: Option<Vec<DockerSpots>>,
    #[serde(default)]
    start_view: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    kube: Option<Vec<KubeSpots>>,
    #[serde(default)]
    mender: Option<Vec<MenderSpots>>,
}

#[derive(Debug, Default, Deserialize)]
struct MenderSpots {
    #[serde(default)]
    name: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    url: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    token_env: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
struct LogSpots {
    #[serde(default)]
    buffer_lines: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
struct ShellSpots {
    #[serde(default)]
    commands: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Default, Deserialize)]
struct DockerSpots {
    #[serde(default)]
    name: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    host: Option<Spanned<IgnoredAny>>,
}

/// Everything the console needs from configuration, resolved once at start.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub config: Config,
    pub theme: Theme,
    pub keymap: Keymap,
    pub config_file: Option<PathBuf>,
}

impl Settings {
    /// See [`load_settings`].
    pub fn load(
        explicit: Option<&Path>,
        theme_override: Option<&str>,
        keymap_override: Option<&str>,
    ) -> Result<Loaded<Settings>, ConfigError> {
        load_settings(explicit, theme_override, keymap_override)
    }
}

/// Load the config (see [`Config::load`]), then the theme and keymap by name (`--theme` /
/// `--keymap` override the config). A bad theme or keymap file is a warning and the built-in of
/// that name (or the default) is used; the theme is adapted to the terminal's colours
/// ([`ColorSupport::detect`]).
pub fn load_settings(
    explicit: Option<&Path>,
    theme_override: Option<&str>,
    keymap_override: Option<&str>,
) -> Result<Loaded<Settings>, ConfigError> {
    let (
        Loaded {
            value: config,
            mut warnings,
        },
        config_file,
    ) = Config::load_from(explicit, &paths::default_config_file())?;

    let theme_name = theme_override.unwrap_or(&config.theme);
    let theme = match Theme::load(theme_name) {
        Ok(l) => {
            warnings.extend(l.warnings);
            l.value
        }
        Err(e) => {
            let fallback = Theme::builtin(theme_name).unwrap_or_default();
            warnings.push(format!(
                "{e} (using the built-in `{}` theme)",
                fallback.name
            ));
            fallback
        }
    };
    let theme = theme.resolve(ColorSupport::detect());

    let keymap_name = keymap_override.unwrap_or(&config.keymap);
    let keymap = match Keymap::load(keymap_name) {
        Ok(l) => {
            warnings.extend(l.warnings);
            l.value
        }
        Err(e) => {
            let fallback = Keymap::builtin(keymap_name).unwrap_or_default();
            warnings.push(format!(
                "{e} (using the built-in `{}` keymap)",
                fallback.name
            ));
            fallback
        }
    };

    Ok(Loaded {
        value: Settings {
            config,
            theme,
            keymap,
            config_file,
        },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Config, ConfigError> {
        Config::from_yaml(yaml, Path::new("/etc/fd/config.yaml"))
    }

    #[test]
    fn empty_means_defaults() {
        for text in ["", "\n\n", "# just a comment\n", "~\n", "---\n"] {
            assert_eq!(parse(text).unwrap(), Config::default(), "{text:?}");
        }
    }

    #[test]
    fn full_config() {
        let c = parse(
            "theme: light\nkeymap: vim\nread_only: true\nconfirm_destructive: false\n\
             logs:\n  tail: 50\n  buffer_lines: 1000\n  timestamps: true\n\
             shell:\n  commands: [/bin/ash]\n\
             docker:\n  - name: local\n  - name: build\n    host: tcp://10.0.0.5:2375\n",
        )
        .unwrap();
        assert_eq!(
            (
                c.theme.as_str(),
                c.keymap.as_str(),
                c.read_only,
                c.confirm_destructive
            ),
            ("light", "vim", true, false)
        );
        assert_eq!(
            c.logs,
            LogConfig {
                tail: 50,
                buffer_lines: 1000,
                timestamps: true,
                wrap: false
            }
        );
        assert_eq!(c.shell.commands, ["/bin/ash"]);
        assert_eq!(
            c.docker[1],
            DockerSource {
                name: "build".into(),
                host: Some("tcp://10.0.0.5:2375".into())
            }
        );
    }

    #[test]
    fn docker_can_be_turned_off_and_the_start_view_chosen() {
        let c = parse("docker: false\nstart_view: devices\n").unwrap();
        assert!(c.docker.off && c.docker.is_empty());
        assert_eq!(c.start_view.as_deref(), Some("devices"));
        for text in ["docker: true\n", "docker: ~\n", "docker: []\n", ""] {
            let c = parse(text).unwrap();
            assert!(!c.docker.off && c.docker.is_empty(), "{text:?}");
        }
        let c = parse("docker:\n  - name: a\n").unwrap();
        assert_eq!((c.docker.off, c.docker[0].name.as_str()), (false, "a"));
        // Errors keep their positions, inside the list and for the view.
        let e = parse("docker:\n  - name: a\n    hots: x\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 5), "{e}");
        let e = parse("docker: false\nstart_view: nope\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("no view named `nope`"), "{e}");
        let e = parse("docker: 5\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn errors_have_exact_positions() {
        let cases: &[(&str, (usize, usize), &str)] = &[
            (
                "theme: x\nread_only: maybe\n",
                (2, 12),
                "expected true or false",
            ),
            ("theme: x\nbogus: 1\n", (2, 1), "unknown field `bogus`"),
            ("logs:\n  tail: -5\n", (2, 9), "non-negative whole number"),
            (
                "logs:\n  tail: 99999999999999999999999\n",
                (2, 9),
                "non-negative whole number",
            ),
            (
                "theme: x\n  bad: indent\n",
                (2, 6),
                "mapping values are not allowed",
            ),
            ("theme: a\ntheme: b\n", (2, 1), "duplicate"),
            (
                "docker:\n  - host: unix:///x\n",
                (2, 5),
                "missing field `name`",
            ),
            ("[1, 2]\n", (1, 1), "expected a mapping"),
            ("logs:\n  buffer_lines: 0\n", (2, 17), "at least 1"),
            ("shell:\n  commands: []\n", (2, 13), "at least one command"),
            (
                "docker:\n  - name: a\n  - name: a\n",
                (3, 11),
                "duplicate docker source name `a` (first on line 2)",
            ),
            (
                "docker:\n  - name: a\n    host: localhost:2375\n",
                (3, 11),
                "needs a scheme",
            ),
            ("theme: \"\"\n", (1, 8), "theme must not be empty"),
        ];
        for (text, pos, msg) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.col), *pos, "{text:?} → {e}");
            assert!(e.message.contains(msg), "{text:?} → {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("/etc/fd/config.yaml:{}:{}: ", pos.0, pos.1))
            );
        }
    }

    #[test]
    fn mender_sources() {
        let c = parse(
            "mender:\n  - name: hosted\n    url: https://hosted.mender.io\n    token_env: MENDER_TOKEN\n",
        )
        .unwrap();
        assert_eq!(
            c.mender,
            vec![MenderSource {
                name: "hosted".into(),
                url: "https://hosted.mender.io".into(),
                token_env: "MENDER_TOKEN".into(),
            }]
        );
        let e = parse("mender:\n  - name: a\n    url: hosted.mender.io\n    token_env: T\n")
            .unwrap_err();
        assert!(e.message.contains("https://"), "{e}");
        assert!(e.to_string().contains(":3:"), "positioned: {e}");
        let e = parse("mender:\n  - name: a\n    url: https://m\n    token_env: T\n  - name: a\n    url: https://m\n    token_env: T\n")
            .unwrap_err();
        assert!(e.message.contains("duplicate mender"), "{e}");
        let e = parse("mender:\n  - name: a\n    url: https://m\n    token_env: \"abc=secret\"\n")
            .unwrap_err();
        assert!(e.message.contains("NAME of an environment variable"), "{e}");
    }

    #[test]
    fn kube_sources() {
        assert_eq!(parse("theme: x\n").unwrap().kube, None);
        assert_eq!(parse("kube: []\n").unwrap().kube, Some(vec![]));
        let c = parse("kube:\n  - context: prod\n  - context: dev\n    namespace: web\n").unwrap();
        assert_eq!(
            c.kube.unwrap()[1],
            KubeSource {
                context: "dev".into(),
                namespace: Some("web".into())
            }
        );
        let e = parse("kube:\n  - context: a\n  - context: a\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 14), "{e}");
        assert!(e.message.contains("duplicate kube context"), "{e}");
        let e = parse("kube:\n  - namespace: a\n").unwrap_err();
        assert!(e.message.contains("missing field `context`"), "{e}");
    }

    #[test]
    fn control_characters_are_escaped_in_messages() {
        let e = parse("theme: x\n\"\u{1b}[31m\": 1\n").unwrap_err();
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }

    #[test]
    fn load_from_files() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("missing.yaml");
        // Explicit and missing: refuse.
        let e = Config::load_from(Some(&missing), &missing).unwrap_err();
        assert!(
            e.to_string().starts_with(&missing.display().to_string()),
            "{e}"
        );
        assert!(e.message.contains("not found"), "{e}");
        // Implicit and missing: defaults, quietly.
        let (l, used) = Config::load_from(None, &missing).unwrap();
        assert_eq!(
            (l.value, l.warnings.len(), used),
            (Config::default(), 0, None)
        );
        // Implicit and malformed: defaults with a located warning.
        let bad = tmp.path().join("config.yaml");
        std::fs::write(&bad, "theme: light\nlogs: [\n").unwrap();
        let (l, used) = Config::load_from(None, &bad).unwrap();
        assert_eq!(l.value, Config::default());
        assert_eq!(used, None);
        assert_eq!(l.warnings.len(), 1);
        assert!(
            l.warnings[0].starts_with(&format!("{}:", bad.display())),
            "{:?}",
            l.warnings
        );
        // Explicit and malformed: refuse.
        assert!(Config::load_from(Some(&bad), &missing).is_err());
        // Good file.
        std::fs::write(&bad, "theme: light\n").unwrap();
        let (l, used) = Config::load_from(None, &bad).unwrap();
        assert_eq!(
            (l.value.theme.as_str(), used.as_deref()),
            ("light", Some(bad.as_path()))
        );
    }
}
