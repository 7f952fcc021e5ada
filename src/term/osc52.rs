//! Copy to the clipboard through the terminal: `ESC ] 52 ; c ; BASE64 BEL` (OSC 52), which
//! works over SSH, in most terminal emulators (xterm with `allowWindowOps`, kitty, WezTerm,
//! iTerm2, foot, Windows Terminal, Alacritty) and inside tmux when tmux has
//! `set -g set-clipboard on` (tmux then sets its own buffer and passes the copy on to the outer
//! terminal). It is sent plain, not wrapped in tmux's DCS passthrough: with `set-clipboard on`
//! tmux understands it itself, and a wrapped copy would bypass tmux's buffer.
//!
//! The sequence goes through the console's terminal writer (the same stack the frames use), so
//! it is paced, counted and never interleaved with half a frame.

use std::io::{self, Write};

use base64::Engine;

/// The largest text sent (bytes): terminals drop longer copies (xterm's default limit, tmux's
/// and many others are around 100 KB of base64); longer text is cut at a character boundary.
pub const MAX_TEXT: usize = 74 * 1024;

/// The bytes that copy `text`: `ESC ] 52 ; c ; BASE64 BEL`.
pub fn sequence(text: &str) -> Vec<u8> {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[..end]);
    let mut out = Vec::with_capacity(encoded.len() + 8);
    out.extend_from_slice(b"\x1b]52;c;");
    out.extend_from_slice(encoded.as_bytes());
    out.push(0x07);
    out
}

/// Write the copy of `text` to `w` and flush it.
pub fn copy<W: Write>(w: &mut W, text: &str) -> io::Result<()> {
    w.write_all(&sequence(text))?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_bytes() {
        assert_eq!(sequence("web-1"), b"\x1b]52;c;d2ViLTE=\x07".to_vec());
        assert_eq!(sequence(""), b"\x1b]52;c;\x07".to_vec());
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_TEXT);
        let seq = sequence(&text);
        let b64 = &seq[7..seq.len() - 1];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert!(decoded.len() <= MAX_TEXT);
        assert!(std::str::from_utf8(&decoded).is_ok());
    }
}

#[cfg(test)]
mod through_the_writer {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::super::{Counted, ascii::Ascii, sgr16::Sgr16};
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The console's writer stack, with every rewrite on (16 colours, ASCII): the copy comes out
    /// byte for byte as `osc52::sequence` made it.
    #[test]
    fn the_terminal_writer_passes_the_copy_unchanged() {
        for (classic, ascii) in [(true, true), (false, false), (true, false)] {
            let out = Shared::default();
            let mut w = Sgr16::new(Ascii::new(Counted(out.clone()), ascii), classic);
            copy(&mut w, "gw-01 ✓ naïve").unwrap();
            assert_eq!(
                *out.0.borrow(),
                b"\x1b]52;c;Z3ctMDEg4pyTIG5hw692ZQ==\x07".to_vec(),
                "classic {classic}, ascii {ascii}"
            );
        }
    }
}
