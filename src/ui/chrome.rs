//! Header, breadcrumbs, the stats strip and the footer (input line, toasts, key hints).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::text::{truncate, width};
use crate::app::action::Action;
use crate::app::state::{AppState, Mode, StatsView, View};
use crate::app::update::completions;
use crate::config::{KeyContext, Role, Theme};
use crate::model::SourceStatus;
use crate::triage::Severity;

pub fn header(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut spans = vec![Span::styled(" fleetdeck ", theme.style(Role::Header))];
    if state.read_only {
        spans.push(Span::styled(" READ-ONLY ", theme.style(Role::DialogDanger)));
    }
    // Open problems (`:triage`), so a new one is noticed from any view.
    let problems = state.triage.count(Severity::Warning);
    if problems > 0 {
        let role = if state.triage.count(Severity::Critical) > 0 {
            Role::DialogDanger
        } else {
            Role::StatusPending
        };
        let s = if problems == 1 { "" } else { "s" };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" ! {problems} problem{s} "),
            theme.style(role),
        ));
    }
    for (id, status) in &state.sources {
        spans.push(Span::raw(" "));
        let (dot, role, text) = match status {
            SourceStatus::Connected(info) => ("●", Role::SourceOk, format!("{id} {info}")),
            SourceStatus::Connecting => ("○", Role::StatusPending, format!("{id} connecting…")),
            SourceStatus::Reconnecting {
                error,
                retry_in_secs,
            } => (
                "✖",
                Role::SourceError,
                format!("{id} {error} (retry in {retry_in_secs}s)"),
            ),
        };
        spans.push(Span::styled(format!("{dot} "), theme.style(role)));
        spans.push(Span::styled(text, theme.style(role)));
    }
    if state.sources.is_empty() {
        spans.push(Span::styled(
            " no sources configured",
            theme.style(Role::Hint),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.style(Role::Base)),
        area,
    );
}

pub fn breadcrumbs(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let sep = Span::styled(" › ", theme.style(Role::Hint));
    let mut spans = vec![Span::raw(" ")];
    for (i, v) in state.stack.iter().enumerate() {
        if i > 0 {
            spans.push(sep.clone());
        }
        spans.push(Span::styled(v.title(), theme.style(Role::Breadcrumb)));
    }
    // Right side: what the view shows.
    let info = match state.top() {
        View::Table(t) => {
            let total = state
                .data
                .get(&t.kind)
                .map(|m| m.values().map(|v| v.len()).sum::<usize>())
                .unwrap_or(0);
            let mut s = format!("{}/{}", t.rows.len(), total);
            if let Some((f, _)) = &t.filter {
                s = format!("/{f}  {s}");
            }
            s
        }
        View::Logs(l) => {
            let mut flags = Vec::new();
            flags.push(if l.paused {
                format!("PAUSED +{}", l.held.len())
            } else if l.follow {
                "follow".into()
            } else {
                "scroll".into()
            });
            if l.timestamps {
                flags.push("ts".into());
            }
            if l.wrap {
                flags.push("wrap".into());
            }
            if let Some((s, _)) = &l.search {
                flags.push(format!(
                    "/{s}{}",
                    if l.matches_only { " (only)" } else { "" }
                ));
            }
            if let Some(e) = &l.ended {
                flags.push(format!("[{e}]"));
            } else if let Some(n) = &l.note {
                flags.push(format!("[{n}]"));
            }
            flags.push(format!("{} lines", l.buffer.len()));
            flags.join("  ")
        }
        View::Describe(_) => String::new(),
    };
    let left_w: usize = spans.iter().map(|s| width(&s.content)).sum();
    let room = (area.width as usize).saturating_sub(left_w + 1);
    let info = truncate(&info, room);
    let pad = room.saturating_sub(width(&info));
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(info, theme.style(Role::Hint)));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn stats(frame: &mut Frame, area: Rect, s: &StatsView, theme: &Theme) {
    let [cpu_area, mem_area] =
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(area);
    let (cpu_label, mem_label) = match s.latest {
        Some(x) => {
            let pct = if x.mem_limit > 0 {
                format!(" ({:.1}%)", x.mem_bytes as f64 * 100.0 / x.mem_limit as f64)
            } else {
                String::new()
            };
            (
                format!(" CPU {:>5.1}% ", x.cpu_percent),
                format!(
                    " MEM {} / {}{} ",
                    human_bytes(x.mem_bytes),
                    human_bytes(x.mem_limit),
                    pct
                ),
            )
        }
        None => (" CPU   …   ".to_string(), " MEM   …   ".to_string()),
    };
    for (area, label, data, role) in [
        (cpu_area, cpu_label, &s.cpu, Role::StatsCpu),
        (mem_area, mem_label, &s.mem, Role::StatsMem),
    ] {
        let [l, g] =
            Layout::horizontal([Constraint::Length(width(&label) as u16), Constraint::Min(0)])
                .areas(area);
        frame.render_widget(Paragraph::new(label).style(theme.style(role)), l);
        let data: Vec<u64> = data.iter().copied().collect();
        let shown = &data[data.len().saturating_sub(g.width as usize)..];
        frame.render_widget(Sparkline::default().data(shown).style(theme.style(role)), g);
    }
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn footer(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let line = match &state.mode {
        Mode::Command(i) => {
            let comps = completions(&i.text);
            let mut spans = vec![
                Span::styled(":", theme.style(Role::CommandPrompt)),
                Span::styled(i.text.clone(), theme.style(Role::CommandText)),
                Span::styled("▏", theme.style(Role::CommandPrompt)),
            ];
            if !i.text.is_empty() {
                let shown: Vec<&str> = comps.iter().take(8).copied().collect();
                spans.push(Span::styled(
                    format!("  {}", shown.join(" ")),
                    theme.style(Role::CommandCompletion),
                ));
            }
            Line::from(spans)
        }
        Mode::Filter(i) => input_line(
            "/",
            &i.text,
            "filter  (re: for regex, Enter keep, Esc clear)",
            theme,
        ),
        Mode::Search(i) => input_line("?", &i.text, "search  (re: for regex)", theme),
        Mode::SavePath(i) => input_line("save to: ", &i.text, "Enter save, Esc cancel", theme),
        _ => match &state.toast {
            Some(t) => Line::from(Span::styled(
                format!(" {}", t.text),
                theme.style(if t.error {
                    Role::ToastError
                } else {
                    Role::ToastInfo
                }),
            )),
            None => hints(state, theme),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn input_line<'a>(prompt: &'a str, text: &'a str, hint: &'a str, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(prompt, theme.style(Role::CommandPrompt)),
        Span::styled(text, theme.style(Role::FilterText)),
        Span::styled("▏", theme.style(Role::CommandPrompt)),
        Span::styled(format!("   {hint}"), theme.style(Role::Hint)),
    ])
}

/// The most useful keys of the current view, read from the active keymap.
fn hints(state: &AppState, theme: &Theme) -> Line<'static> {
    let table_hints: Vec<Action>;
    let (ctx, wanted): (KeyContext, &[Action]) = match state.top() {
        View::Table(t) => {
            // The keys that work on this kind: navigation first, then its first two actions.
            let nav = [
                Action::Enter,
                Action::Logs,
                Action::Shell,
                Action::Describe,
                Action::Filter,
            ];
            let kind = t.kind;
            let nav = nav.into_iter().filter(|a| match a {
                Action::Enter => kind.spec().drill.is_some(),
                a => crate::app::update::applies(kind, *a),
            });
            // In order of interest: a device shows sandbox, accept_host_key and update first.
            let acts = [
                Action::Stop,
                Action::Restart,
                Action::Scale,
                Action::Redeploy,
                Action::Sandbox,
                Action::AcceptHostKey,
                Action::Update,
                Action::Commit,
                Action::Rollback,
                Action::ClearFailed,
                Action::Drain,
                Action::PauseNode,
                Action::Activate,
                Action::AbortDeployment,
                Action::CreateDeployment,
            ]
            .into_iter()
            .filter(|a| crate::app::update::applies(kind, *a))
            .take(3);
            table_hints = nav.chain(acts).collect();
            (KeyContext::Table, &table_hints)
        }
        View::Logs(_) => (
            KeyContext::Logs,
            &[
                Action::ToggleFollow,
                Action::Search,
                Action::ToggleTimestamps,
                Action::ToggleWrap,
                Action::TogglePause,
                Action::Save,
            ],
        ),
        View::Describe(_) => (KeyContext::Describe, &[Action::Back]),
    };
    let bindings = state.settings.keymap.bindings(ctx);
    let global = state.settings.keymap.bindings(KeyContext::Global);
    let mut spans = Vec::new();
    for a in wanted
        .iter()
        .chain([Action::Command, Action::Help, Action::Back].iter())
    {
        if let Some((k, _)) = bindings.iter().chain(global.iter()).find(|(_, b)| b == a) {
            spans.push(Span::styled(format!(" <{k}>"), theme.style(Role::HelpKey)));
            spans.push(Span::styled(
                format!(" {}", short(*a)),
                theme.style(Role::Hint),
            ));
        }
    }
    Line::from(spans).style(Style::default())
}

fn short(a: Action) -> &'static str {
    match a {
        Action::ToggleFollow => "follow",
        Action::ToggleTimestamps => "time",
        Action::ToggleWrap => "wrap",
        Action::TogglePause | Action::PauseNode => "pause",
        Action::Command => "cmd",
        other => other.name(),
    }
}
