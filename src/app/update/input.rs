//! Line editing shared by every text input (command bar, filter, search, prompts).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::state::*;

pub(super) enum Edited {
    Open(Input),
    Cancel,
    Submit(String),
}

/// Line editing shared by every input: type, backspace, ctrl-u clears, Enter submits, Esc cancels.
pub(super) fn edit(mut input: Input, key: KeyEvent) -> Edited {
    match key.code {
        KeyCode::Esc => return Edited::Cancel,
        KeyCode::Enter => return Edited::Submit(input.text),
        KeyCode::Backspace => {
            input.text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => input.text.clear(),
        KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            let trimmed = input.text.trim_end().len();
            let cut = input.text[..trimmed].rfind(' ').map(|i| i + 1).unwrap_or(0);
            input.text.truncate(cut);
        }
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            input.text.push(c)
        }
        _ => {}
    }
    Edited::Open(input)
}
