//! Terminal setup/restore, the shell hand-off and sanitising of remote text.

pub mod ascii;
pub mod handoff;
pub mod json;
pub mod osc52;
pub mod sanitize;
pub mod sgr16;
pub mod yaml;

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ascii::Ascii;
use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use sgr16::Sgr16;

/// What the console writes through: colours rewritten for 16-colour terminals, then characters
/// for non-UTF-8 locales, then counted (frame pacing, src/app/pace.rs).
type Output = Sgr16<Ascii<Counted<Stdout>>>;

/// Bytes the console has written to the terminal since it started.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Bytes written to the terminal so far: the difference around a draw is that frame's size.
pub fn bytes_written() -> u64 {
    WRITTEN.load(Ordering::Relaxed)
}

/// A writer that counts what it writes (see [`bytes_written`]).
pub struct Counted<W: Write>(W);

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        WRITTEN.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The console's terminal. Derefs to the ratatui `Terminal`; see [`Tui`]'s `Drop` for why it
/// is wrapped.
pub struct Tui(std::mem::ManuallyDrop<Terminal<CrosstermBackend<Output>>>);

impl std::ops::Deref for Tui {
    type Target = Terminal<CrosstermBackend<Output>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Tui {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Tui {
    /// ratatui's own `Drop` shows the cursor and, when that fails, reports it with `eprintln!`,
    /// which panics when stderr is a terminal that hung up ("failed printing to stderr"). So
    /// the cursor is shown here with the error ignored, and ratatui's `Drop` never runs: the
    /// terminal is dropped once, at exit, and its buffers go with the process.
    fn drop(&mut self) {
        let _ = self.0.show_cursor();
    }
}

/// Copy `text` to the clipboard (OSC 52) through the console's terminal writer: the same
/// colour/ASCII/counting stack as the frames, between two frames (see [`osc52`]).
pub fn copy_to_clipboard(t: &mut Tui, text: &str) -> io::Result<()> {
    osc52::copy(t.backend_mut(), text)
}

/// Whether we changed the terminal, so restore is idempotent and a panic in a subcommand that
/// never touched the terminal does not spray escape codes.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Raw mode + alternate screen, hidden cursor. Installs the panic hook on first use.
/// `classic_sgr`: the terminal has 16 colours or fewer (see [`sgr16`]); `ascii`: the locale is
/// not UTF-8 (see [`ascii`]).
pub fn enter(classic_sgr: bool, ascii: bool) -> io::Result<Tui> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, Hide)?;
    let mut t = Tui(std::mem::ManuallyDrop::new(Terminal::new(
        CrosstermBackend::new(Sgr16::new(
            Ascii::new(Counted(io::stdout()), ascii),
            classic_sgr,
        )),
    )?));
    redraw_all(&mut t)?;
    Ok(t)
}

/// Put the terminal back as the shell expects it. Safe to call twice, and when the tty is gone
/// (errors are ignored: after a hang-up there is nobody to show them to).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
        let _ = io::stdout().flush();
    }
}

/// Leave the alternate screen but stay raw: the hand-off to a remote shell.
pub fn suspend() -> io::Result<()> {
    execute!(io::stdout(), LeaveAlternateScreen, Show)
}

/// Back from a hand-off: alternate screen again, full redraw.
pub fn resume(t: &mut Tui) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, Hide)?;
    redraw_all(t)
}

/// Clear the screen and make the next draw repaint every cell. Not `Terminal::clear`: it asks
/// the terminal for the cursor position (a DSR round trip), which fails or hangs when the tty is
/// slow to answer, e.g. right after a shell hand-off or over a laggy SSH link.
fn redraw_all(t: &mut Tui) -> io::Result<()> {
    let area = t.size()?.into();
    execute!(
        io::stdout(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    t.resize(area)
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first so the message is readable and the user's shell is usable.
            restore();
            tracing::error!("panic: {info}");
            default(info);
        }));
    });
}

/// RAII guard: restores the terminal however the TUI exits (return, `?`, panic unwinding).
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
