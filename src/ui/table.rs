//! The one generic resource table every kind is drawn with.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::columns;
use super::text::{truncate, width};
use crate::app::state::TableView;
use crate::config::{Role, Theme};
use crate::model::Health;

pub fn health_role(h: Health) -> Role {
    match h {
        Health::Ok => Role::StatusOk,
        Health::Pending => Role::StatusPending,
        Health::Failed => Role::StatusFailed,
        Health::Stopped => Role::StatusStopped,
        Health::Unknown => Role::StatusUnknown,
    }
}

/// A note shown above a table whose list is not complete.
pub struct Warning {
    pub text: String,
    /// Still loading (a hint), rather than failed (an error).
    pub loading: bool,
}

fn warning_line(w: &Warning, theme: &Theme) -> Line<'static> {
    let role = if w.loading {
        Role::Hint
    } else {
        Role::StatusFailed
    };
    Line::from(Span::styled(format!(" {}", w.text), theme.style(role)))
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    t: &mut TableView,
    notes: &[String],
    warnings: &[Warning],
    theme: &Theme,
) {
    let spec = t.kind.spec();
    let cols = t.columns();
    let cols = &cols[..];
    if t.rows.is_empty() {
        // Keep the header so the view reads as the same table, just empty.
        // Two spaces between the names: one more cell each.
        let desired: Vec<usize> = cols.iter().map(|c| width(c.name) + 1).collect();
        let shown = columns::choose(cols, &desired, area.width as usize, t.hscroll);
        t.hscroll = shown.hscroll;
        t.off_screen = (shown.left, shown.right);
        let names: Vec<&str> = shown.columns.iter().map(|&i| cols[i].name).collect();
        let msg = match &t.filter {
            Some((f, _)) => format!(" no {} match /{f}", spec.title.to_lowercase()),
            None => format!(" no {}", spec.title.to_lowercase()),
        };
        let mut lines = vec![Line::from(Span::styled(
            names.join("  "),
            theme.style(Role::TableHeader),
        ))];
        // "no pods" only when nothing else is said: a list still loading, not answered or
        // cut short is not an empty one.
        if notes.is_empty() && warnings.is_empty() {
            lines.push(Line::from(Span::styled(msg, theme.style(Role::Hint))));
        }
        for n in notes {
            lines.push(Line::from(Span::styled(
                format!(" {n}"),
                theme.style(Role::StatusFailed),
            )));
        }
        lines.extend(warnings.iter().map(|w| warning_line(w, theme)));
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            area,
        );
        return;
    }
    // An incomplete list says so above its rows (at most half the area), so that a cut list
    // never passes for the whole one.
    let area = if warnings.is_empty() {
        area
    } else {
        // Wrapped: the end of the note (when it retries) matters as much as its start.
        let cols = (area.width as usize).max(1);
        let needed: usize = warnings
            .iter()
            .map(|w| (width(&w.text) + 1).div_ceil(cols).max(1))
            .sum();
        let n = (needed as u16).min(area.height / 2).max(1);
        let [top, rest] =
            ratatui::layout::Layout::vertical([Constraint::Length(n), Constraint::Min(0)])
                .areas(area);
        let lines: Vec<Line> = warnings.iter().map(|w| warning_line(w, theme)).collect();
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            top,
        );
        rest
    };
    let height = area.height.saturating_sub(1) as usize; // minus the header row
    // Keep the selection visible; remember the offset so scrolling is stable between frames.
    if t.selected < t.offset {
        t.offset = t.selected;
    } else if height > 0 && t.selected >= t.offset + height {
        t.offset = t.selected + 1 - height;
    }
    t.offset = t.offset.min(t.rows.len().saturating_sub(height.max(1)));

    let now = jiff::Timestamp::now();
    let visible = &t.rows[t.offset..(t.offset + height).min(t.rows.len())];
    // Widths from what is on screen only: O(visible rows), whatever the table size.
    let n = cols.len();
    let mut desired: Vec<usize> = cols
        .iter()
        .map(|c| width(c.name).max(c.min_width as usize))
        .collect();
    let cells: Vec<Vec<String>> = visible
        .iter()
        .map(|r| {
            (0..n)
                .map(|i| r.cell_or_source(i, now).into_owned())
                .collect()
        })
        .collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            desired[i] = desired[i].max(width(c));
        }
    }
    // The sort mark takes a cell of its column's header.
    if let Some(w) = desired.get_mut(t.sort.column) {
        *w = (*w).max(width(cols[t.sort.column].name) + 1);
    }
    // Too narrow for every column: the lowest priority ones go, ←/→ bring them back.
    let shown = columns::choose(cols, &desired, area.width as usize, t.hscroll);
    t.hscroll = shown.hscroll;
    t.off_screen = (shown.left, shown.right);
    let pin = columns::pinned(cols);
    let pinned_at = shown.columns.iter().position(|&i| i == pin).unwrap_or(0);
    let name_width = cells
        .iter()
        .map(|row| width(&row[pin]))
        .chain(cols.get(pin).map(|c| width(c.name)))
        .max()
        .unwrap_or(0);
    let mut widths: Vec<usize> = shown.columns.iter().map(|&i| desired[i]).collect();
    let needs: Vec<usize> = shown
        .columns
        .iter()
        .map(|&i| columns::need(cols, i, desired[i], pin))
        .collect();
    let keep: Vec<bool> = shown
        .columns
        .iter()
        .map(|&i| i == pin || cols[i].priority == crate::model::priority::KEEP)
        .collect();
    columns::fit_needs(&mut widths, &needs, &keep, area.width as usize);
    columns::fit(&mut widths, area.width as usize, pinned_at, name_width);

    let sort_mark = if t.sort.descending { "↓" } else { "↑" };
    let header = Row::new(shown.columns.iter().zip(&widths).map(|(&i, &w)| {
        let c = &cols[i];
        let name = if i == t.sort.column {
            format!("{}{sort_mark}", c.name)
        } else {
            c.name.to_string()
        };
        Cell::from(truncate(&name, w))
    }))
    .style(theme.style(Role::TableHeader));

    let rows = visible.iter().zip(cells).enumerate().map(|(i, (r, row))| {
        let selected = t.offset + i == t.selected;
        let style = if selected {
            theme.style(Role::TableSelected)
        } else {
            theme.style(health_role(r.health))
        };
        Row::new(
            shown
                .columns
                .iter()
                .zip(&widths)
                .map(|(&ci, &w)| Cell::from(Line::from(Span::raw(truncate(&row[ci], w))))),
        )
        .style(style)
    });
    let constraints: Vec<Constraint> = widths
        .iter()
        .map(|&w| Constraint::Length(w as u16))
        .collect();
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1)
        .style(theme.style(Role::TableRow));
    frame.render_widget(table, area);
}
