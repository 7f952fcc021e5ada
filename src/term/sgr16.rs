//! The console's output on a terminal with 16 colours or fewer: crossterm writes every colour,
//! even the 16 ANSI ones, as `ESC[38;5;Nm` (and `ESC[59m` to reset the underline colour), which
//! `TERM=linux`, `vt100` and many serial consoles do not understand. This writer rewrites them
//! on the way out to the classic SGR codes 30–37/90–97 (40–47/100–107 for backgrounds) and drops
//! 59, byte stream in, byte stream out, whatever the write boundaries.

use std::io::{self, Write};

/// A control sequence longer than this is not one we rewrite: passed through as it is.
const MAX_SEQ: usize = 32;

pub struct Sgr16<W: Write> {
    inner: W,
    /// Rewrite (16 colours or fewer) or pass everything through (256 and true colour).
    enabled: bool,
    /// An escape sequence begun in one write and not ended yet.
    pending: Vec<u8>,
}

impl<W: Write> Sgr16<W> {
    pub fn new(inner: W, enabled: bool) -> Self {
        Sgr16 {
            inner,
            enabled,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Sgr16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.enabled {
            return self.inner.write(buf);
        }
        let mut out = Vec::with_capacity(buf.len());
        for &b in buf {
            if self.pending.is_empty() {
                if b == 0x1b {
                    self.pending.push(b);
                } else {
                    out.push(b);
                }
                continue;
            }
            self.pending.push(b);
            let seq = &self.pending;
            let done = match seq.len() {
                2 => seq[1] != b'[', // not a CSI: pass it on
                _ => (0x40..=0x7e).contains(&b) || seq.len() >= MAX_SEQ,
            };
            if done {
                rewrite(&self.pending, &mut out);
                self.pending.clear();
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A partial sequence stays pending: its end comes with the next write.
        self.inner.flush()
    }
}

/// One complete sequence: a CSI `…m` (SGR) gets its colour parameters rewritten, anything else
/// passes unchanged.
fn rewrite(seq: &[u8], out: &mut Vec<u8>) {
    let Some(params) = seq
        .strip_prefix(b"\x1b[")
        .and_then(|s| s.strip_suffix(b"m"))
        .and_then(|p| std::str::from_utf8(p).ok())
    else {
        out.extend_from_slice(seq);
        return;
    };
    let parts: Vec<&str> = params.split(';').collect();
    let mut codes: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        match (parts[i], parts.get(i + 1), parts.get(i + 2)) {
            (kind @ ("38" | "48"), Some(&"5"), Some(n)) => {
                match n.parse::<u8>() {
                    Ok(n) if n < 16 => {
                        let base = match (kind, n < 8) {
                            ("38", true) => 30,
                            ("38", false) => 90 - 8,
                            (_, true) => 40,
                            (_, false) => 100 - 8,
                        };
                        codes.push((base + u16::from(n)).to_string());
                    }
                    // A 256-colour index on a 16-colour terminal: the theme never sends one
                    // there (it downgrades first); keep it rather than guess.
                    _ => codes.extend([kind, "5", n].map(str::to_string)),
                }
                i += 3;
            }
            ("59", _, _) => i += 1,
            (p, _, _) => {
                codes.push(p.to_string());
                i += 1;
            }
        }
    }
    if codes.is_empty() {
        return; // only `59`: nothing to send
    }
    out.extend_from_slice(b"\x1b[");
    out.extend_from_slice(codes.join(";").as_bytes());
    out.push(b'm');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]], enabled: bool) -> Vec<u8> {
        let mut w = Sgr16::new(Vec::new(), enabled);
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.flush().unwrap();
        w.inner
    }

    #[test]
    fn ansi_colours_become_classic_sgr_and_59_is_dropped() {
        let out = through(
            &[b"a\x1b[38;5;2mok\x1b[48;5;9m\x1b[59m\x1b[39m\x1b[1;38;5;15mX"],
            true,
        );
        assert_eq!(out, b"a\x1b[32mok\x1b[101m\x1b[39m\x1b[1;97mX");
    }

    #[test]
    fn sequences_split_across_writes_and_other_sequences_pass() {
        let out = through(
            &[
                b"\x1b[38;",
                b"5;",
                b"1",
                b"m",
                b"\x1b[2J\x1b[5;10H\x1b7",
                b"\x1b[38;5;200m",
            ],
            true,
        );
        assert_eq!(out, b"\x1b[31m\x1b[2J\x1b[5;10H\x1b7\x1b[38;5;200m");
    }

    #[test]
    fn off_passes_everything() {
        let raw: &[u8] = b"\x1b[38;5;2m\x1b[59m";
        assert_eq!(through(&[raw], false), raw);
    }

    /// What crossterm really writes for the 16 named colours goes out as SGR 30–37/90–97.
    #[test]
    fn crossterm_named_colours_come_out_classic() {
        use crossterm::style::{Color, SetBackgroundColor, SetForegroundColor};
        let mut w = Sgr16::new(Vec::new(), true);
        crossterm::queue!(
            w,
            SetForegroundColor(Color::DarkGreen),
            SetForegroundColor(Color::Red),
            SetBackgroundColor(Color::DarkGrey)
        )
        .unwrap();
        assert_eq!(w.inner, b"\x1b[32m\x1b[91m\x1b[100m");
    }
}
