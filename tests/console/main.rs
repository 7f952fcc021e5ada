//! The console without a terminal or an engine: the reducer (`app_*`), every view drawn into a
//! ratatui TestBackend with insta snapshots (`ui_*`), and config, theme and keymap files.
//! One test binary; each former test file is a module, `support` is shared.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]
#[path = "../support/mod.rs"]
mod support;

mod app_fleet;
mod app_forward;
mod app_guard;
mod app_keys;
mod app_mender;
mod app_rollout;
mod app_timeline;
mod app_triage;
mod app_update;
mod config_files;
mod ui_80x24;
mod ui_fleet;
mod ui_mender;
mod ui_snapshots;
