//! The console's output on a terminal whose locale is not UTF-8 (`LANG=C`, a serial console):
//! every character outside ASCII — borders, arrows, status dots, gauges, sparklines, ellipses,
//! and remote text too — becomes ASCII on the way out, as many characters as it takes cells, so
//! the layout ratatui computed stays where it was. One place for the whole UI: no widget needs
//! to know.

use std::io::{self, Write};

use unicode_width::UnicodeWidthChar;

/// Whether the locale says UTF-8: the first of LC_ALL, LC_CTYPE, LANG that is set and not
/// empty, as setlocale(3) reads them. None set means the C locale: ASCII.
pub fn utf8_locale(get: impl Fn(&str) -> Option<String>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| get(k).filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// The ASCII stand-in of a character that takes one cell.
fn fallback(c: char) -> char {
    match c {
        // Box drawing: lines and corners.
        '─' | '━' | '═' | '╌' | '┄' | '┈' => '-',
        '│' | '┃' | '║' | '╎' | '┆' | '┊' | '▏' | '▕' => '|',
        '\u{2500}'..='\u{257f}' => '+',
        // Bars, from low to full (sparklines, gauges, the cursor block).
        '▁' | '▂' => '_',
        '▃' | '▄' => '.',
        '▅' | '▆' => '=',
        '▇' | '█' | '▉' | '▊' | '▋' | '▌' | '▍' | '▎' => '#',
        '░' | '▒' | '▓' => ':',
        '↑' | '▲' | '^' => '^',
        '↓' | '▼' => 'v',
        '←' | '◀' | '◂' | '‹' | '«' => '<',
        '→' | '▶' | '▸' | '›' | '»' => '>',
        '●' | '•' | '◆' | '■' | '★' => '*',
        '○' | '◇' | '□' | '☆' => 'o',
        '✖' | '✗' | '✘' | '×' => 'x',
        '✔' | '✓' => '+',
        '⚠' => '!',
        '…' => '.',
        '—' | '–' | '‐' | '−' => '-',
        '‘' | '’' | '′' => '\'',
        '“' | '”' | '″' => '"',
        '\u{a0}' => ' ',
        _ => '?',
    }
}

pub struct Ascii<W: Write> {
    inner: W,
    enabled: bool,
    /// A UTF-8 sequence begun in one write and not ended yet.
    pending: Vec<u8>,
}

impl<W: Write> Ascii<W> {
    pub fn new(inner: W, enabled: bool) -> Self {
        Ascii {
            inner,
            enabled,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Ascii<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.enabled || (self.pending.is_empty() && buf.is_ascii()) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    push_ascii(s, &mut out);
                    rest = &[];
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // Valid up to here by construction.
                    push_ascii(std::str::from_utf8(good).unwrap_or_default(), &mut out);
                    match e.error_len() {
                        // Cut off at the end of this write: keep it for the next.
                        None => {
                            self.pending = bad.to_vec();
                            rest = &[];
                        }
                        Some(n) => {
                            out.push(b'?');
                            rest = &bad[n..];
                        }
                    }
                }
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn push_ascii(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        // As many cells as the character takes, so what follows stays in its column; a
        // zero-width character (a combining mark) takes none.
        let cells = c.width().unwrap_or(0);
        if cells > 0 {
            out.push(fallback(c) as u8);
            out.extend(std::iter::repeat_n(b'?', cells - 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]]) -> String {
        let mut w = Ascii::new(Vec::new(), true);
        for c in chunks {
            w.write_all(c).unwrap();
        }
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn the_chrome_becomes_ascii_cell_for_cell() {
        assert_eq!(
            through(&["┌─┐│● up ○ connecting… ✖ ↑↓ ▁▄█ › ▶ • —└┘ ◂ 3 more ▸".as_bytes()]),
            "+-+|* up o connecting. x ^v _.# > > * -++ < 3 more >"
        );
        // Wide characters keep their two cells; escape sequences pass.
        assert_eq!(
            through(&["\x1b[1m日本\x1b[0m".as_bytes()]),
            "\x1b[1m????\x1b[0m"
        );
    }

    #[test]
    fn characters_split_across_writes_and_invalid_bytes() {
        let bytes = "a●b".as_bytes();
        assert_eq!(through(&[&bytes[..2], &bytes[2..]]), "a*b");
        assert_eq!(through(&[b"x\xffy"]), "x?y");
    }

    #[test]
    fn the_locale_decides() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            utf8_locale(move |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert!(env(&[("LANG", "en_US.UTF-8")]));
        assert!(env(&[("LC_CTYPE", "C.utf8"), ("LANG", "C")]));
        assert!(!env(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")]));
        assert!(!env(&[("LANG", "C")]));
        assert!(!env(&[]));
        assert!(env(&[("LC_ALL", ""), ("LANG", "de_DE.UTF-8")]));
    }
}
