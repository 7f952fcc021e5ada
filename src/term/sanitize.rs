//! Sanitising of remote text. Everything a container, pod or device prints passes through here
//! before it can reach the terminal: a log line must never move the cursor, clear the screen, set
//! the window title or write the clipboard (OSC 52). SGR colours are kept, as ratatui styles.
//!
//! Parsing uses `vte` (the parser alacritty uses) so split, malformed and exotic sequences (DCS,
//! APC, PM, 8-bit C1) are recognised the way a real terminal would recognise them, and dropped.
//!
//! Invisible format characters (Unicode category Cf: bidi overrides and isolates such as U+202E
//! and U+2066–2069, zero-width spaces and joiners U+200B–U+200F, the BOM, …) are dropped like
//! controls: they let remote text reorder or hide what the operator reads ("Trojan source").
//!
//! One exception on purpose: `fleetdeck exec` prints the command's output raw, like `ssh host
//! cmd` and `docker exec`, so that it can be piped into files and other programs byte for byte.
//! Everything else (tables, logs, `run`, describe, errors) goes through here.
use ratatui::style::{Color, Modifier, Style};

use crate::model::{StyleRun, StyledText};

const TAB_WIDTH: usize = 8;

/// Turn one raw line (no trailing newline) into printable text with SGR colours as style runs.
/// Cursor movement, screen clears, OSC (title, clipboard/OSC 52, hyperlinks), DCS/APC/PM and C0/C1
/// controls other than TAB are dropped. Tabs expand to spaces. Invalid UTF-8 becomes U+FFFD.
pub fn sanitize(raw: &[u8]) -> StyledText {
    // Fast path: most log lines are plain printable ASCII.
    if raw.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        // SAFETY-free: printable ASCII is valid UTF-8.
        return StyledText {
            text: String::from_utf8(raw.to_vec()).unwrap_or_default(),
            runs: Vec::new(),
        };
    }
    let mut sink = Sink {
        text: String::with_capacity(raw.len()),
        runs: Vec::new(),
        style: Style::default(),
        run_start: 0,
        column: 0,
    };
    let mut parser = vte::Parser::new();
    parser.advance(&mut sink, raw);
    sink.finish()
}

/// Plain-text variant for single-line fields (names, labels, error messages): no styles kept.
pub fn sanitize_plain(raw: &str) -> String {
    sanitize(raw.as_bytes()).text
}

/// [`sanitize_plain`], then at most `max` characters (a cut is marked with `…` and the number of
/// characters left out): for server texts quoted in one-line errors, which must neither steer
/// the terminal nor flood it.
pub fn sanitize_short(raw: &str, max: usize) -> String {
    let clean = sanitize_plain(raw);
    let total = clean.chars().count();
    if total <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max).collect();
    out.push_str(&format!("… ({} more characters)", total - max));
    out
}

/// [`sanitize_plain`] line by line, keeping the line breaks: multi-line documents (describe
/// YAML) stay readable while each line is neutralised on its own.
pub fn sanitize_lines(raw: &str) -> String {
    raw.split('\n')
        .map(|l| sanitize_plain(l.strip_suffix('\r').unwrap_or(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Never shown: controls (C0, DEL, C1) and invisible format characters (category Cf), which
/// can reorder (bidi overrides, isolates) or hide (zero-width) the text around them.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// Unicode general category Cf (Unicode 16), as code point ranges.
fn is_format(c: char) -> bool {
    const CF: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let c = c as u32;
    // Everything below U+00AD is ASCII or C1/Latin-1: the common case returns at once.
    c >= 0xAD && CF.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

struct Sink {
    text: String,
    runs: Vec<StyleRun>,
    style: Style,
    run_start: usize,
    /// Character column since the start of the line, for tab stops.
    column: usize,
}

impl Sink {
    fn set_style(&mut self, style: Style) {
        if style == self.style {
            return;
        }
        self.close_run();
        self.style = style;
    }

    fn close_run(&mut self) {
        let end = self.text.len();
        if end > self.run_start && self.style != Style::default() {
            self.runs.push(StyleRun {
                start: self.run_start as u32,
                end: end as u32,
                style: self.style,
            });
        }
        self.run_start = end;
    }

    fn finish(mut self) -> StyledText {
        self.close_run();
        StyledText {
            text: self.text,
            runs: self.runs,
        }
    }
}

impl vte::Perform for Sink {
    fn print(&mut self, c: char) {
        // vte hands C1 controls and DEL through print in some states; never show them, nor
        // the invisible format characters that reorder or hide text.
        if is_hidden(c) {
            return;
        }
        self.text.push(c);
        self.column += 1;
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            let spaces = TAB_WIDTH - self.column % TAB_WIDTH;
            self.text.extend(std::iter::repeat_n(' ', spaces));
            self.column += spaces;
        }
        // Every other C0/C1 control (BEL, BS, CR, VT, FF, SO/SI…) is dropped.
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        ignore: bool,
        action: char,
    ) {
        // Only SGR ("ESC [ … m" without intermediates) survives, as a style; the rest is dropped.
        if action != 'm' || ignore || !intermediates.is_empty() {
            return;
        }
        let style = apply_sgr(self.style, params);
        self.set_style(style);
    }
}

/// Apply one SGR sequence to a style. Unknown codes are ignored.
fn apply_sgr(mut style: Style, params: &vte::Params) -> Style {
    let mut it = params.iter();
    if params.is_empty() {
        return Style::default();
    }
    while let Some(p) = it.next() {
        let code = p.first().copied().unwrap_or(0);
        style = match code {
            0 => Style::default(),
            1 => style.add_modifier(Modifier::BOLD),
            2 => style.add_modifier(Modifier::DIM),
            3 => style.add_modifier(Modifier::ITALIC),
            4 => style.add_modifier(Modifier::UNDERLINED),
            7 => style.add_modifier(Modifier::REVERSED),
            9 => style.add_modifier(Modifier::CROSSED_OUT),
            22 => style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style.remove_modifier(Modifier::ITALIC),
            24 => style.remove_modifier(Modifier::UNDERLINED),
            27 => style.remove_modifier(Modifier::REVERSED),
            29 => style.remove_modifier(Modifier::CROSSED_OUT),
            30..=37 => style.fg(Color::Indexed((code - 30) as u8)),
            39 => style.fg(Color::Reset),
            40..=47 => style.bg(Color::Indexed((code - 40) as u8)),
            49 => style.bg(Color::Reset),
            90..=97 => style.fg(Color::Indexed((code - 90 + 8) as u8)),
            100..=107 => style.bg(Color::Indexed((code - 100 + 8) as u8)),
            38 | 48 => {
                // Extended colour: either colon sub-params (38:5:n) or the next params (38;5;n).
                let rest: Vec<u16> = if p.len() > 1 {
                    p[1..].to_vec()
                } else {
                    match it.next().and_then(|q| q.first().copied()) {
                        Some(5) => it.next().map(|q| vec![5, q[0]]).unwrap_or_default(),
                        Some(2) => {
                            let rgb: Vec<u16> =
                                (0..3).filter_map(|_| it.next().map(|q| q[0])).collect();
                            [vec![2], rgb].concat()
                        }
                        _ => Vec::new(),
                    }
                };
                let color = match rest.as_slice() {
                    [5, n, ..] => Some(Color::Indexed(*n as u8)),
                    // 38:2::r:g:b carries an empty colour-space id; accept both shapes.
                    [2, _, r, g, b] | [2, r, g, b] => {
                        Some(Color::Rgb(*r as u8, *g as u8, *b as u8))
                    }
                    _ => None,
                };
                match (code, color) {
                    (38, Some(c)) => style.fg(c),
                    (48, Some(c)) => style.bg(c),
                    _ => style,
                }
            }
            _ => style,
        };
    }
    style
}

/// Splits a byte stream arriving in arbitrary chunks into lines (\n, \r\n), bounding each line
/// to `MAX_LINE` bytes so a producer that never writes a newline cannot exhaust memory.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub const MAX_LINE: usize = 64 * 1024;

    pub fn new() -> Self {
        Self::default()
    }

    /// Feed a chunk; calls `emit` for every complete line (without its terminator). A line longer
    /// than `MAX_LINE` is emitted in `MAX_LINE` pieces.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(&[u8])) {
        while let Some(nl) = memchr::memchr(b'\n', chunk) {
            let (head, rest) = (&chunk[..nl], &chunk[nl + 1..]);
            if self.partial.is_empty() {
                self.emit_bounded(head, &mut emit);
            } else {
                self.partial.extend_from_slice(head);
                let line = std::mem::take(&mut self.partial);
                self.emit_bounded(&line, &mut emit);
                self.partial = line;
                self.partial.clear();
            }
            chunk = rest;
        }
        self.partial.extend_from_slice(chunk);
        while self.partial.len() > Self::MAX_LINE {
            let piece: Vec<u8> = self.partial.drain(..Self::MAX_LINE).collect();
            emit(&piece);
        }
    }

    fn emit_bounded(&self, mut line: &[u8], emit: &mut impl FnMut(&[u8])) {
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.is_empty() {
            emit(line);
            return;
        }
        for piece in line.chunks(Self::MAX_LINE) {
            emit(piece);
        }
    }

    /// Emit what is left when the stream ends.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.emit_bounded(&line, &mut emit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &[u8]) -> String {
        sanitize(raw).text
    }

    #[test]
    fn plain_text_passes() {
        assert_eq!(text(b"hello world"), "hello world");
        assert!(sanitize(b"hello").runs.is_empty());
    }

    #[test]
    fn dangerous_sequences_are_dropped() {
        assert_eq!(text(b"a\x1b[2Jb\x1b[Hc"), "abc");
        assert_eq!(text(b"x\x1b]52;c;aGVsbG8=\x07y"), "xy");
        assert_eq!(text(b"x\x1b]0;title\x1b\\y"), "xy");
        assert_eq!(text(b"x\x1bP1$r\x1b\\y"), "xy");
        assert_eq!(text(b"a\x08\x07\rb"), "ab");
        // A UTF-8 encoded C1 CSI is dropped; what followed it is then harmless text.
        assert_eq!(text("a\u{9b}2Jb".as_bytes()), "a2Jb");
        assert_eq!(text(b"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "alink");
    }

    #[test]
    fn bidi_and_invisible_format_characters_are_dropped() {
        // Trojan-source style spoofing: an override that reverses what follows, isolates, and
        // zero-width characters that hide a difference between two names.
        assert_eq!(text("a\u{202e}txet desrever".as_bytes()), "atxet desrever");
        for c in [
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{202a}', '\u{202d}',
        ] {
            assert_eq!(
                text(format!("x{c}y").as_bytes()),
                "xy",
                "U+{:04X}",
                c as u32
            );
        }
        for c in 0x200B..=0x200F {
            let c = char::from_u32(c).unwrap();
            assert_eq!(
                text(format!("x{c}y").as_bytes()),
                "xy",
                "U+{:04X}",
                c as u32
            );
        }
        // Other Cf: BOM, word joiner, soft hyphen, Arabic letter mark, tag characters.
        assert_eq!(
            text("\u{feff}a\u{2060}b\u{ad}c\u{61c}d\u{e0041}e".as_bytes()),
            "abcde"
        );
        assert_eq!(sanitize_plain("web\u{200b}-1"), "web-1");
        // Visible text of every script stays.
        assert_eq!(text("é ü 日本 ‐ – — ‖ 𝔸".as_bytes()), "é ü 日本 ‐ – — ‖ 𝔸");
    }

    #[test]
    fn short_texts_are_cut_and_say_so() {
        assert_eq!(sanitize_short("a\u{9b}b", 10), "ab");
        let long = "A".repeat(5000);
        let cut = sanitize_short(&format!("\u{9b}{long}"), 200);
        assert!(cut.starts_with(&"A".repeat(200)), "{cut}");
        assert!(cut.ends_with("… (4800 more characters)"), "{cut}");
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(
            sanitize_lines("device:\n  id: a\u{9b}2J\r\n  name: \x1b]0;t\x07b\u{202e}c"),
            "device:\n  id: a2J\n  name: bc"
        );
    }

    #[test]
    fn sgr_becomes_styles() {
        let s = sanitize(b"\x1b[31mred\x1b[0m plain \x1b[1;38;5;200mb\x1b[m");
        assert_eq!(s.text, "red plain b");
        assert_eq!(s.runs.len(), 2);
        assert_eq!((s.runs[0].start, s.runs[0].end), (0, 3));
        assert_eq!(s.runs[0].style.fg, Some(Color::Indexed(1)));
        assert_eq!(s.runs[1].style.fg, Some(Color::Indexed(200)));
        assert!(s.runs[1].style.add_modifier.contains(Modifier::BOLD));
        let rgb = sanitize(b"\x1b[38;2;1;2;3mx");
        assert_eq!(rgb.runs[0].style.fg, Some(Color::Rgb(1, 2, 3)));
    }

    #[test]
    fn tabs_expand_and_invalid_utf8_is_replaced() {
        assert_eq!(text(b"ab\tc"), "ab      c");
        assert_eq!(text(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(text("é\tx".as_bytes()), "é       x");
    }

    #[test]
    fn splitter_handles_chunks_crlf_and_long_lines() {
        let mut out = Vec::new();
        let mut sp = LineSplitter::new();
        sp.push(b"one\r\ntw", |l| out.push(l.to_vec()));
        sp.push(b"o\n\nthree", |l| out.push(l.to_vec()));
        sp.finish(|l| out.push(l.to_vec()));
        assert_eq!(
            out,
            vec![
                b"one".to_vec(),
                b"two".to_vec(),
                b"".to_vec(),
                b"three".to_vec()
            ]
        );

        let mut n = 0;
        let big = vec![b'x'; LineSplitter::MAX_LINE * 2 + 10];
        sp.push(&big, |l| {
            assert!(l.len() <= LineSplitter::MAX_LINE);
            n += 1
        });
        assert_eq!(n, 2, "memory stays bounded without a newline");
    }
}
