//! Confirmation dialog for destructive actions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::app::state::Confirm;
use crate::config::{Role, Theme};

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

pub fn confirm(frame: &mut Frame, area: Rect, c: &Confirm, theme: &Theme) {
    let r = centered(area, 52, 7);
    frame.render_widget(Clear, r);
    let kind = c.key.kind.name().trim_end_matches('s');
    let body = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", capitalise(c.action.name())),
                theme.style(Role::DialogDanger),
            ),
            Span::styled(format!("{kind} "), theme.style(Role::DialogText)),
            Span::styled(c.name.clone(), theme.style(Role::DialogTitle)),
            Span::styled("?", theme.style(Role::DialogText)),
        ]),
        Line::from(Span::styled(
            format!("on {}", c.key.source),
            theme.style(Role::Hint),
        )),
        Line::from(""),
        Line::from(vec![
            Span::styled("[y] ", theme.style(Role::HelpKey)),
            Span::styled("yes    ", theme.style(Role::DialogText)),
            Span::styled("[n/Esc] ", theme.style(Role::HelpKey)),
            Span::styled("no", theme.style(Role::DialogText)),
        ]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(" Confirm ", theme.style(Role::DialogTitle)));
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: true })
            .style(theme.style(Role::DialogText)),
        r,
    );
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
