//! `y`: copy what the view shows to the clipboard through the terminal (OSC 52, written by the
//! runtime through the terminal writer: `term::osc52`). Tables copy the selected row's name, or
//! the cell of the column the table is scrolled to (→); logs the current line (the search
//! match, else the top line shown, else the newest); describe its whole text.

use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{AppState, LogView, TableView, View};

/// The copy key: an `Effect::Copy` and a toast saying what was copied. False for other actions.
pub(super) fn on_copy_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) -> bool {
    if action != Action::Copy {
        return false;
    }
    let copied = match state.top() {
        View::Table(t) => table_text(t),
        View::Logs(l) => log_line(l).map(|text| ("log line".to_string(), text)),
        View::Describe(d) => match &d.text {
            Some(Ok(text)) => Some((format!("describe of {}", d.title), text.clone())),
            _ => None,
        },
    };
    match copied {
        Some((what, text)) => {
            let shown = preview(&text);
            let toast = if what.starts_with("describe") {
                format!("copied {what}: {} lines (OSC 52)", text.lines().count())
            } else {
                format!("copied {what} {shown} (OSC 52)")
            };
            let cut = text.len() > crate::term::osc52::MAX_TEXT;
            fx.push(Effect::Copy(text));
            if cut {
                state.toast(
                    format!(
                        "{toast}: cut to the first {} KiB",
                        crate::term::osc52::MAX_TEXT / 1024
                    ),
                    true,
                );
            } else {
                state.toast(toast, false);
            }
        }
        None => state.toast("nothing to copy here", true),
    }
    true
}

/// The name, or with the table scrolled right (→) the cell of the first column scrolled to:
/// ("name", "web-1") or ("status", "Up 3 minutes").
fn table_text(t: &TableView) -> Option<(String, String)> {
    let row = t.selected_row()?;
    if t.hscroll == 0 {
        return Some(("name".into(), row.name.clone()));
    }
    let columns = t.columns();
    let pin = crate::ui::columns::pinned(&columns);
    let others: Vec<usize> = (0..columns.len()).filter(|&i| i != pin).collect();
    let i = *others.get((t.hscroll - 1).min(others.len().checked_sub(1)?))?;
    let cell = row.cell_or_source(i, jiff::Timestamp::now()).into_owned();
    Some((columns[i].name.to_lowercase(), cell))
}

/// The current line: the search match, else the top line shown when scrolled, else the newest.
fn log_line(l: &LogView) -> Option<String> {
    let index = match l.current_match {
        Some(i) => i,
        None => {
            let shown = l.displayed();
            if l.follow {
                *shown.last()?
            } else {
                *shown.get(l.top).or(shown.last())?
            }
        }
    };
    l.buffer.get(index).map(|line| line.text.to_string())
}

/// At most 40 characters of `text`'s first line, for the toast.
fn preview(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    if first.chars().count() > 40 {
        format!("{}…", first.chars().take(39).collect::<String>())
    } else {
        first.to_string()
    }
}
