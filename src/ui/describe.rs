//! Describe: the object as YAML, keys highlighted, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::DescribeView;
use crate::config::{Role, Theme};

pub fn render(frame: &mut Frame, area: Rect, d: &mut DescribeView, theme: &Theme) {
    let lines: Vec<Line> = match &d.text {
        None => vec![Line::from(Span::styled(
            " loading…",
            theme.style(Role::Hint),
        ))],
        Some(Err(e)) => vec![Line::from(Span::styled(
            format!(" {e}"),
            theme.style(Role::ToastError),
        ))],
        Some(Ok(text)) => {
            let total = text.lines().count();
            d.scroll = d.scroll.min(
                total
                    .saturating_sub(area.height as usize)
                    .min(u16::MAX as usize) as u16,
            );
            text.lines()
                .skip(d.scroll as usize)
                .take(area.height as usize)
                .map(|l| yaml_line(l, theme))
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines).style(theme.style(Role::Base)), area);
}

/// Colour the key of a `key: value` line; the text itself was sanitised by the backend.
fn yaml_line<'a>(l: &'a str, theme: &Theme) -> Line<'a> {
    let body = l.trim_start_matches([' ', '-']);
    if let Some(colon) = body.find(':')
        && !body[..colon].contains(' ')
    {
        let key_start = l.len() - body.len();
        let key_end = key_start + colon + 1;
        return Line::from(vec![
            Span::raw(&l[..key_start]),
            Span::styled(&l[key_start..key_end], theme.style(Role::HelpKey)),
            Span::raw(&l[key_end..]),
        ]);
    }
    Line::from(l)
}
