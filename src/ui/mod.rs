//! Rendering. A function of `AppState` (it only records viewport facts — table offset and page
//! height — that depend on the terminal size), so every view is snapshot-testable.

mod chrome;
pub mod columns;
mod describe;
mod dialog;
pub mod help;
mod logs;
pub mod table;
mod text;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::state::{AppState, Mode, View};
use crate::config::Role;

/// Below this size the layout cannot hold a table's header, a row and the footer: a sentence
/// says so instead of a broken layout (keys keep working: `q` still quits).
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;

pub fn render(frame: &mut Frame, state: &mut AppState) {
    let area = frame.area();
    let theme = state.settings.theme.clone();
    frame.render_widget(Block::default().style(theme.style(Role::Base)), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}x{}, needs {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge it, or q to quit.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.style(Role::Base))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }

    let show_stats = matches!(state.top(), View::Table(_)) && state.stats.is_some();
    let [header, crumbs, body, stats, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(if show_stats { 1 } else { 0 }),
        Constraint::Length(1),
    ])
    .areas(area);

    chrome::header(frame, header, state, &theme);
    // Sources whose first list of the top table's kind has not arrived (computed before the
    // stack is borrowed mutably).
    let first_lists = match state.top() {
        View::Table(t) => state.first_list_notes(t.kind, std::time::Instant::now()),
        _ => Vec::new(),
    };
    // A kind no configured source lists says how to configure one.
    let no_source = match state.top() {
        View::Table(t) => crate::app::no_source::note(state, t.kind),
        _ => None,
    };
    let AppState {
        stack,
        unavailable,
        incomplete,
        ..
    } = state;
    // The view stack is never empty (AppState::top); nothing to draw if it were.
    let Some(top) = stack.last_mut() else {
        return;
    };
    match top {
        View::Table(t) => {
            // Sources that cannot list this kind say why in place of rows.
            let mut notes: Vec<String> = unavailable
                .iter()
                .filter(|((_, k), _)| *k == t.kind)
                .map(|((src, _), why)| format!("{src}: {why}"))
                .collect();
            notes.sort();
            notes.extend(no_source);
            // Lists that are not complete say so above their rows.
            let mut warnings: Vec<table::Warning> = incomplete
                .iter()
                .filter(|((_, k), _)| *k == t.kind)
                .map(|((src, _), n)| table::Warning {
                    text: format!("{src}: {}", n.text),
                    loading: n.loading,
                })
                .chain(first_lists.iter().map(|(src, n)| table::Warning {
                    text: format!("{src}: {}", n.text),
                    loading: n.loading,
                }))
                .collect();
            warnings.sort_by(|a, b| a.text.cmp(&b.text));
            table::render(frame, body, t, &notes, &warnings, &theme)
        }
        View::Logs(l) => logs::render(frame, body, l, &theme),
        View::Describe(d) => describe::render(frame, body, d, &theme),
    }
    // After the body: the table records which columns were left out ("◂ 3 more ▸").
    chrome::breadcrumbs(frame, crumbs, state, &theme);
    if show_stats && let Some(s) = &state.stats {
        chrome::stats(frame, stats, s, &theme);
    }
    chrome::footer(frame, footer, state, &theme);

    match &state.mode {
        Mode::Help { scroll } => {
            // Clamped to the last page, so End and PageDown stop there (a viewport fact).
            let scroll = help::render(frame, area, state, *scroll, &theme);
            state.mode = Mode::Help { scroll };
        }
        Mode::Confirm(c) => dialog::confirm(frame, area, c, &theme),
        Mode::Prompt(p) => dialog::prompt(frame, area, p, &theme),
        Mode::Pick(p) => dialog::picker(frame, area, p, &theme),
        Mode::Secret(p) => dialog::secret(frame, area, p, &theme),
        Mode::ConfirmRun(c) => dialog::confirm_run(frame, area, c, &theme),
        Mode::ConfirmQuit(work) => dialog::confirm_quit(frame, area, work, &theme),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::config::Settings;

    fn screen(w: u16, h: u16) -> String {
        let mut state = AppState::new(Settings::default(), false);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| render(f, &mut state)).unwrap();
        let buf = term.backend().buffer().clone();
        let text: String = buf.content.iter().map(|c| c.symbol()).collect();
        // Rows joined, wrapped words rejoined.
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_terminal_below_the_minimum_says_so_instead_of_a_broken_layout() {
        let small = screen(30, 6);
        assert!(
            small.contains("terminal too small: 30x6, needs 40x8"),
            "{small}"
        );
        let fits = screen(MIN_WIDTH, MIN_HEIGHT);
        assert!(!fits.contains("too small"), "{fits}");
    }
}
