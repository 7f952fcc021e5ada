//! Help, generated from the active keymap: it always shows the keys that really work.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::dialog::centered;
use super::text::width;
use crate::app::state::{AppState, View};
use crate::config::{KeyContext, Role, Theme};
use crate::model::ResourceKind;

pub fn lines(state: &AppState, theme: &Theme) -> Vec<Line<'static>> {
    let ctx = match state.top() {
        View::Table(_) => (KeyContext::Table, "Table"),
        View::Logs(_) => (KeyContext::Logs, "Logs"),
        View::Describe(_) => (KeyContext::Describe, "Describe"),
    };
    let mut out = Vec::new();
    // Each source's whole status: the header has room for a few words of each.
    if !state.sources.is_empty() {
        out.push(Line::from(Span::styled(
            "Sources".to_string(),
            theme.style(Role::HelpSection),
        )));
        for (id, status) in &state.sources {
            out.push(Line::from(vec![
                Span::styled(
                    format!("  {:<16}", id.to_string()),
                    theme.style(Role::HelpKey),
                ),
                Span::styled(
                    super::chrome::source_summary(status),
                    theme.style(Role::HelpDescription),
                ),
            ]));
        }
        out.push(Line::from(""));
    }
    for (c, title) in [ctx, (KeyContext::Global, "Global")] {
        out.push(Line::from(Span::styled(
            title.to_string(),
            theme.style(Role::HelpSection),
        )));
        // The view's own keys, then the global ones once (`bindings` would merge them in).
        let mut bindings = state.settings.keymap.own_bindings(c);
        if let View::Table(t) = state.top() {
            // A key bound to several actions is listed for the one it runs here: the first
            // that applies (`d` closes a forward in :forwards, describes elsewhere).
            let applies = |a: crate::app::action::Action| crate::app::update::applies(t.kind, a);
            let keymap = &state.settings.keymap;
            bindings.retain(|(k, a)| {
                let runs = crate::config::KeyChord::parse(k)
                    .map(|chord| keymap.lookup_all_chord(c, &chord))
                    .unwrap_or_default();
                applies(*a)
                    && runs
                        .into_iter()
                        .find(|x| applies(*x))
                        .is_none_or(|x| x == *a)
            });
        }
        // One line per action, all its keys together.
        let mut seen: Vec<(crate::app::action::Action, Vec<String>)> = Vec::new();
        for (k, a) in bindings {
            match seen.iter_mut().find(|(x, _)| *x == a) {
                Some((_, keys)) => keys.push(k),
                None => seen.push((a, vec![k])),
            }
        }
        for (a, keys) in seen {
            out.push(Line::from(vec![
                Span::styled(
                    format!("  {:<16}", keys.join(" ")),
                    theme.style(Role::HelpKey),
                ),
                Span::styled(
                    a.description().to_string(),
                    theme.style(Role::HelpDescription),
                ),
            ]));
        }
        out.push(Line::from(""));
    }
    out.push(Line::from(Span::styled(
        "Commands (:)",
        theme.style(Role::HelpSection),
    )));
    for k in ResourceKind::all() {
        let spec = k.spec();
        out.push(Line::from(vec![
            Span::styled(
                // A space after a long name (`:mdeploymentdevices`) too.
                format!("  :{:<15}", format!("{} ", spec.aliases[0])),
                theme.style(Role::HelpKey),
            ),
            Span::styled(
                format!("{} (also {})", spec.title, spec.aliases[1..].join(", ")),
                theme.style(Role::HelpDescription),
            ),
        ]));
    }
    out.push(Line::from(vec![
        Span::styled("  :run CMD        ", theme.style(Role::HelpKey)),
        Span::styled(
            "Run CMD on the selected device, or on all shown when filtered (:devices TAG)",
            theme.style(Role::HelpDescription),
        ),
    ]));
    out.push(Line::from(vec![
        Span::styled("  :quit           ", theme.style(Role::HelpKey)),
        Span::styled("Quit", theme.style(Role::HelpDescription)),
    ]));
    out
}

/// A help line cut into rows of `cols` cells: a long description goes on under itself.
fn wrap(line: Line<'static>, cols: usize) -> Vec<Line<'static>> {
    let [key, desc] = match <[Span<'static>; 2]>::try_from(line.spans.clone()) {
        Ok(spans) if line.width() > cols => spans,
        _ => return vec![line],
    };
    let indent = width(&key.content);
    let room = cols.saturating_sub(indent).max(8);
    let mut rows: Vec<String> = vec![String::new()];
    for word in desc.content.split(' ') {
        let Some(row) = rows.last_mut() else { break };
        if !row.is_empty() && width(row) + 1 + width(word) > room {
            rows.push(word.to_string());
        } else {
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
        }
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, text)| {
            let lead = if i == 0 {
                key.clone()
            } else {
                Span::styled(" ".repeat(indent), key.style)
            };
            Line::from(vec![lead, Span::styled(text, desc.style)])
        })
        .collect()
}

/// Draw the help over `area`, scrolled to `scroll` (clamped: End and PageDown stop at the last
/// page). Returns the scroll used, so the next key starts from what is on screen.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, scroll: u16, theme: &Theme) -> u16 {
    let r = centered(area, 72, area.height.saturating_sub(2));
    let inner = (r.width.saturating_sub(2) as usize).max(1);
    let rows: Vec<Line> = lines(state, theme)
        .into_iter()
        .flat_map(|l| wrap(l, inner))
        .collect();
    let page = r.height.saturating_sub(2);
    let last = u16::try_from(rows.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(page);
    let scroll = scroll.min(last);
    // Where the page is when there is more than one: "12-31/64 PgDn".
    let position = if last > 0 {
        let end = (usize::from(scroll) + usize::from(page)).min(rows.len());
        format!(
            " {}-{end}/{} PgDn End ",
            usize::from(scroll) + 1,
            rows.len()
        )
    } else {
        String::new()
    };
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(
            " Help — Esc closes ",
            theme.style(Role::DialogTitle),
        ))
        .title_bottom(Line::from(Span::styled(position, theme.style(Role::Hint))).right_aligned());
    frame.render_widget(
        Paragraph::new(rows)
            .block(block)
            .scroll((scroll, 0))
            .style(theme.style(Role::DialogText)),
        r,
    );
    scroll
}
