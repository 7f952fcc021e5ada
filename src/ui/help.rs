//! Help, generated from the active keymap: it always shows the keys that really work.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::dialog::centered;
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
    for (c, title) in [ctx, (KeyContext::Global, "Global")] {
        out.push(Line::from(Span::styled(
            title.to_string(),
            theme.style(Role::HelpSection),
        )));
        // The view's own keys, then the global ones once (`bindings` would merge them in).
        let mut bindings = state.settings.keymap.own_bindings(c);
        if let View::Table(t) = state.top() {
            bindings.retain(|(_, a)| crate::app::update::applies(t.kind, *a));
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
                format!("  :{:<15}", spec.aliases[0]),
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

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, scroll: u16, theme: &Theme) {
    let r = centered(area, 72, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(
            " Help — Esc closes ",
            theme.style(Role::DialogTitle),
        ));
    frame.render_widget(
        Paragraph::new(lines(state, theme))
            .block(block)
            .scroll((scroll, 0))
            .style(theme.style(Role::DialogText)),
        r,
    );
}
