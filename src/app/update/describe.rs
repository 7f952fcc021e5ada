//! The describe view: opening it (run results describe themselves) and scrolling.

use super::nav::refresh_top;
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::*;
use crate::model::ResourceKind;

pub(super) fn open_describe(
    state: &mut AppState,
    row: &crate::model::Resource,
    fx: &mut Vec<Effect>,
) {
    if row.key.kind == ResourceKind::RunResult {
        // Results live only in the console: describe them from the row itself.
        let doc = serde_json::json!({
            "device": row.name,
            "source": row.key.source.as_str(),
            "command": row.labels.get("command"),
            "state": row.cells.get(1),
            "exit": row.cells.get(2),
            "seconds": row.cells.get(3),
            "output": row.labels.get("output"),
        });
        state.stack.push(View::Describe(DescribeView {
            title: format!("{} result", row.name),
            key: row.key.clone(),
            text: Some(serde_saphyr::to_string(&doc).map_err(|e| e.to_string())),
            scroll: 0,
        }));
        return;
    }
    state.stack.push(View::Describe(DescribeView {
        title: row.name.clone(),
        key: row.key.clone(),
        text: None,
        scroll: 0,
    }));
    fx.push(Effect::Describe(row.key.clone()));
}

pub(super) fn on_describe_action(state: &mut AppState, action: Action) {
    let View::Describe(d) = state.top_mut() else {
        return;
    };
    match action {
        Action::Back => {
            state.stack.pop();
            refresh_top(state);
        }
        Action::Up => d.scroll = d.scroll.saturating_sub(1),
        Action::Down => d.scroll = d.scroll.saturating_add(1),
        Action::PageUp => d.scroll = d.scroll.saturating_sub(20),
        Action::PageDown => d.scroll = d.scroll.saturating_add(20),
        Action::Top => d.scroll = 0,
        Action::Bottom => {
            let lines = d
                .text
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|t| t.lines().count())
                .unwrap_or(0);
            d.scroll = lines.saturating_sub(10).min(u16::MAX as usize) as u16;
        }
        _ => {}
    }
}
