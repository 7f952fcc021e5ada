//! The console drawn the way the binary draws it — ratatui's crossterm backend writing through
//! the console's own output filters (`term::sgr16` for 16-colour terminals, `term::ascii` for
//! non-UTF-8 locales) — and the bytes read back by a small terminal (`vte`): what a person on
//! that terminal would see, for snapshots ([`render`]).
//!
//! Only what crossterm's backend writes is understood: cursor moves (`CSI row;col H`), SGR
//! colours and attributes, printable text; other sequences (hide cursor) are ignored.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use fleetdeck::app::AppState;
use fleetdeck::config::ColorSupport;
use fleetdeck::term::{ascii::Ascii, sgr16::Sgr16};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// How the terminal is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `LANG=C`, `TERM=linux`: ASCII characters, classic SGR colours 30–37/90–97.
    Ascii16,
    /// A UTF-8 locale and `COLORTERM=truecolor`.
    Utf8TrueColor,
}

/// The bytes the console writes, shared with the test.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draw `st` at `w`×`h` in `mode`; the screen as text, one quoted line per row. In
/// [`Mode::Ascii16`] a second grid follows with each cell's colours (see [`colour_cell`]), and
/// the output is checked to be ASCII with classic colours only.
pub fn render(st: &mut AppState, w: u16, h: u16, mode: Mode) -> String {
    let support = match mode {
        Mode::Ascii16 => ColorSupport::Ansi16,
        Mode::Utf8TrueColor => ColorSupport::TrueColor,
    };
    st.settings.theme = st.settings.theme.resolve(support);
    let classic = mode == Mode::Ascii16;
    let sink = Sink::default();
    let out = Sgr16::new(Ascii::new(sink.clone(), classic), classic);
    let mut term = Terminal::with_options(
        CrosstermBackend::new(out),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .expect("terminal");
    term.draw(|f| fleetdeck::ui::render(f, st)).expect("draw");
    drop(term);
    let bytes = sink.0.borrow().clone();
    let mut screen = Screen::new(w, h);
    let mut parser = vte::Parser::new();
    parser.advance(&mut screen, &bytes);
    if classic {
        assert!(bytes.is_ascii(), "non-ASCII bytes on an ASCII terminal");
        assert!(
            screen.modern_sgr.is_empty(),
            "colours a 16-colour terminal does not know: {:?}",
            screen.modern_sgr
        );
    } else {
        assert!(screen.truecolor, "no true colour written");
    }
    let mut text = String::new();
    for row in &screen.cells {
        let line: String = row.iter().map(|c| c.ch).collect();
        text.push_str(&format!("{line:?}\n"));
    }
    if classic {
        text.push_str("colours:\n");
        for row in &screen.cells {
            let line: String = row.iter().map(colour_cell).collect();
            text.push_str(&format!("{line:?}\n"));
        }
    }
    text
}

/// A cell's colours in one character: the foreground's 16-colour index in hex (`0`–`f`), `.`
/// for the terminal's default; a cell with a background colour shows the background instead,
/// as a letter (`A` = black … `P` = bright white); `#` is a reversed cell (a selection).
fn colour_cell(c: &Cell) -> char {
    if c.reversed {
        return '#';
    }
    match (c.bg, c.fg) {
        (Some(bg), _) => char::from(b'A' + bg),
        (None, Some(fg)) => char::from_digit(u32::from(fg), 16).unwrap_or('?'),
        (None, None) => '.',
    }
}

#[derive(Clone, Copy)]
struct Cell {
    ch: char,
    fg: Option<u8>,
    bg: Option<u8>,
    reversed: bool,
}

struct Screen {
    cells: Vec<Vec<Cell>>,
    row: usize,
    col: usize,
    fg: Option<u8>,
    bg: Option<u8>,
    reversed: bool,
    /// 256-colour or true-colour SGRs seen (a 16-colour terminal would show garbage).
    modern_sgr: Vec<String>,
    truecolor: bool,
}

impl Screen {
    fn new(w: u16, h: u16) -> Screen {
        let blank = Cell {
            ch: ' ',
            fg: None,
            bg: None,
            reversed: false,
        };
        Screen {
            cells: vec![vec![blank; usize::from(w)]; usize::from(h)],
            row: 0,
            col: 0,
            fg: None,
            bg: None,
            reversed: false,
            modern_sgr: Vec::new(),
            truecolor: false,
        }
    }

    fn sgr(&mut self, params: &[u16]) {
        let mut i = 0;
        if params.is_empty() {
            (self.fg, self.bg, self.reversed) = (None, None, false);
        }
        while i < params.len() {
            match params[i] {
                0 => (self.fg, self.bg, self.reversed) = (None, None, false),
                7 => self.reversed = true,
                27 => self.reversed = false,
                30..=37 => self.fg = Some((params[i] - 30) as u8),
                90..=97 => self.fg = Some((params[i] - 90 + 8) as u8),
                39 => self.fg = None,
                40..=47 => self.bg = Some((params[i] - 40) as u8),
                100..=107 => self.bg = Some((params[i] - 100 + 8) as u8),
                49 => self.bg = None,
                38 | 48 | 58 => {
                    let (n, what) = match params.get(i + 1) {
                        Some(5) => (3, "256"),
                        Some(2) => (5, "rgb"),
                        _ => (1, "?"),
                    };
                    if what == "rgb" {
                        self.truecolor = true;
                    }
                    self.modern_sgr.push(format!("{}:{what}", params[i]));
                    // What a 256/true-colour terminal would show is not tracked here.
                    if params[i] == 38 {
                        self.fg = None;
                    } else if params[i] == 48 {
                        self.bg = None;
                    }
                    i += n;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl vte::Perform for Screen {
    fn print(&mut self, c: char) {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if let Some(cell) = self
            .cells
            .get_mut(self.row)
            .and_then(|r| r.get_mut(self.col))
        {
            *cell = Cell {
                ch: c,
                fg: self.fg,
                bg: self.bg,
                reversed: self.reversed,
            };
        }
        self.col += w;
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        _intermediates: &[u8],
        _ignore: bool,
        action: char,
    ) {
        let flat: Vec<u16> = params.iter().flat_map(|p| p.iter().copied()).collect();
        match action {
            'H' => {
                self.row = usize::from(flat.first().copied().unwrap_or(1).max(1) - 1);
                self.col = usize::from(flat.get(1).copied().unwrap_or(1).max(1) - 1);
            }
            'm' => self.sgr(&flat),
            _ => {}
        }
    }
}
