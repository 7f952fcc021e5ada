//! The real `fleetdeck` binary end to end: the console under tmux (`e2e_*`) and the command
//! line (`cli`). One test binary; each former test file is a module, `support` is shared.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod e2e_console;
mod e2e_forward;
mod e2e_guard;
mod e2e_keys;
mod e2e_mender;
mod e2e_swarm;
mod e2e_triage;
