//! fleetdeck: a keyboard-driven console for containers, clusters and device fleets.

pub mod app;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod fsx;
pub mod logs;
pub mod mem;
pub mod model;
pub mod rollout;
pub mod ssh;
pub mod term;
pub mod timeline;
pub mod triage;
pub mod ui;
