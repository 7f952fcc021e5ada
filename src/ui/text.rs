//! Width-aware text helpers shared by the views.

use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_width::UnicodeWidthChar;

use crate::model::StyleRun;

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Cut `s` to at most `max` cells, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Cut `s` to at most `max` cells keeping its end, marking the cut with a leading `…`: log
/// prefixes (`stack_web.2@node-1`, `proj-web-1`) differ in their last characters.
pub fn truncate_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut tail: Vec<char> = Vec::new();
    let mut w = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        tail.push(c);
        w += cw;
    }
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// Spans for styled text, with `highlights` (byte ranges) drawn in `hl` (the current match in `hl_current`).
pub fn styled_spans(
    text: &str,
    runs: &[StyleRun],
    base: Style,
    highlights: &[Range<usize>],
    hl: Style,
) -> Vec<Span<'static>> {
    let mut cuts: Vec<usize> = vec![0, text.len()];
    for r in runs {
        cuts.push(r.start as usize);
        cuts.push(r.end as usize);
    }
    for h in highlights {
        cuts.push(h.start);
        cuts.push(h.end);
    }
    cuts.retain(|&c| c <= text.len() && text.is_char_boundary(c));
    cuts.sort_unstable();
    cuts.dedup();
    let mut spans = Vec::with_capacity(cuts.len());
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a == b {
            continue;
        }
        let mut style = base;
        if let Some(r) = runs
            .iter()
            .find(|r| (r.start as usize) <= a && a < r.end as usize)
        {
            style = style.patch(r.style);
        }
        if highlights.iter().any(|h| h.start <= a && a < h.end) {
            style = style.patch(hl);
        }
        spans.push(Span::styled(text[a..b].to_string(), style));
    }
    spans
}

/// Drop the first `cols` cells of a span list (horizontal scrolling).
pub fn skip_cols(spans: Vec<Span<'static>>, cols: usize) -> Vec<Span<'static>> {
    let mut left = cols;
    let mut out = Vec::with_capacity(spans.len());
    for s in spans {
        if left == 0 {
            out.push(s);
            continue;
        }
        let mut kept = String::new();
        for c in s.content.chars() {
            let cw = c.width().unwrap_or(0);
            if left >= cw && left > 0 {
                left -= cw;
            } else {
                kept.push(c);
            }
        }
        if !kept.is_empty() {
            out.push(Span::styled(kept, s.style));
        }
    }
    out
}

/// Split a span list into rows of at most `cols` cells (character wrap: logs are not prose).
pub fn wrap_spans(spans: Vec<Span<'static>>, cols: usize) -> Vec<Vec<Span<'static>>> {
    let cols = cols.max(1);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut w = 0;
    for s in spans {
        let mut cur = String::new();
        for c in s.content.chars() {
            let cw = c.width().unwrap_or(0);
            if w + cw > cols {
                if !cur.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut cur), s.style));
                }
                rows.push(std::mem::take(&mut row));
                w = 0;
            }
            cur.push(c);
            w += cw;
        }
        if !cur.is_empty() {
            row.push(Span::styled(cur, s.style));
        }
    }
    rows.push(row);
    rows
}

/// Rows a span list takes when wrapped at `cols`.
pub fn wrapped_height(spans: &[Span<'_>], cols: usize) -> usize {
    let w: usize = spans.iter().map(|s| width(&s.content)).sum();
    w.div_ceil(cols.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_with_ellipsis_by_cells() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("日本語", 4), "日…");
        assert_eq!(truncate_start("stack_web.2@node", 8), "….2@node");
        assert_eq!(truncate_start("abc", 4), "abc");
    }

    #[test]
    fn wraps_by_cells() {
        let rows = wrap_spans(vec![Span::raw("abcdefg")], 3);
        let text: Vec<String> = rows
            .iter()
            .map(|r| r.iter().map(|s| s.content.to_string()).collect())
            .collect();
        assert_eq!(text, vec!["abc", "def", "g"]);
        assert_eq!(wrapped_height(&[Span::raw("abcdefg")], 3), 3);
    }
}
