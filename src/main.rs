//! The `fleetdeck` binary: parses the command line, sets up logging and the private state
//! dir, then runs the console or a scriptable subcommand (src/cli).

use std::io::IsTerminal;
/// Write a line to stderr, ignoring failure: after a hang-up there is no terminal to write to,
/// and `eprintln!` would panic on the closed tty.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::process::ExitCode;

use clap::Parser;
use fleetdeck::app::{AppState, runtime};
use fleetdeck::audit::AuditLog;
use fleetdeck::backend::registry;
use fleetdeck::cli::commands;
use fleetdeck::cli::{Cli, Command, parse_duration_secs};
use fleetdeck::config::{load_settings, paths};
use fleetdeck::model::{LogOpts, ResourceKind};

fn main() -> ExitCode {
    let _ = runtime::STARTED.set(std::time::Instant::now());
    let cli = Cli::parse();
    raise_open_file_limit();
    let log_guard = init_tracing(&cli);
    let code = match tokio::runtime::Builder::new_multi_thread()
        // One worker: the UI loop has the main thread to itself, and every backend shares the
        // worker. With two, a log flood's per-line hand-offs (hyper's connection task ↔ the
        // log task, one engine frame per line) woke the other worker ~50,000 times a second:
        // 60 % of a core for 90,000 lines/s, 45 % with one worker at 105,000 (the engine got
        // the CPU back); Kubernetes at 20,000 pods and 1,000 SSH devices were no slower
        // (docs/PERFORMANCE.md §18).
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(cli)),
        Err(e) => {
            say!("fleetdeck: cannot start the async runtime: {e}");
            1
        }
    };
    drop(log_guard);
    // Exit at once: a thread blocked on a dead daemon or tty must not keep the process alive
    // after its operator is gone.
    std::process::exit(code)
}

/// Every SSH device keeps one session (one socket) open: a fleet of 1,000 devices needs more
/// descriptors than the common soft limit of 1,024, while the hard limit is usually far higher.
/// Raise the soft limit to the hard one, as a server would; failing that we run as before.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    // `None` is "unlimited": nothing to raise then.
    if let (Some(cur), Some(max)) = (lim.current, lim.maximum)
        && cur < max
    {
        lim.current = Some(max);
        let _ = setrlimit(Resource::Nofile, lim);
    }
}

/// Lines the log file's writer thread may have queued; see `init_tracing`.
const LOG_QUEUE_LINES: usize = 2_048;

/// Tracing goes to a file, never to the terminal (it would corrupt the TUI).
fn init_tracing(cli: &Cli) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = cli
        .log_file
        .clone()
        .unwrap_or_else(|| paths::state_dir().join("fleetdeck.log"));
    let dir = path.parent()?.to_path_buf();
    // The state dir and the log are the user's only (the log names hosts and commands).
    fleetdeck::fsx::private_dir_all(&dir).ok()?;
    let file = fleetdeck::fsx::private_file()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let _ = fleetdeck::fsx::tighten(&path);
    // tracing-appender's default queue holds 128,000 lines in a bounded crossbeam channel whose
    // slots are allocated and touched up front: 4 MB of RSS for a log that writes a few lines a
    // minute (docs/PERFORMANCE.md §14). 2,048 lines (64 KB) absorb any burst the console logs;
    // past that the queue stays lossy, as before, rather than blocking the UI.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .lossy(true)
        .finish(file);
    // `FLEETDECK_LOG=debug` or `info,fleetdeck=debug`: levels per target. `Targets` rather than
    // `EnvFilter`: the span and field regexes EnvFilter adds are not needed here and cost the
    // binary a regex DFA builder (#14, binary size).
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = std::env::var("FLEETDECK_LOG")
        .ok()
        .and_then(|s| s.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("hyper", tracing::Level::WARN)
                .with_target("bollard", tracing::Level::WARN)
        });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(filter)
        .init();
    Some(guard)
}

/// Every device's facts, not the first (still connecting) snapshot.
async fn gather_devices(
    fleets: &[fleetdeck::backend::fleet::FleetBackend],
) -> Vec<fleetdeck::model::Resource> {
    let mut rs = Vec::new();
    for f in fleets {
        rs.extend(f.gather().await);
    }
    rs
}

async fn run(cli: Cli) -> i32 {
    // Generated from the CLI definitions alone: no config, no sources.
    let generated = match &cli.command {
        Some(Command::Completions { shell }) => {
            Some(fleetdeck::cli::completions(*shell, &mut std::io::stdout()))
        }
        Some(Command::Man) => Some(fleetdeck::cli::man_page(&mut std::io::stdout())),
        Some(Command::Schema { kind }) => {
            let text = fleetdeck::config::schema::generate(&kind.name()).unwrap_or_default();
            Some(std::io::Write::write_all(
                &mut std::io::stdout(),
                text.as_bytes(),
            ))
        }
        _ => None,
    };
    match generated {
        Some(Ok(())) => return 0,
        // A reader that stopped early (`| head`) is not an error.
        Some(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => return 0,
        Some(Err(e)) => {
            say!("fleetdeck: {e}");
            return 1;
        }
        None => {}
    }
    let loaded = match load_settings(
        cli.config.as_deref(),
        cli.theme.as_deref(),
        cli.keymap.as_deref(),
    ) {
        Ok(l) => l,
        Err(e) => {
            say!("fleetdeck: {e}");
            return 2;
        }
    };
    for w in &loaded.warnings {
        tracing::warn!("{w}");
        if cli.command.is_some() {
            say!("fleetdeck: warning: {w} (using defaults)");
        }
    }
    let settings = loaded.value;
    let kube_args = match &cli.command {
        Some(
            Command::Ls { kube, .. }
            | Command::Triage { kube, .. }
            | Command::Logs { kube, .. }
            | Command::Exec { kube, .. }
            | Command::Timeline { kube, .. },
        ) => kube.clone(),
        _ => Default::default(),
    };
    let mut backends =
        registry::build_with(&settings.config, cli.docker_host.as_deref(), &kube_args);
    let mut fleet_files = settings.config.fleet.clone();
    fleet_files.extend(cli.fleet.iter().cloned());
    let config_dir = settings
        .config_file
        .as_deref()
        .and_then(|f| f.parent())
        .map(|p| p.to_path_buf());
    let (fleets, fleet_warnings) =
        registry::build_fleets(&fleet_files, config_dir.as_deref(), cli.local);
    let mut warnings = loaded.warnings.clone();
    for w in &fleet_warnings {
        tracing::warn!("{w}");
        if cli.command.is_some() {
            say!("fleetdeck: warning: {w}");
        }
    }
    warnings.extend(fleet_warnings);
    if cli.command.is_some() && std::io::stdin().is_terminal() {
        // Scripts run by a person: encrypted keys ask on the terminal, like ssh.
        fleetdeck::ssh::auth::passphrases().enable_tty_prompt();
    }
    backends.extend(fleets.iter().map(|f| {
        std::sync::Arc::new(f.clone()) as std::sync::Arc<dyn fleetdeck::backend::Backend>
    }));
    let result: anyhow::Result<i32> = match cli.command {
        None => {
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                say!(
                    "fleetdeck: the console needs a terminal; for scripts use `fleetdeck ls|logs|exec`"
                );
                return 2;
            }
            // A terminal that cannot move the cursor gets a sentence, not escape soup.
            if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
                say!(
                    "fleetdeck: TERM=dumb cannot show the console; use `fleetdeck ls|logs|exec|run` or set TERM (e.g. TERM=vt100)"
                );
                return 2;
            }
            let mut settings = settings;
            if cli.ascii {
                settings.config.ascii = Some(true);
            }
            if let Some(view) = &cli.view {
                if let Err(e) = fleetdeck::config::view_kind(view) {
                    say!("fleetdeck: --view: {e}");
                    return 2;
                }
                settings.config.start_view = Some(view.clone());
            }
            let audit = AuditLog::new(paths::state_dir().join("audit.jsonl"));
            let mut state = AppState::new(settings, cli.readonly);
            if !warnings.is_empty() {
                state.toast(
                    format!("{} (running on defaults)", warnings.join("; ")),
                    true,
                );
            }
            tracing::info!("console starting with {} source(s)", backends.len());
            runtime::run(state, backends, audit).await.map(|_| 0)
        }
        Some(Command::Ls { kind, output, .. }) => match ResourceKind::from_alias(&kind) {
            None => Err(anyhow::anyhow!(
                "unknown kind `{kind}`; one of: {}",
                ResourceKind::all()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(k) => {
                async {
                    let rs = if k == ResourceKind::Device && !fleets.is_empty() {
                        gather_devices(&fleets).await
                    } else {
                        commands::snapshot(&backends, k).await?
                    };
                    let text = commands::format(&rs, k, output)?;
                    // A closed pipe (`| head`) is not an error worth a panic.
                    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
                    Ok(0)
                }
                .await
            }
        },
        Some(Command::Timeline { since, output, .. }) => match parse_duration_secs(&since) {
            None => {
                say!("fleetdeck: bad --since `{since}` (use 30s, 10m, 2h, 1d)");
                return 2;
            }
            Some(secs) => {
                let audit = paths::state_dir().join("audit.jsonl");
                commands::timeline(&backends, audit, secs, output).await
            }
        },
        Some(Command::Logs {
            target,
            follow,
            tail,
            since,
            timestamps,
            previous,
            ..
        }) => {
            let since_secs = match since.as_deref().map(|s| parse_duration_secs(s).ok_or(s)) {
                Some(Err(s)) => {
                    say!("fleetdeck: bad --since `{s}` (use 30s, 10m, 2h, 1d)");
                    return 2;
                }
                Some(Ok(v)) => Some(v),
                None => None,
            };
            let tail = Some(tail.unwrap_or(settings.config.logs.tail));
            commands::logs(
                &backends,
                &target,
                LogOpts {
                    follow,
                    tail,
                    since_secs,
                    previous,
                },
                timestamps,
            )
            .await
            .map(|_| 0)
        }
        Some(Command::Triage {
            output,
            min_severity,
            ..
        }) => {
            let devices = if fleets.is_empty() {
                None
            } else {
                Some(gather_devices(&fleets).await)
            };
            let cfg = &settings.config.triage;
            commands::triage(&backends, devices, cfg, output, min_severity).await
        }
        Some(Command::Exec {
            target, command, ..
        }) => commands::exec(&backends, &target, &command)
            .await
            .map(|c| i32::try_from(c).unwrap_or(1)),
        Some(Command::Run {
            select,
            concurrency,
            output,
            command,
        }) => {
            let audit = AuditLog::new(paths::state_dir().join("audit.jsonl"));
            commands::run(
                &fleets,
                select,
                &command.join(" "),
                concurrency,
                output,
                cli.readonly || settings.config.read_only,
                audit,
            )
            .await
        }
        Some(Command::Update {
            select,
            artifact,
            parallel,
            max_failures,
            hold_before_commit,
        }) => {
            let max_failures = match fleetdeck::model::FailureLimit::parse(&max_failures) {
                Ok(m) => m,
                Err(e) => {
                    say!("fleetdeck: --max-failures: {e}");
                    return 2;
                }
            };
            commands::update(
                &fleets,
                select,
                &artifact,
                parallel,
                max_failures,
                hold_before_commit,
                cli.readonly || settings.config.read_only,
                AuditLog::new(paths::state_dir().join("audit.jsonl")),
            )
            .await
        }
        // Answered before the config was read.
        Some(Command::Completions { .. } | Command::Man | Command::Schema { .. }) => Ok(0),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            say!("fleetdeck: {e:#}");
            1
        }
    }
}
