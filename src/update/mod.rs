//! Appliance updates (issue #6): the per-device state machine, its persistence, and parsing of
//! the updaters' progress output. The SSH drivers (mender / appliance / custom) and group
//! rollouts build on these pieces.

pub mod progress;
pub mod state;

pub use state::{StateStore, Step, UpdateRecord};
