//! The log view: follow/scroll, timestamps, source prefixes, wrap, search highlight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text::{skip_cols, styled_spans, wrap_spans, wrapped_height};
use crate::app::state::LogView;
use crate::config::{Role, Theme};
use crate::logs::LineRef;
use crate::logs::level::{Level, level};
use crate::model::StyleRun;

/// The style of a line's text: fleetdeck's markers, then the level the line announces
/// (classified here, for visible lines only: see `logs::level`).
fn text_role(line: &LineRef) -> Role {
    if line.marker {
        return Role::LogsMarker;
    }
    match level(line.text) {
        Some(Level::Error) => Role::LogsError,
        Some(Level::Warn) => Role::LogsWarn,
        None => Role::LogsText,
    }
}

fn line_spans(l: &LogView, idx: usize, line: &LineRef, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    if l.timestamps {
        let ts = line
            .ts
            .and_then(|n| jiff::Timestamp::from_nanosecond(n as i128).ok())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ ").to_string())
            .unwrap_or_else(|| " ".repeat(25));
        spans.push(Span::styled(ts, theme.style(Role::LogsTimestamp)));
    }
    if let Some(src) = line.source {
        let n = l.prefixes.get(src).copied().unwrap_or(0);
        // Pad to the widest source so the messages line up in one column.
        let w = l
            .prefixes
            .keys()
            .map(|k| super::text::width(k))
            .max()
            .unwrap_or(0)
            .min(24);
        let name = super::text::truncate_start(src, w);
        let pad = w.saturating_sub(super::text::width(&name));
        spans.push(Span::styled(
            format!("{name}{} │ ", " ".repeat(pad)),
            theme.prefix_style(n),
        ));
    }
    let (ranges, hl) = match &l.search {
        Some((_, m)) => {
            let role = if l.current_match == Some(idx) {
                Role::LogsCurrentMatch
            } else {
                Role::LogsMatch
            };
            (m.find_ranges(line.text), theme.style(role))
        }
        None => (Vec::new(), theme.style(Role::LogsMatch)),
    };
    // Decoded for the visible lines only; a plain line's runs allocate nothing.
    let runs: Vec<StyleRun> = line.runs().collect();
    spans.extend(styled_spans(
        line.text,
        &runs,
        theme.style(text_role(line)),
        &ranges,
        hl,
    ));
    spans
}

pub fn render(frame: &mut Frame, area: Rect, l: &mut LogView, theme: &Theme) {
    let height = area.height as usize;
    let cols = area.width as usize;
    l.page = height.max(1);
    let shown = l.displayed();
    if shown.is_empty() {
        let msg = match (&l.ended, &l.note) {
            (Some(e), _) => format!(" no log lines ({e})"),
            (None, Some(n)) => format!(" waiting for log lines… ({n})"),
            (None, None) => " waiting for log lines…".to_string(),
        };
        frame.render_widget(Paragraph::new(msg).style(theme.style(Role::Hint)), area);
        return;
    }
    let max_top = shown.len().saturating_sub(height);
    let mut rows: Vec<Line<'static>> = Vec::with_capacity(height);
    if l.wrap {
        // Fill from the bottom when following, from `top` otherwise; wrapped lines take several rows.
        if l.follow {
            let mut acc: Vec<Vec<Vec<Span<'static>>>> = Vec::new();
            let mut used = 0;
            for &idx in shown.iter().rev() {
                let Some(line) = l.buffer.get(idx) else {
                    continue;
                };
                let parts = wrap_spans(line_spans(l, idx, &line, theme), cols);
                used += parts.len();
                acc.push(parts);
                if used >= height {
                    break;
                }
            }
            let flat: Vec<Vec<Span<'static>>> = acc.into_iter().rev().flatten().collect();
            let skip = flat.len().saturating_sub(height);
            rows.extend(flat.into_iter().skip(skip).map(Line::from));
        } else {
            l.top = l.top.min(max_top);
            for &idx in &shown[l.top..] {
                let Some(line) = l.buffer.get(idx) else {
                    continue;
                };
                let spans = line_spans(l, idx, &line, theme);
                let h = wrapped_height(&spans, cols);
                rows.extend(wrap_spans(spans, cols).into_iter().map(Line::from));
                if rows.len() >= height || h == 0 {
                    break;
                }
            }
            rows.truncate(height);
        }
    } else {
        let top = if l.follow {
            max_top
        } else {
            l.top.min(max_top)
        };
        l.top = top;
        for &idx in &shown[top..(top + height).min(shown.len())] {
            let Some(line) = l.buffer.get(idx) else {
                continue;
            };
            let spans = skip_cols(line_spans(l, idx, &line, theme), l.hscroll as usize);
            rows.push(Line::from(spans));
        }
    }
    frame.render_widget(
        Paragraph::new(rows).style(theme.style(Role::LogsText)),
        area,
    );
}
