//! What `update` reacts to: terminal events, backend events, ticks and action results.

use crossterm::event::Event;

use crate::backend::BackendEvent;
use crate::model::{ResourceAction, ResourceKey, SourceId};

/// Everything `update` reacts to.
// ActionDone carries two actions (an update request with its skipped devices): a few hundred
// bytes moved once per message, not worth a box on every arm that builds one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Msg {
    Term(Event),
    /// An action not tied to a key (tests, the command bar): dispatched as if its key was pressed.
    Action(crate::app::action::Action),
    Backend(BackendEvent),
    /// A mutating action finished (the audit log already has its result).
    ActionDone {
        key: ResourceKey,
        /// The object's name, as the action's dialog showed it.
        name: String,
        action: ResourceAction,
        result: Result<String, String>,
        /// What the backend offers to do next (asked in a dialog).
        offer: Option<ResourceAction>,
    },
    Described {
        key: ResourceKey,
        result: Result<String, String>,
    },
    /// A shell session ended (or failed to start); the text is shown as a toast.
    ShellDone(Result<String, String>),
    Saved(Result<String, String>),
    /// The runtime replaced source `old` by `new` (may be the same id, with a new scope).
    SourceSwitched {
        old: SourceId,
        new: SourceId,
    },
    /// Time passed: expire toasts, refresh ages.
    Tick,
}
