//! Command line: `fleetdeck` runs the console; subcommands make the same views scriptable.
//! This module holds the clap definitions; [`commands`] runs the subcommands.

pub mod commands;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fleetdeck",
    version,
    about = "Keyboard-driven console for containers, clusters and device fleets"
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/fleetdeck/config.yaml). An error in a file given
    /// here stops fleetdeck; an error in the default file only warns and uses defaults.
    #[arg(long, short = 'c', global = true, env = "FLEETDECK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Refuse every action that changes something (start, stop, remove, ...).
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Theme name (default, light, mono, or a file in ~/.config/fleetdeck/themes/).
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Keymap name (default, vim, or a file in ~/.config/fleetdeck/keymaps/).
    #[arg(long, global = true)]
    pub keymap: Option<String>,
    /// Draw with ASCII only (default: when the locale is not UTF-8).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// The view the console opens on (a kind: containers, devices, pods, ...); default: the
    /// config's `start_view`, else the view it was left on, else containers.
    #[arg(long, global = true, value_name = "KIND")]
    pub view: Option<String>,
    /// Docker endpoint (unix://, tcp://, ssh://); default: DOCKER_HOST, then the docker context.
    #[arg(long, global = true)]
    pub docker_host: Option<String>,
    /// Fleet file (devices over SSH); repeatable; adds to the config's `fleet:` list.
    #[arg(long, global = true)]
    pub fleet: Vec<PathBuf>,
    /// Add this machine as a device (fleet `local`, `host: local`): facts, logs, shell,
    /// commands and updates run as local processes, as your user.
    #[arg(long, global = true)]
    pub local: bool,
    /// Diagnostic log file (default: $XDG_STATE_HOME/fleetdeck/fleetdeck.log). Never the terminal.
    #[arg(long, global = true)]
    pub log_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

/// The file kinds `fleetdeck schema` knows (see [`crate::config::schema`]).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    Config,
    Fleet,
    Keymap,
    Theme,
}

impl SchemaKind {
    /// The name on the command line, which is also the schema's name.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print shell completions: `fleetdeck completions bash > /etc/bash_completion.d/fleetdeck`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `fleetdeck man > /usr/local/share/man/man1/fleetdeck.1`.
    Man,
    /// Print the JSON Schema of a file kind, for editors: `fleetdeck schema fleet > fleet.schema.json`.
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
    /// List resources: containers, projects, images, volumes, networks, pods, deploy ...
    Ls {
        kind: String,
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Print what happened across every source, newest first: engine events (Docker, Kubernetes)
    /// and fleetdeck's audited actions, since --since ago.
    Timeline {
        /// How far back (30s, 10m, 2h, 1d).
        #[arg(long, default_value = "15m")]
        since: String,
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Print what is wrong now across every source (the console's `:triage`), worst first;
    /// exits 1 when a problem at or above --min-severity exists.
    Triage {
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[arg(long, value_enum, default_value_t = crate::triage::Severity::Warning)]
        min_severity: crate::triage::Severity,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Print the logs of a container (NAME, ID prefix), a compose project (project/NAME), a pod
    /// (pod/NAME) or a deployment (deploy/NAME).
    Logs {
        target: String,
        /// Keep streaming new lines.
        #[arg(short, long)]
        follow: bool,
        /// Lines of history (default 1000; 0 = none).
        #[arg(long)]
        tail: Option<usize>,
        /// Only lines newer than this (30s, 10m, 2h, 1d).
        #[arg(long)]
        since: Option<String>,
        /// Prefix each line with its timestamp.
        #[arg(short, long)]
        timestamps: bool,
        /// The previous (crashed) container instance's logs (Kubernetes pods).
        #[arg(short, long)]
        previous: bool,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Run a command in a container and print its output; exits with the command's code.
    Exec {
        target: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Run a command on fleet devices (by tag, group or name) and print each result; exits 1
    /// when any device failed or could not be reached.
    Run {
        #[command(flatten)]
        select: DeviceSelect,
        /// Devices at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Print results as JSON.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Update fleet devices over SSH as one rollout: at most --parallel at once, no new device
    /// after --max-failures; prints progress lines; exits 1 when a device failed, rolled back
    /// or was not started. The state is kept like the console's: a console started later shows
    /// (and, if this process is killed, resumes) the rollout.
    Update {
        #[command(flatten)]
        select: DeviceSelect,
        /// A URL the devices install from, or a local file that is uploaded to them first.
        #[arg(long)]
        artifact: String,
        /// Devices updated at once (1 to 100).
        #[arg(long, default_value_t = 5, value_parser = parse_parallel)]
        parallel: usize,
        /// Start no new device after this many failures or rollbacks (a count like 1, or a
        /// percentage of the devices like 10%).
        #[arg(long, default_value = "1")]
        max_failures: String,
        /// Stop each device at `verified, waiting for commit` (a canary step): this command
        /// returns once every running device is held, and the console commits them (`c`).
        #[arg(long)]
        hold_before_commit: bool,
    },
}

/// Which fleet devices `run` and `update` act on (any of these matches).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeviceSelect {
    /// Devices with this tag or group (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Devices by name (repeatable).
    #[arg(long = "device", value_name = "DEVICE")]
    pub devices: Vec<String>,
    /// Every device of every fleet.
    #[arg(long)]
    pub all: bool,
}

/// Which Kubernetes context and namespace a subcommand looks at (default: the config's `kube`
/// entries, else the kubeconfig's current context and its namespace).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KubeArgs {
    /// Kubernetes namespace.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Every Kubernetes namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Kubernetes context from the kubeconfig (KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub context: Option<String>,
}

/// `--parallel`: 1 to 100, as the console's update dialog accepts (0 is refused, not clamped).
fn parse_parallel(v: &str) -> Result<usize, String> {
    crate::model::UpdateRequest::parse_parallel(v)
}

/// "30s", "10m", "2h", "1d", or plain seconds.
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Completions for `shell`, from the same clap definitions the parser uses. Rendered into
/// memory first: clap_complete panics on a write error, and `| head` closes the pipe.
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fleetdeck", &mut text);
    out.write_all(&text)
}

/// The man page (roff), from the same clap definitions.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("30s"), Some(30));
        assert_eq!(parse_duration_secs("10m"), Some(600));
        assert_eq!(parse_duration_secs("2h"), Some(7200));
        assert_eq!(parse_duration_secs("45"), Some(45));
        assert_eq!(parse_duration_secs("5x"), None);
        assert_eq!(parse_duration_secs(""), None);
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let c = Cli::parse_from(["fleetdeck", "exec", "web", "--", "echo", "hi"]);
        assert!(
            matches!(c.command, Some(Command::Exec { ref command, .. }) if command == &["echo", "hi"])
        );
    }

    #[test]
    fn update_parallel_zero_is_refused_like_the_dialog() {
        let parse = |p: &str| {
            Cli::try_parse_from([
                "fleetdeck",
                "update",
                "--all",
                "--artifact",
                "a",
                "--parallel",
                p,
            ])
        };
        let e = parse("0").unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            e.to_string()
                .contains("a number of devices from 1 to 100, not `0`"),
            "{e}"
        );
        assert!(parse("101").is_err());
        assert!(matches!(
            parse("3").unwrap().command,
            Some(Command::Update { parallel: 3, .. })
        ));
    }
}
