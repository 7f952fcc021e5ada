//! Header, breadcrumbs, the stats strip and the footer (input line, toasts, key hints).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::text::{truncate, width};
use crate::app::action::Action;
use crate::app::state::{AppState, Mode, StatsView, View};
use crate::app::update::cycle_list;
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
    // Each source a chip of its fair share of what is left, so that one long error cannot
    // push the others off; the full text is in the help screen (`?`, "Sources").
    let used: usize = spans.iter().map(|s| width(&s.content)).sum();
    let chips: Vec<(&'static str, Role, String, String)> = state
        .sources
        .iter()
        .map(|(id, status)| {
            let (dot, role, word) = source_mark(status);
            (
                dot,
                role,
                format!("{id} {}", source_summary(status)),
                format!("{id} {word}"),
            )
        })
        .collect();
    // A space before each chip, and the dot and its space inside it.
    let wants: Vec<usize> = chips.iter().map(|(_, _, t, _)| width(t) + 3).collect();
    let shares = fair_shares(&wants, (area.width as usize).saturating_sub(used));
    for ((dot, role, full, short), share) in chips.into_iter().zip(shares) {
        if share < 4 {
            continue;
        }
        // The whole status when it fits; the start of it when there is room for more than the
        // state (the state comes first); else the source and its state in a word.
        let room = share - 3;
        let text = if width(&full) <= room || room >= width(&short) + 12 {
            full
        } else {
            short
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("{dot} "), theme.style(role)));
        spans.push(Span::styled(truncate(&text, room), theme.style(role)));
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

/// A source's mark in the header: its dot, colour and state in a word.
fn source_mark(status: &SourceStatus) -> (&'static str, Role, &'static str) {
    match status {
        SourceStatus::Connected(_) => ("●", Role::SourceOk, "ok"),
        SourceStatus::Connecting => ("○", Role::StatusPending, "connecting…"),
        SourceStatus::Reconnecting { .. } => ("✖", Role::SourceError, "reconnecting"),
    }
}

/// A source's status in a few words, its state first: "connecting…", "reconnecting in 4s:
/// connection refused", or what the source says of itself ("Docker 27.1 · API 1.41",
/// "2/10 devices up").
pub fn source_summary(status: &SourceStatus) -> String {
    match status {
        SourceStatus::Connected(info) if info.trim().is_empty() => "ok".into(),
        SourceStatus::Connected(info) => info.clone(),
        SourceStatus::Connecting => "connecting…".into(),
        SourceStatus::Reconnecting {
            error,
            retry_in_secs,
        } => format!("reconnecting in {retry_in_secs}s: {error}"),
    }
}

/// Split `room` between items wanting `wants` cells: none gets more than it wants, and no one
/// gets less than an equal share unless it wants less (max-min fairness).
fn fair_shares(wants: &[usize], room: usize) -> Vec<usize> {
    let mut shares = vec![0; wants.len()];
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by_key(|&i| wants[i]);
    let mut left = room;
    for (n, &i) in order.iter().enumerate() {
        let equal = left / (wants.len() - n);
        shares[i] = wants[i].min(equal);
        left -= shares[i];
    }
    shares
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
            // Columns a narrow table left out: ←/→ show them (ASCII: "< 3 more >").
            let (left, right) = t.off_screen;
            if left + right > 0 {
                let l = if left > 0 { "◂ " } else { "" };
                let r = if right > 0 { " ▸" } else { "" };
                s = format!("{l}{} more{r}  {s}", left + right);
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
            flags.push(lines_kept(&l.buffer));
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

/// "1200 lines", or "100000 of 2481516 lines" once the ring dropped its oldest: the operator
/// sees that the view keeps only the newest, and how many the source sent since it opened.
fn lines_kept(buffer: &crate::logs::LogBuffer) -> String {
    match buffer.dropped() {
        0 => format!("{} lines", buffer.len()),
        gone => format!("{} of {} lines", buffer.len(), gone + buffer.len() as u64),
    }
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
            // While Tab cycles, the list of what was typed first, the current one marked; an
            // empty `:` lists every kind and command.
            let (prefix, at) = match &state.completing {
                Some((p, at)) => (p.as_str(), Some(*at)),
                None => (i.text.as_str(), None),
            };
            let comps = cycle_list(prefix);
            let mut spans = vec![
                Span::styled(":", theme.style(Role::CommandPrompt)),
                Span::styled(i.text.clone(), theme.style(Role::CommandText)),
                Span::styled("▏", theme.style(Role::CommandPrompt)),
                Span::styled(" ", theme.style(Role::CommandCompletion)),
            ];
            // From the current one on, so the cycled name stays in view.
            let skip = at.map_or(0, |a| a.saturating_sub(2));
            for (n, c) in comps.iter().enumerate().skip(skip).take(24) {
                let role = if Some(n) == at {
                    Role::CommandText
                } else {
                    Role::CommandCompletion
                };
                spans.push(Span::styled(format!(" {c}"), theme.style(role)));
            }
            Line::from(spans)
        }
        // The prompt is the key that opened it; an empty line shows what is in force.
        Mode::Filter(i) => {
            let key = key_of(state, KeyContext::Table, Action::Filter);
            let old = match state.top() {
                View::Table(t) if i.text.is_empty() => t.filter.as_ref().map(|(f, _)| f.clone()),
                _ => None,
            };
            let hint = match old {
                Some(f) => format!("now /{f}: type to replace, Esc or Enter clears"),
                None => "filter  (re: for regex, Enter keep, Esc clear)".to_string(),
            };
            input_line_owned(key.unwrap_or_else(|| "/".into()), &i.text, hint, theme)
        }
        Mode::Search(i) => {
            let key = key_of(state, KeyContext::Logs, Action::Search);
            let old = match state.top() {
                View::Logs(l) if i.text.is_empty() => l.search.as_ref().map(|(s, _)| s.clone()),
                _ => None,
            };
            let hint = match old {
                Some(s) => format!("now {s}: type a new search, Esc keeps it"),
                None => "search  (re: for regex)".to_string(),
            };
            input_line_owned(key.unwrap_or_else(|| "/".into()), &i.text, hint, theme)
        }
        Mode::SavePath(i) => input_line("save to: ", &i.text, "Enter save, Esc cancel", theme),
        _ => {
            let room = area.width as usize;
            let help = help_hint(state, theme);
            match &state.toast {
                // The toast takes the line, but `?` stays: help is always one key away.
                Some(t) => {
                    let help_w: usize = help.iter().map(|s| width(&s.content)).sum();
                    let text = truncate(&format!(" {}", t.text), room.saturating_sub(help_w));
                    let pad = room.saturating_sub(width(&text) + help_w);
                    let role = if t.error {
                        Role::ToastError
                    } else {
                        Role::ToastInfo
                    };
                    let mut spans = vec![Span::styled(text, theme.style(role))];
                    spans.push(Span::raw(" ".repeat(pad)));
                    spans.extend(help);
                    Line::from(spans)
                }
                None => hints(state, theme, room),
            }
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn input_line_owned(prompt: String, text: &str, hint: String, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(prompt, theme.style(Role::CommandPrompt)),
        Span::styled(text.to_string(), theme.style(Role::FilterText)),
        Span::styled("▏", theme.style(Role::CommandPrompt)),
        Span::styled(format!("   {hint}"), theme.style(Role::Hint)),
    ])
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
fn hints(state: &AppState, theme: &Theme, room: usize) -> Line<'static> {
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
                // A forward is the console's own: nothing to describe (`d` closes it there).
                Action::Describe => kind != crate::model::ResourceKind::Forward,
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
                Action::CloseForward,
                Action::PortForward,
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
                Action::SearchNext,
                Action::SearchPrev,
                Action::ToggleMatchesOnly,
                Action::ToggleTimestamps,
                Action::ToggleWrap,
                Action::TogglePause,
                Action::Save,
            ],
        ),
        View::Describe(_) => (KeyContext::Describe, &[Action::Copy, Action::Back]),
    };
    // Each action once, each key once; `?` help last to go, then back and the command bar,
    // then the view's own keys from the least useful (the end of `wanted`).
    let mut entries: Vec<(Action, String)> = Vec::new();
    for a in wanted
        .iter()
        .chain([Action::Command, Action::Help, Action::Back].iter())
    {
        if let Some(k) = key_of(state, ctx, *a)
            && !entries.iter().any(|(x, y)| x == a || *y == k)
        {
            entries.push((*a, k));
        }
    }
    let entry_width = |(a, k): &(Action, String)| width(k) + 3 + 1 + width(short(*a));
    let mut drop_order: Vec<usize> = (0..entries.len())
        .filter(|&i| !matches!(entries[i].0, Action::Command | Action::Help | Action::Back))
        .rev()
        .collect();
    drop_order.extend(
        [Action::Back, Action::Command]
            .iter()
            .filter_map(|a| entries.iter().position(|(x, _)| x == a)),
    );
    let mut shown = vec![true; entries.len()];
    let total = |shown: &[bool]| -> usize {
        entries
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(e, _)| entry_width(e))
            .sum()
    };
    for i in drop_order {
        if total(&shown) <= room {
            break;
        }
        shown[i] = false;
    }
    let mut spans = Vec::new();
    for ((a, k), _) in entries.iter().zip(&shown).filter(|(_, s)| **s) {
        spans.extend(hint_spans(k, *a, theme));
    }
    Line::from(spans).style(Style::default())
}

/// The first key bound to `a` in `ctx` (or globally), as the keymap writes it.
fn key_of(state: &AppState, ctx: KeyContext, a: Action) -> Option<String> {
    let bindings = state.settings.keymap.bindings(ctx);
    let global = state.settings.keymap.bindings(KeyContext::Global);
    bindings
        .iter()
        .chain(global.iter())
        .find(|(_, b)| *b == a)
        .map(|(k, _)| k.to_string())
}

fn hint_spans(key: &str, a: Action, theme: &Theme) -> [Span<'static>; 2] {
    [
        Span::styled(format!(" <{key}>"), theme.style(Role::HelpKey)),
        Span::styled(format!(" {}", short(a)), theme.style(Role::Hint)),
    ]
}

/// `<?> help`, kept in the footer whatever else is there.
fn help_hint(state: &AppState, theme: &Theme) -> Vec<Span<'static>> {
    key_of(state, KeyContext::Global, Action::Help)
        .map(|k| hint_spans(&k, Action::Help, theme).to_vec())
        .unwrap_or_default()
}

fn short(a: Action) -> &'static str {
    match a {
        Action::ToggleFollow => "follow",
        Action::ToggleTimestamps => "time",
        Action::ToggleWrap => "wrap",
        Action::TogglePause | Action::PauseNode => "pause",
        Action::Command => "cmd",
        Action::CloseForward => "close",
        Action::PortForward => "forward",
        Action::SearchNext => "next",
        Action::SearchPrev => "prev",
        Action::ToggleMatchesOnly => "matches",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fair_shares, lines_kept};
    use crate::logs::LogBuffer;
    use crate::model::LogLine;

    #[test]
    fn a_full_ring_says_how_many_lines_came_in_all() {
        let mut b = LogBuffer::new(3);
        b.push_batch(vec![LogLine::default(); 2]);
        assert_eq!(lines_kept(&b), "2 lines");
        b.push_batch(vec![LogLine::default(); 5]);
        assert_eq!(lines_kept(&b), "3 of 7 lines");
    }

    #[test]
    fn one_long_status_does_not_take_the_others_room() {
        // A 90-cell error beside two short chips on 60 cells: the short ones stay whole.
        assert_eq!(fair_shares(&[90, 12, 15], 60), vec![33, 12, 15]);
        assert_eq!(fair_shares(&[10, 10], 100), vec![10, 10]);
        assert_eq!(fair_shares(&[50, 50], 30), vec![15, 15]);
        assert!(fair_shares(&[], 30).is_empty());
    }
}
