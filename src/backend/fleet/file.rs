//! The fleet file (YAML): which devices exist and how to reach them. See
//! `assets/fleet.example.yaml`. Errors name file:line:col like every config file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::ConfigError;
use crate::config::yaml;

/// How a device is updated (used by the update feature; only stored here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdaterKind {
    #[default]
    None,
    Mender,
    Appliance,
    Custom,
}

/// Commands of a `custom` updater.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomUpdater {
    #[serde(default)]
    pub install: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub rollback: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// How updates run on a device (`update:` in `defaults` or a device; a device's fields win).
/// Every command is configurable so tests point them at simulations and appliances with their
/// own tooling can be driven; the defaults are the real commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSettingsDoc {
    #[serde(default)]
    pub reboot_command: Option<String>,
    #[serde(default)]
    pub reboot_timeout: Option<Interval>,
    #[serde(default)]
    pub boot_id_command: Option<String>,
    #[serde(default)]
    pub verify_command: Option<String>,
    #[serde(default)]
    pub failed_flag: Option<String>,
    #[serde(default)]
    pub upload_dir: Option<String>,
    #[serde(default)]
    pub appliance_start: Option<String>,
    #[serde(default)]
    pub appliance_follow: Option<String>,
    #[serde(default)]
    pub appliance_status: Option<String>,
    #[serde(default)]
    pub appliance_clear: Option<String>,
    #[serde(default)]
    pub sudo: Option<bool>,
    #[serde(default)]
    pub require_root: Option<bool>,
}

/// [`UpdateSettingsDoc`] with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpdateSettings {
    /// Reboots the device; the SSH session is expected to drop.
    pub reboot_command: String,
    /// How long a rebooting device may take to answer again (seconds).
    pub reboot_timeout: u64,
    /// Prints an id that changes at every boot: tells a rebooted device from one that is not.
    pub boot_id_command: String,
    /// Health check after the reboot, before the commit; exit 0 = healthy.
    pub verify_command: Option<String>,
    /// The appliance's failure marker.
    pub failed_flag: String,
    /// Where a local artifact is uploaded before it is installed.
    pub upload_dir: String,
    pub appliance_start: String,
    /// Streams the appliance update's output (progress).
    pub appliance_follow: String,
    /// Prints `active`/`activating` while the update runs (`systemctl is-active`).
    pub appliance_status: String,
    /// `{failed_flag}` is replaced by the shell-quoted flag path.
    pub appliance_clear: String,
    /// Run every update command through `sudo -n sh -c` (a login user that is not root).
    pub sudo: bool,
    /// A standalone Mender install needs root (its database and the bootloader environment):
    /// refuse a login user that is not root unless `sudo` is on. `false` only where the
    /// client really runs as that user (its own `--data`, as in fleetdeck's tests).
    pub require_root: bool,
}

impl UpdateSettings {
    fn merge(dev: Option<&UpdateSettingsDoc>, defaults: Option<&UpdateSettingsDoc>) -> Self {
        // A device's own field wins over `defaults`.
        fn first<T>(
            dev: Option<&UpdateSettingsDoc>,
            defaults: Option<&UpdateSettingsDoc>,
            f: impl Fn(&UpdateSettingsDoc) -> Option<T>,
        ) -> Option<T> {
            dev.and_then(&f).or_else(|| defaults.and_then(&f))
        }
        let pick = |f: fn(&UpdateSettingsDoc) -> Option<String>, default: &str| {
            first(dev, defaults, f).unwrap_or_else(|| default.to_string())
        };
        UpdateSettings {
            reboot_command: pick(|d| d.reboot_command.clone(), "reboot"),
            reboot_timeout: first(dev, defaults, |d| d.reboot_timeout).map_or(300, |i| i.0),
            boot_id_command: pick(
                |d| d.boot_id_command.clone(),
                "cat /proc/sys/kernel/random/boot_id",
            ),
            verify_command: first(dev, defaults, |d| d.verify_command.clone()),
            failed_flag: pick(|d| d.failed_flag.clone(), "/run/appliance_failed"),
            upload_dir: pick(|d| d.upload_dir.clone(), "/var/tmp"),
            appliance_start: pick(
                |d| d.appliance_start.clone(),
                "systemctl start --no-block appliance-update",
            ),
            appliance_follow: pick(
                |d| d.appliance_follow.clone(),
                "exec journalctl -u appliance-update -f -n 0 -o cat",
            ),
            appliance_status: pick(
                |d| d.appliance_status.clone(),
                "systemctl is-active appliance-update",
            ),
            appliance_clear: pick(
                |d| d.appliance_clear.clone(),
                "rm -f {failed_flag} && systemctl restart appliance",
            ),
            sudo: first(dev, defaults, |d| d.sudo).unwrap_or(false),
            require_root: first(dev, defaults, |d| d.require_root).unwrap_or(true),
        }
    }
}

impl Default for UpdateSettings {
    fn default() -> Self {
        UpdateSettings::merge(None, None)
    }
}

/// A named login on a device: a user, optionally a command run with a PTY instead of a shell.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
    pub name: String,
    pub user: String,
    #[serde(default)]
    pub command: Option<String>,
}

/// Seconds, written `30`, `"30s"`, `"5m"`, `"1h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub u64);

#[cfg(test)]
impl schemars::JsonSchema for Interval {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Interval".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Seconds: 30, or with a unit: 30s, 5m, 1h, 1d.",
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]+[smhd]?$"}
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match crate::cli::parse_duration_secs(&s) {
            Some(n) if n > 0 => Ok(Interval(n)),
            _ => Err(serde::de::Error::custom(format!(
                "expected an interval like 30, 30s, 5m or 1h, not `{s}`"
            ))),
        }
    }
}

/// Limits on a device's facts: a device over one is not green and is a triage problem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// A disk (`/`, `/data`) used at least this many percent.
    #[serde(default)]
    pub disk_percent: Option<u8>,
    /// A 1-minute load average at least this high.
    #[serde(default)]
    pub load: Option<f64>,
}

impl Thresholds {
    /// Each field the device sets, else the fleet's default.
    fn merge(dev: Option<&Thresholds>, defaults: Option<&Thresholds>) -> Thresholds {
        let (dev, d) = (
            dev.copied().unwrap_or_default(),
            defaults.copied().unwrap_or_default(),
        );
        Thresholds {
            disk_percent: dev.disk_percent.or(d.disk_percent),
            load: dev.load.or(d.load),
        }
    }
}

/// Settings shared by every device unless the device sets its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    updater: Option<UpdaterKind>,
    #[serde(default)]
    custom_updater: Option<CustomUpdater>,
    #[serde(default)]
    sandboxes: Option<Vec<Sandbox>>,
    #[serde(default)]
    journal_unit: Option<String>,
    #[serde(default)]
    log_file: Option<String>,
    #[serde(default)]
    facts_interval: Option<Interval>,
    #[serde(default)]
    units: Option<Vec<String>>,
    #[serde(default)]
    identity_file: Option<String>,
    #[serde(default)]
    update: Option<UpdateSettingsDoc>,
    /// Limits on the device's facts (disk, load) that make it a problem.
    #[serde(default)]
    thresholds: Option<Thresholds>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct DeviceDoc {
    /// One word of printable characters, without `/`; unique in the fleet.
    #[cfg_attr(test, schemars(with = "String"))]
    name: Spanned<String>,
    /// Address, DNS name or ssh_config alias (default: the name); `local` is this machine:
    /// its commands run as local processes, no SSH.
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<UpdaterKind>"))]
    updater: Option<Spanned<UpdaterKind>>,
    #[serde(default)]
    custom_updater: Option<CustomUpdater>,
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<Vec<Sandbox>>"))]
    sandboxes: Option<Spanned<Vec<Sandbox>>>,
    #[serde(default)]
    known_hosts: Option<String>,
    #[serde(default)]
    journal_unit: Option<String>,
    #[serde(default)]
    log_file: Option<String>,
    #[serde(default)]
    facts_interval: Option<Interval>,
    #[serde(default)]
    units: Option<Vec<String>>,
    #[serde(default)]
    identity_file: Option<String>,
    #[serde(default)]
    update: Option<UpdateSettingsDoc>,
    /// Limits on the device's facts (disk, load) that make it a problem.
    #[serde(default)]
    thresholds: Option<Thresholds>,
}

/// A fleetdeck fleet file: devices reached over SSH.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct FleetDoc {
    /// The fleet's name (one word); default: the file name.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    name: Option<Spanned<String>>,
    #[serde(default)]
    known_hosts: Option<String>,
    #[serde(default)]
    ssh_config: Option<String>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    devices: Vec<DeviceDoc>,
}

/// One device, with defaults applied and paths resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceSpec {
    pub name: String,
    /// Host name, address or ssh_config alias (defaults to the name); [`LOCAL_HOST`] is the
    /// machine the console runs on (no SSH).
    pub host: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub tags: Vec<String>,
    pub groups: Vec<String>,
    pub updater: UpdaterKind,
    pub custom_updater: Option<CustomUpdater>,
    pub sandboxes: Vec<Sandbox>,
    /// Device-specific known_hosts (checked first), then the fleet's, then ~/.ssh/known_hosts.
    pub known_hosts: Vec<PathBuf>,
    pub journal_unit: Option<String>,
    pub log_file: Option<String>,
    pub facts_interval: u64,
    pub units: Vec<String>,
    pub identity_files: Vec<PathBuf>,
    pub update: UpdateSettings,
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetFile {
    pub path: PathBuf,
    /// Source name: `fleet:<name>`.
    pub name: String,
    /// Where accepted host keys are written (the fleet's known_hosts, else ~/.ssh/known_hosts).
    pub known_hosts: Option<PathBuf>,
    pub ssh_config: Option<PathBuf>,
    /// Parallel SSH sessions for facts (default 32).
    pub concurrency: usize,
    pub devices: Vec<DeviceSpec>,
}

pub const DEFAULT_FACTS_INTERVAL: u64 = 30;
/// `host: local`: the device is this machine; its commands run as local processes.
pub const LOCAL_HOST: &str = "local";
/// The fleet `--local` adds.
pub const LOCAL_FLEET: &str = "local";

impl DeviceSpec {
    /// The machine the console runs on (`host: local`): no SSH, no host key, no passphrase.
    pub fn is_local(&self) -> bool {
        self.host == LOCAL_HOST
    }
}
pub const DEFAULT_CONCURRENCY: usize = 32;

fn resolve_path(s: &str, base: &Path) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    if let Some(rest) = s.strip_prefix("~/") {
        home.join(rest)
    } else {
        let p = PathBuf::from(s);
        if p.is_absolute() { p } else { base.join(p) }
    }
}

impl FleetFile {
    /// What `--local` adds: a fleet `local` with one device, this machine (`host: local`),
    /// named after its host name, with every default a fleet file would give it.
    pub fn local(hostname: &str) -> FleetFile {
        let name = if is_one_word(hostname) && !hostname.contains('/') {
            hostname
        } else {
            LOCAL_HOST
        };
        FleetFile {
            path: PathBuf::from("--local"),
            name: LOCAL_FLEET.into(),
            known_hosts: None,
            ssh_config: None,
            concurrency: 1,
            devices: vec![DeviceSpec {
                name: name.to_string(),
                host: LOCAL_HOST.into(),
                user: None,
                port: None,
                tags: Vec::new(),
                groups: Vec::new(),
                updater: UpdaterKind::None,
                custom_updater: None,
                sandboxes: Vec::new(),
                known_hosts: Vec::new(),
                journal_unit: None,
                log_file: None,
                facts_interval: DEFAULT_FACTS_INTERVAL,
                units: Vec::new(),
                identity_files: Vec::new(),
                update: UpdateSettings::default(),
                thresholds: Thresholds::default(),
            }],
        }
    }

    pub fn load(path: &Path) -> Result<FleetFile, ConfigError> {
        let text = yaml::read_text(path)?;
        FleetFile::from_yaml(&text, path)
    }

    pub fn from_yaml(text: &str, path: &Path) -> Result<FleetFile, ConfigError> {
        let doc = yaml::parse::<FleetDoc>(text, path)?
            .ok_or_else(|| ConfigError::whole_file(path, "empty fleet file: add `devices:`"))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("fleet")
            .to_string();
        let name = match &doc.name {
            Some(n) if !is_one_word(&n.value) => {
                return Err(yaml::error_at(
                    path,
                    yaml::loc(n),
                    "fleet name must be one word of printable characters",
                ));
            }
            Some(n) => n.value.clone(),
            None => stem,
        };
        let fleet_known = doc.known_hosts.as_deref().map(|s| resolve_path(s, base));
        let d = &doc.defaults;
        let mut devices: Vec<DeviceSpec> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        for dev in &doc.devices {
            let n = dev.name.value.trim();
            if !is_one_word(n) || n.contains('/') {
                return Err(yaml::error_at(
                    path,
                    yaml::loc(&dev.name),
                    "device name must be one word of printable characters, without `/`",
                ));
            }
            if let Some(i) = devices.iter().position(|x| x.name == n) {
                return Err(yaml::error_at(
                    path,
                    yaml::loc(&dev.name),
                    format!(
                        "duplicate device name {} (first on line {})",
                        yaml::quote(n),
                        lines[i]
                    ),
                ));
            }
            let updater = dev
                .updater
                .as_ref()
                .map(|u| u.value)
                .or(d.updater)
                .unwrap_or_default();
            let custom = dev.custom_updater.clone().or(d.custom_updater.clone());
            if updater == UpdaterKind::Custom && custom.as_ref().is_none_or(|c| c.install.is_none())
            {
                let at = dev
                    .updater
                    .as_ref()
                    .map(|u| *yaml::loc(u))
                    .unwrap_or(*yaml::loc(&dev.name));
                return Err(yaml::error_at(
                    path,
                    &at,
                    "a custom updater needs `custom_updater: {install: ...}`",
                ));
            }
            let sandboxes = dev
                .sandboxes
                .as_ref()
                .map(|s| s.value.clone())
                .or(d.sandboxes.clone())
                .unwrap_or_default();
            for (i, s) in sandboxes.iter().enumerate() {
                if sandboxes[..i].iter().any(|o| o.name == s.name) || s.name.trim().is_empty() {
                    let at = dev
                        .sandboxes
                        .as_ref()
                        .map(|s| *yaml::loc(s))
                        .unwrap_or(*yaml::loc(&dev.name));
                    return Err(yaml::error_at(
                        path,
                        &at,
                        format!(
                            "sandbox names must be unique and not empty: {}",
                            yaml::quote(&s.name)
                        ),
                    ));
                }
            }
            let mut known = Vec::new();
            if let Some(k) = &dev.known_hosts {
                known.push(resolve_path(k, base));
            }
            if let Some(k) = &fleet_known {
                known.push(k.clone());
            }
            let mut tags = d.tags.clone();
            for t in &dev.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
            devices.push(DeviceSpec {
                name: n.to_string(),
                host: dev.host.clone().unwrap_or_else(|| n.to_string()),
                user: dev.user.clone().or(d.user.clone()),
                port: dev.port.or(d.port),
                tags,
                groups: dev.groups.clone(),
                updater,
                custom_updater: custom,
                sandboxes,
                known_hosts: known,
                journal_unit: dev.journal_unit.clone().or(d.journal_unit.clone()),
                log_file: dev.log_file.clone().or(d.log_file.clone()),
                facts_interval: dev
                    .facts_interval
                    .or(d.facts_interval)
                    .map(|i| i.0)
                    .unwrap_or(DEFAULT_FACTS_INTERVAL),
                units: dev.units.clone().or(d.units.clone()).unwrap_or_default(),
                identity_files: dev
                    .identity_file
                    .as_deref()
                    .or(d.identity_file.as_deref())
                    .map(|f| vec![resolve_path(f, base)])
                    .unwrap_or_default(),
                update: UpdateSettings::merge(dev.update.as_ref(), d.update.as_ref()),
                thresholds: Thresholds::merge(dev.thresholds.as_ref(), d.thresholds.as_ref()),
            });
            lines.push(dev.name.referenced.line());
        }
        Ok(FleetFile {
            path: path.to_path_buf(),
            name,
            known_hosts: fleet_known,
            ssh_config: doc.ssh_config.as_deref().map(|s| resolve_path(s, base)),
            concurrency: doc.concurrency.unwrap_or(DEFAULT_CONCURRENCY).clamp(1, 256),
            devices,
        })
    }
}

/// A name shown in tables and used (encoded) in state paths: non-empty, no whitespace, no
/// control or format characters (an escape sequence or a bidi override in a device name would
/// reach the operator's terminal).
fn is_one_word(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || crate::term::sanitize::is_hidden(c))
}

/// The JSON Schema of a fleet file, from the type that parses it.
#[cfg(test)]
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(FleetDoc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<FleetFile, ConfigError> {
        FleetFile::from_yaml(t, Path::new("/f/site-a.yaml"))
    }

    #[test]
    fn full_file_with_defaults() {
        let f = parse(
            "known_hosts: kh\ndefaults:\n  user: ops\n  tags: [all]\n  facts_interval: 1m\n  journal_unit: appliance\n\
             devices:\n  - name: gw-1\n    host: 10.0.0.1\n    port: 2222\n    tags: [prod]\n    updater: mender\n    units: [a.service]\n    sandboxes:\n      - {name: app, user: app}\n      - {name: db, user: postgres, command: psql}\n\
             \x20 - name: gw-2\n    user: root\n    facts_interval: 5\n    updater: custom\n    custom_updater: {install: /usr/bin/up}\n",
        )
        .unwrap();
        assert_eq!(f.name, "site-a");
        assert_eq!(f.known_hosts, Some(PathBuf::from("/f/kh")));
        let g1 = &f.devices[0];
        assert_eq!(
            (g1.host.as_str(), g1.port, g1.user.as_deref()),
            ("10.0.0.1", Some(2222), Some("ops"))
        );
        assert_eq!(g1.tags, ["all", "prod"]);
        assert_eq!(g1.facts_interval, 60);
        assert_eq!(g1.updater, UpdaterKind::Mender);
        assert_eq!(g1.sandboxes[1].command.as_deref(), Some("psql"));
        assert_eq!(g1.journal_unit.as_deref(), Some("appliance"));
        let g2 = &f.devices[1];
        assert_eq!((g2.host.as_str(), g2.facts_interval), ("gw-2", 5));
        assert_eq!(g2.updater, UpdaterKind::Custom);
        assert_eq!(g2.known_hosts, [PathBuf::from("/f/kh")]);
    }

    #[test]
    fn thresholds_merge_field_by_field() {
        let f = parse(
            "defaults:\n  thresholds: {disk_percent: 90, load: 4}\n\
             devices:\n  - name: a\n  - name: b\n    thresholds: {load: 8.5}\n",
        )
        .unwrap();
        let t = |i: usize| f.devices[i].thresholds;
        assert_eq!((t(0).disk_percent, t(0).load), (Some(90), Some(4.0)));
        assert_eq!((t(1).disk_percent, t(1).load), (Some(90), Some(8.5)));
        let e = parse("devices:\n  - name: a\n    thresholds: {disk: 90}\n").unwrap_err();
        assert!(e.to_string().contains("disk"), "{e}");
    }

    #[test]
    fn the_example_parses() {
        let f = FleetFile::from_yaml(
            include_str!("../../../assets/fleet.example.yaml"),
            Path::new("/f/fleet.example.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.name, "site-a");
        assert_eq!(f.devices.len(), 3);
        assert_eq!(f.devices[0].sandboxes.len(), 2);
        assert_eq!(f.devices[2].log_file.as_deref(), Some("/var/log/messages"));
    }

    #[test]
    fn errors_are_located() {
        let cases: &[(&str, (usize, usize), &str)] = &[
            (
                "devices:\n  - name: a\n  - name: a\n",
                (3, 11),
                "duplicate device name `a` (first on line 2)",
            ),
            (
                "devices:\n  - name: a\n    updater: apt\n",
                (3, 14),
                "unknown variant",
            ),
            (
                "devices:\n  - name: a\n    bogus: 1\n",
                (3, 5),
                "unknown field `bogus`",
            ),
            (
                "devices:\n  - name: a\n    facts_interval: soon\n",
                (3, 21),
                "expected an interval",
            ),
            (
                "devices:\n  - name: a\n    updater: custom\n",
                (3, 14),
                "custom updater",
            ),
            ("devices:\n  - name: 'a b'\n", (2, 11), "one word"),
        ];
        for (text, pos, msg) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.col), *pos, "{text:?} → {e}");
            assert!(e.message.contains(msg), "{text:?} → {e}");
            assert!(e.to_string().starts_with("/f/site-a.yaml:"), "{e}");
        }
    }
}
