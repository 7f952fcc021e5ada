//! Everything a key can do. The keymap maps keys to these by their snake_case names, and the
//! help screen is generated from the active keymap plus `Action::description`.

use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($($variant:ident => $name:literal, $desc:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Action {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in keymap files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// One line for the help screen.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $desc,)* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    // global
    Quit => "quit", "Quit fleetdeck";
    Help => "help", "Show the keys of this view";
    Command => "command", "Command bar (:containers, :projects, ...)";
    Back => "back", "Back / close / clear filter";
    PreviousView => "previous_view", "Previous view (toggles, like k9s `-`)";
    HistoryBack => "history_back", "Back through the views opened with :kind";
    HistoryForward => "history_forward", "Forward through the views opened with :kind";
    // movement (tables, logs, describe, help)
    Up => "up", "Move up";
    Down => "down", "Move down";
    PageUp => "page_up", "Page up";
    PageDown => "page_down", "Page down";
    Top => "top", "Go to the top";
    Bottom => "bottom", "Go to the bottom";
    Left => "left", "Scroll left";
    Right => "right", "Scroll right";
    // table
    Enter => "enter", "Open / drill down";
    Filter => "filter", "Filter rows (/re: for a regex)";
    SortNext => "sort_next", "Sort by the next column";
    SortPrev => "sort_prev", "Sort by the previous column";
    SortReverse => "sort_reverse", "Reverse the sort order";
    Logs => "logs", "Logs of the selection";
    Shell => "shell", "Shell into the selection";
    Describe => "describe", "Describe the selection (YAML)";
    Copy => "copy", "Copy (OSC 52): the name or cell, the log line, the describe text";
    Start => "start", "Start";
    Stop => "stop", "Stop (confirmed)";
    Restart => "restart", "Restart";
    Kill => "kill", "Kill (confirmed)";
    Remove => "remove", "Remove (confirmed; a stack asks for its name)";
    Scale => "scale", "Scale: set the replica count";
    Redeploy => "redeploy", "Redeploy: restart all tasks (update --force)";
    Rollback => "rollback", "Roll back (service spec / device update)";
    Drain => "drain", "Drain the node";
    PauseNode => "pause_node", "Pause the node or the rollout (nothing new starts)";
    Activate => "activate", "Activate the node / resume the rollout";
    Sandbox => "sandbox", "Shell into one of the device's sandboxes (picker)";
    AcceptHostKey => "accept_host_key", "Trust the device's unknown host key (type its name)";
    AbortDeployment => "abort_deployment", "Abort the deployment or rollout (confirmed)";
    CreateDeployment => "create_deployment", "Deploy an artifact to the Mender device (all shown when filtered)";
    Update => "update", "Update the device(s) over SSH: artifact URL or local file; all shown when filtered";
    Commit => "commit", "Commit the installed update (a rollout: its held devices)";
    ClearFailed => "clear_failed", "Clear the appliance failed flag and restart it";
    Reboot => "reboot", "Reboot the device (confirmed)";
    PortForward => "port_forward", "Forward a local port to a port of the selection";
    CloseForward => "close_forward", "Close the port forward (confirmed)";
    ClearFinished => "clear_finished", "Clear finished rollouts from :updates and the journal (confirmed)";
    // logs
    ToggleFollow => "toggle_follow", "Follow new lines on/off";
    ToggleTimestamps => "toggle_timestamps", "Timestamps on/off";
    ToggleWrap => "toggle_wrap", "Wrap long lines on/off";
    TogglePause => "toggle_pause", "Pause/resume the stream display";
    Search => "search", "Search (highlight matches)";
    SearchNext => "search_next", "Next match";
    SearchPrev => "search_prev", "Previous match";
    ToggleMatchesOnly => "toggle_matches_only", "Show only matching lines on/off";
    Save => "save", "Save the buffer to a file";
    SinceCycle => "since_cycle", "Cycle history: tail N, 1m, 5m, 15m, 1h, all";
    TogglePrevious => "toggle_previous", "Previous (crashed) container's logs on/off";
    // dialogs
    Confirm => "confirm", "Confirm";
    Cancel => "cancel", "Cancel";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(!a.description().is_empty());
        }
    }
}
